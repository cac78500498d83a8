package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.train.Optimizers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Optimizer;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * K2 through the Java API against plain LibTorch: the weight-space value and gradient against autograd of
 * (λ/2)·Σ(w − w1)², the fused SGD / AdamW steps against LibTorch's optimizers stepping on the anchored gradient
 * g + λ(w − w1) over several steps, and the feature-space anchor against autograd of λ(1 − mean cos) and finite
 * differences. Tolerances: 1e-5 relative for fp32 autograd comparisons; the fused steps must stay within 1e-6 of
 * LibTorch's weights relative to max(1, |w|) after every step (they perform the same fp32 operations).
 */
class ZeroShotAnchorTest {
  private static final List<String> NAMES = List.of("proj.weight", "proj.bias", "ln.weight");
  private static final long[][] SHAPES = {{7, 13}, {13}, {4099}};

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static Tensor random(long[] shape, SplittableRandom r, double scale, double offset) {
    long n = 1;
    for (long s : shape) n *= s;
    float[] v = new float[(int) n];
    for (int j = 0; j < v.length; j++) v[j] = (float) (offset + scale * (r.nextDouble() * 2 - 1));
    return Tensor.create(v, shape);
  }

  private static List<Tensor> randomSet(SplittableRandom r, double scale) {
    List<Tensor> t = new ArrayList<>();
    for (long[] s : SHAPES) t.add(random(s, r, scale, 0));
    return t;
  }

  private static List<Tensor> near(List<Tensor> base, SplittableRandom r, double scale) {
    List<Tensor> t = new ArrayList<>();
    for (int i = 0; i < base.size(); i++) t.add(base.get(i).add(random(SHAPES[i], r, scale, 0)));
    return t;
  }

  private static List<Tensor> clones(List<Tensor> ts, boolean requiresGrad) {
    List<Tensor> out = new ArrayList<>();
    for (Tensor t : ts) out.add(t.detach().clone().set_requires_grad(requiresGrad));
    return out;
  }

  static float[] read(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    if (out.length > 0) new FloatPointer(c.data_ptr_float()).capacity(out.length).get(out);
    return out;
  }

  /** Max over elements of |got − want| / (scale + tiny), scale from {@code scales} (per element) or 1. */
  private static double maxScaledError(float[] got, float[] want, float[] scales, double floor) {
    double worst = 0;
    for (int j = 0; j < got.length; j++) {
      double s = Math.max(floor, scales == null ? 1 : Math.abs(scales[j]));
      double e = Math.abs((double) got[j] - want[j]) / s;
      worst = Math.max(worst, Double.isNaN(e) ? Double.POSITIVE_INFINITY : e);
    }
    return worst;
  }

  private static void setGrad(Tensor p, Tensor g) {
    Tensor old = p.grad();
    if (old != null && !old.isNull() && old.defined()) old.zero_();
    p.mul(g.detach()).sum().backward();  // d/dp Σ p·g = g exactly (0 + g when accumulated)
  }

  @Test
  void weightSpaceMatchesAutograd() {
    SplittableRandom r = new SplittableRandom(1);
    List<Tensor> w1 = randomSet(r, 1);
    List<Tensor> w = clones(near(w1, r, 0.1), true);
    List<Tensor> g0 = randomSet(r, 0.01);
    float lambda = 8f;
    Tensor loss = null;
    for (int i = 0; i < w.size(); i++) {
      Tensor d = w.get(i).sub(w1.get(i));
      Tensor term = d.mul(d).sum().mul(new Scalar(lambda / 2.0));
      loss = loss == null ? term : loss.add(term);
    }
    loss.backward();
    List<Tensor> grads = clones(g0, false);
    double value = ZeroShotAnchor.weightSpace(SegmentTable.ofTensors(NAMES, w), SegmentTable.ofTensors(NAMES, w1),
        SegmentTable.ofTensors(NAMES, grads), lambda);
    assertEquals(loss.item_double(), value, 1e-5 * value);
    for (int i = 0; i < w.size(); i++) {
      float[] want = read(g0.get(i).add(w.get(i).grad()));
      assertTrue(maxScaledError(read(grads.get(i)), want, want, 1e-3) <= 1e-5, NAMES.get(i));
    }
  }

  @Test
  void addToGradientsCreatesMissingGradients() {
    SplittableRandom r = new SplittableRandom(2);
    List<Tensor> w1 = randomSet(r, 1);
    List<Tensor> w = clones(near(w1, r, 0.1), true);
    double value = ZeroShotAnchor.addToGradients(NAMES, w, w1, 2f);
    assertTrue(value > 0);
    for (int i = 0; i < w.size(); i++) {
      float[] want = read(w.get(i).detach().sub(w1.get(i)).mul(new Scalar(2.0)));
      assertTrue(maxScaledError(read(w.get(i).grad()), want, want, 1e-3) <= 1e-6);
    }
  }

  /**
   * LibTorch's AdamW with the betas written where LibTorch reads them. AdamWOptions.betas() is a std::tuple<double,
   * double> seen as a DoublePointer, and libstdc++ lays a tuple out last element first: index 0 of the pointer is
   * beta2. (dev.mergetune.train.Optimizers.adamW writes put(0, beta1).put(1, beta2) and so swaps them.)
   */
  static Optimizer libTorchAdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double wd) {
    AdamWOptions o = new AdamWOptions(lr);
    DoublePointer b = o.betas();
    boolean reversed = b.get(0) == 0.999 && b.get(1) == 0.9;  // the defaults (0.9, 0.999) tell the layout
    b.put(reversed ? 1 : 0, beta1).put(reversed ? 0 : 1, beta2);
    o.eps().put(eps);
    o.weight_decay().put(wd);
    return new AdamW(new TensorVector(params.toArray(new Tensor[0])), o);
  }

  /** Runs LibTorch's optimizer on ĝ = g + λ(p − w1) and the fused stepper on g, on the same gradients. */
  private static void compareWithLibTorch(boolean adam, double lr, double momentum, double wd, boolean nesterov,
      float lambda) {
    SplittableRandom r = new SplittableRandom(3);
    List<Tensor> w1 = randomSet(r, 1);
    List<Tensor> start = near(w1, r, 0.1);
    List<Tensor> p = clones(start, true);
    List<Tensor> q = clones(start, true);
    Map<String, List<Tensor>> groups = new LinkedHashMap<>();
    groups.put("all", p);
    Optimizer torchOpt = adam
        ? libTorchAdamW(p, lr, 0.9, 0.999, 1e-8, wd)
        : Optimizers.sgd(groups, new Optimizers.SgdConfig(lr, momentum, wd, nesterov)).optimizer();
    ZeroShotAnchor fused = adam
        ? ZeroShotAnchor.adamW(NAMES, q, w1, lambda, new ZeroShotAnchor.AdamW(lr, 0.9, 0.999, 1e-8, wd))
        : ZeroShotAnchor.sgd(NAMES, q, w1, lambda, new ZeroShotAnchor.Sgd(lr, momentum, 0, wd, nesterov));
    long identical = 0, total = 0;
    for (int step = 0; step < 6; step++) {
      List<Tensor> g = randomSet(r, 0.05);
      double anchorValue = 0;
      for (int i = 0; i < p.size(); i++) {
        Tensor d = p.get(i).detach().sub(w1.get(i));
        anchorValue += lambda / 2.0 * d.mul(d).sum().item_double();
        setGrad(p.get(i), g.get(i).add(d, new Scalar(lambda)));
        setGrad(q.get(i), g.get(i));
      }
      torchOpt.step();
      double value = fused.step();
      assertEquals(anchorValue, value, 1e-5 * Math.max(1, anchorValue), "anchor value at step " + step);
      for (int i = 0; i < p.size(); i++) {
        float[] a = read(p.get(i)), b = read(q.get(i));
        double err = maxScaledError(b, a, a, 1.0);
        assertTrue(err <= 1e-6, NAMES.get(i) + " step " + step + ": relative error " + err);
        for (int j = 0; j < a.length; j++) identical += Float.floatToIntBits(a[j]) == Float.floatToIntBits(b[j]) ? 1 : 0;
        total += a.length;
      }
    }
    assertEquals(6, fused.steps());
    // Same operations in the same order: nearly every weight is bit-identical (ATen's scalar tails may round
    // without FMA where its vector body uses one).
    assertTrue(identical >= total * 0.99, identical + " of " + total + " bit-identical");
  }

  @Test
  void fusedSgdMatchesLibTorchSgd() {
    compareWithLibTorch(false, 0.01, 0.0, 0.0, false, 8f);
    compareWithLibTorch(false, 0.002, 0.9, 5e-4, false, 10f);
    compareWithLibTorch(false, 0.01, 0.9, 1e-3, true, 1f);
    compareWithLibTorch(false, 0.01, 0.9, 0.0, false, 0f);
  }

  @Test
  void fusedAdamWMatchesLibTorchAdamW() {
    compareWithLibTorch(true, 1e-3, 0, 0.0, false, 8f);
    compareWithLibTorch(true, 1e-3, 0, 0.05, false, 16f);
    compareWithLibTorch(true, 1e-2, 0, 0.01, false, 0f);
  }

  @Test
  void resumedStepperContinuesBitForBit() {
    for (boolean adam : new boolean[] {false, true}) {
      SplittableRandom r = new SplittableRandom(8);
      List<Tensor> w1 = randomSet(r, 1);
      List<Tensor> start = near(w1, r, 0.1);
      List<List<Tensor>> grads = new ArrayList<>();
      for (int s = 0; s < 6; s++) grads.add(randomSet(r, 0.05));
      List<Tensor> a = clones(start, true), b = clones(start, true);
      ZeroShotAnchor.Sgd sgdOptions = new ZeroShotAnchor.Sgd(0.01, 0.9, 0, 1e-4, true);
      ZeroShotAnchor.AdamW adamOptions = new ZeroShotAnchor.AdamW(1e-3, 0.9, 0.999, 1e-8, 0.01);
      ZeroShotAnchor whole = adam ? ZeroShotAnchor.adamW(NAMES, a, w1, 8f, adamOptions)
          : ZeroShotAnchor.sgd(NAMES, a, w1, 8f, sgdOptions);
      ZeroShotAnchor first = adam ? ZeroShotAnchor.adamW(NAMES, b, w1, 8f, adamOptions)
          : ZeroShotAnchor.sgd(NAMES, b, w1, 8f, sgdOptions);
      for (int s = 0; s < 6; s++) {
        for (int i = 0; i < a.size(); i++) setGrad(a.get(i), grads.get(s).get(i));
        whole.step();
      }
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < b.size(); i++) setGrad(b.get(i), grads.get(s).get(i));
        first.step();
      }
      List<Tensor> saved = clones(first.stateTensors(), false);
      ZeroShotAnchor resumed = adam ? ZeroShotAnchor.adamW(NAMES, b, w1, 8f, adamOptions)
          : ZeroShotAnchor.sgd(NAMES, b, w1, 8f, sgdOptions);
      resumed.loadState(first.steps(), saved);
      for (int s = 3; s < 6; s++) {
        for (int i = 0; i < b.size(); i++) setGrad(b.get(i), grads.get(s).get(i));
        resumed.step();
      }
      for (int i = 0; i < a.size(); i++) assertArrayEquals(read(a.get(i)), read(b.get(i)), NAMES.get(i));
    }
  }

  @Test
  void fusedStepRejectsNonFiniteGradientNamingTheTensor() {
    SplittableRandom r = new SplittableRandom(4);
    List<Tensor> w1 = randomSet(r, 1);
    List<Tensor> q = clones(near(w1, r, 0.1), true);
    ZeroShotAnchor fused = ZeroShotAnchor.sgd(NAMES, q, w1, 1f, new ZeroShotAnchor.Sgd(0.1, 0.9, 0, 0, false));
    List<Tensor> g = randomSet(r, 0.05);
    g.get(1).data_ptr_float().put(5, Float.NaN);
    for (int i = 0; i < q.size(); i++) setGrad(q.get(i), g.get(i));
    NonFiniteException e = assertThrows(NonFiniteException.class, fused::step);
    assertEquals("proj.bias", e.tensor());
    assertEquals(5, e.element());
    assertEquals("grad", e.input());
  }

  @Test
  void mismatchedAnchorIsRejected() {
    SplittableRandom r = new SplittableRandom(5);
    List<Tensor> w = randomSet(r, 1);
    List<Tensor> bad = new ArrayList<>(w);
    bad.set(2, random(new long[] {4098}, r, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> ZeroShotAnchor.sgd(NAMES, w, bad, 1f,
        new ZeroShotAnchor.Sgd(0.1, 0, 0, 0, false)));
    assertThrows(IllegalArgumentException.class, () -> ZeroShotAnchor.weightSpace(SegmentTable.ofTensors(NAMES, w),
        SegmentTable.ofTensors(NAMES, w), null, Float.NaN));
  }

  // ------------------------------------------------------------------------------------------- feature space

  private static Tensor rowNormalised(Tensor x) {
    return x.div(x.mul(x).sum(new long[] {1}, true, new ScalarTypeOptional()).sqrt());
  }

  /** λ·(1 − mean_c cos(F_c, z_c)) with LibTorch ops (differentiable in F). */
  private static Tensor featureLoss(Tensor f, Tensor z, float lambda) {
    Tensor cos = rowNormalised(f).mul(rowNormalised(z)).sum(new long[] {1}, false, new ScalarTypeOptional());
    return cos.mean().neg().add(new Scalar(1.0)).mul(new Scalar(lambda));
  }

  @Test
  void featureSpaceMatchesAutogradAndFiniteDifferences() {
    SplittableRandom r = new SplittableRandom(6);
    int c = 37, d = 512;
    Tensor f = random(new long[] {c, d}, r, 1, 0.05).set_requires_grad(true);
    Tensor z = rowNormalised(f.detach().add(random(new long[] {c, d}, r, 1, 0))).contiguous();
    float lambda = 10f;
    Tensor loss = featureLoss(f, z, lambda);
    loss.backward();
    ZeroShotAnchor.FeatureResult res = ZeroShotAnchor.featureSpace(f, z, lambda);
    assertEquals(loss.item_double(), res.value(), 1e-5 * Math.abs(res.value()));
    float[] want = read(f.grad()), got = read(res.gradFeatures());
    float max = 0;
    for (float x : want) max = Math.max(max, Math.abs(x));
    assertTrue(maxScaledError(got, want, null, max) <= 1e-5, "dF against autograd");
    float[] fv = read(f);
    for (int k : new int[] {0, 1000, c * d - 1}) {  // central differences of the kernel's (double) value
      float h = 1e-2f;
      float[] plus = fv.clone(), minus = fv.clone();
      plus[k] += h;
      minus[k] -= h;
      double vp = ZeroShotAnchor.featureSpace(Tensor.create(plus, c, d), z, lambda).value();
      double vm = ZeroShotAnchor.featureSpace(Tensor.create(minus, c, d), z, lambda).value();
      double fd = (vp - vm) / ((double) plus[k] - minus[k]);
      assertEquals(fd, got[k], 1e-3 * max, "finite difference at " + k);
    }
  }

  @Test
  void featureGradientSplicesIntoAutograd() {
    // F = X·W with W the trainable leaf: backward(dF) through F gives W the gradient plain autograd gives it.
    SplittableRandom r = new SplittableRandom(7);
    Tensor x = random(new long[] {11, 16}, r, 1, 0);
    Tensor wa = random(new long[] {16, 32}, r, 0.5, 0).set_requires_grad(true);
    Tensor wb = wa.detach().clone().set_requires_grad(true);
    Tensor z = rowNormalised(random(new long[] {11, 32}, r, 1, 0)).contiguous();
    featureLoss(x.matmul(wa), z, 8f).backward();
    Tensor fb = x.matmul(wb);
    ZeroShotAnchor.FeatureResult res = ZeroShotAnchor.featureSpace(fb, z, 8f);
    fb.backward(res.gradFeatures(), new BoolOptional(), false, new TensorArrayRefOptional());
    float[] want = read(wa.grad());
    float max = 0;
    for (float v : want) max = Math.max(max, Math.abs(v));
    assertTrue(maxScaledError(read(wb.grad()), want, null, max) <= 1e-5);
  }

  @Test
  void featureSpaceRejectsZeroRowsAndShapes() {
    Tensor f = Tensor.create(new float[] {1, 2, 0, 0}, 2, 2);
    Tensor z = Tensor.create(new float[] {1, 0, 0, 1}, 2, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ZeroShotAnchor.featureSpace(f, z, 1f));
    assertTrue(e.getMessage().contains("zero norm"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ZeroShotAnchor.featureSpace(f, Tensor.create(new float[] {1, 0, 0}, 1, 3), 1f));
  }
}
