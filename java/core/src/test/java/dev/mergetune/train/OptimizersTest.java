package dev.mergetune.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mergetune.kernels.NativeRuntime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OptimizersTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static float[] values(Tensor t) {
    float[] v = new float[(int) t.numel()];
    t.detach().contiguous().data_ptr_float().get(v);
    return v;
  }

  /** Back-propagates loss = Σ c·p, so that p.grad = c exactly. */
  static void gradIs(Tensor p, float[] c) {
    p.mul(Tensor.create(c)).sum().backward();
  }

  @Test
  void sgdMomentumTwoStepsAndPerGroupLearningRate() {
    float[] a0 = {1.0f, -2.0f};
    float[] b0 = {0.5f};
    float[] ca = {0.3f, 0.1f};
    float[] cb = {-1.0f};
    Tensor a = Tensor.create(a0).set_requires_grad(true);
    Tensor b = Tensor.create(b0).set_requires_grad(true);
    Map<String, List<Tensor>> groups = new LinkedHashMap<>();
    groups.put("a", List.of(a));
    groups.put("b", List.of(b));
    double m = 0.9, wd = 0.01, lrA = 0.1, lrB = 0.05;
    Optimizers.Named opt = Optimizers.sgd(groups, new Optimizers.SgdConfig(lrA, m, wd, false));
    opt.setLearningRate("b", lrB);
    assertEquals(lrA, opt.learningRate("a"), 0);
    assertEquals(lrB, opt.learningRate("b"), 0);

    // PyTorch/LibTorch SGD, dampening 0:  g = grad + wd·p;  buf = g (first step), else buf = m·buf + g;  p −= lr·buf
    double[] pa = {a0[0], a0[1]};
    double[] bufA = new double[2];
    double pb = b0[0];
    double bufB = 0;
    for (int step = 0; step < 2; step++) {
      opt.zeroGrad();
      gradIs(a, ca);
      gradIs(b, cb);
      opt.step();
      for (int i = 0; i < 2; i++) {
        double g = ca[i] + wd * pa[i];
        bufA[i] = step == 0 ? g : m * bufA[i] + g;
        pa[i] -= lrA * bufA[i];
      }
      double g = cb[0] + wd * pb;
      bufB = step == 0 ? g : m * bufB + g;
      pb -= lrB * bufB;
    }
    float[] got = values(a);
    assertEquals(pa[0], got[0], 1e-6);
    assertEquals(pa[1], got[1], 1e-6);
    assertEquals(pb, values(b)[0], 1e-6);
    assertThrows(IllegalArgumentException.class, () -> opt.setLearningRate("c", 1));
  }

  @Test
  void sgdNesterov() {
    Tensor p = Tensor.create(new float[] {2.0f}).set_requires_grad(true);
    Optimizers.Named opt = Optimizers.sgd(Map.of("p", List.of(p)), new Optimizers.SgdConfig(0.1, 0.9, 0, true));
    gradIs(p, new float[] {1.0f});
    opt.step();
    // nesterov: buf = g = 1; update direction g + m·buf = 1.9;  p = 2 − 0.1·1.9
    assertEquals(2 - 0.1 * 1.9, values(p)[0], 1e-6);
  }

  @Test
  void adamWOneStep() {
    float[] p0 = {1.0f, -0.5f, 3.0f};
    float[] c = {0.2f, -0.7f, 1e-3f};
    Tensor p = Tensor.create(p0).set_requires_grad(true);
    double lr = 0.01, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.1;
    Optimizers.Named opt = Optimizers.adamW(Map.of("all", List.of(p)), new Optimizers.AdamWConfig(lr, b1, b2, eps, wd));
    gradIs(p, c);
    opt.step();
    // AdamW, step t = 1:  p ← p·(1 − lr·wd);  m = (1 − β1)·g;  v = (1 − β2)·g²;
    //   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
    float[] got = values(p);
    for (int i = 0; i < 3; i++) {
      double g = c[i];
      double q = p0[i] * (1 - lr * wd);
      double mm = (1 - b1) * g;
      double vv = (1 - b2) * g * g;
      double expected = q - (lr / (1 - b1)) * mm / (Math.sqrt(vv) / Math.sqrt(1 - b2) + eps);
      assertEquals(expected, got[i], 1e-6, "element " + i);
    }
  }

  /**
   * Three steps with changing gradients: unlike the first step (where the bias corrections cancel the betas), later
   * steps tell β1 from β2 — this caught the preset's AdamWOptions.betas() holding the tuple in reverse order.
   */
  @Test
  void adamWThreeStepsAgainstADoubleReference() {
    float[] p0 = {1.0f, -0.5f, 3.0f};
    float[][] grads = {{0.2f, -0.7f, 1e-3f}, {-0.4f, 0.1f, 0.5f}, {0.3f, 0.3f, -0.2f}};
    Tensor p = Tensor.create(p0).set_requires_grad(true);
    double lr = 0.01, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.1;
    Optimizers.Named opt = Optimizers.adamW(Map.of("all", List.of(p)), new Optimizers.AdamWConfig(lr, b1, b2, eps, wd));
    double[] q = {p0[0], p0[1], p0[2]};
    double[] m = new double[3];
    double[] v = new double[3];
    for (int t = 1; t <= 3; t++) {
      opt.zeroGrad();
      gradIs(p, grads[t - 1]);
      opt.step();
      for (int i = 0; i < 3; i++) {
        double g = grads[t - 1][i];
        q[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        q[i] -= (lr / (1 - Math.pow(b1, t))) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps);
      }
    }
    float[] got = values(p);
    for (int i = 0; i < 3; i++) assertEquals(q[i], got[i], 1e-6, "element " + i);
  }

  @Test
  void clipGradNormScalesToMaxNormAndReturnsPreClipNorm() {
    Tensor a = Tensor.create(new float[] {3.0f, 0.0f}).set_requires_grad(true);
    Tensor b = Tensor.create(new float[] {1.0f}).set_requires_grad(true);
    gradIs(a, new float[] {3.0f, 0.0f});
    gradIs(b, new float[] {4.0f});
    double norm = Optimizers.clipGradNorm(List.of(a, b), 1.0);
    assertEquals(5.0, norm, 1e-6);
    double scale = 1.0 / (5.0 + 1e-6);
    assertEquals(3.0 * scale, values(a.grad())[0], 1e-6);
    assertEquals(4.0 * scale, values(b.grad())[0], 1e-6);
    // under the limit: unchanged, norm still reported
    double again = Optimizers.clipGradNorm(List.of(a, b), 10.0);
    assertEquals(1.0, again, 1e-5);
    assertEquals(3.0 * scale, values(a.grad())[0], 1e-7);
  }
}
