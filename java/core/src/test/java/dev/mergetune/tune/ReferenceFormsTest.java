package dev.mergetune.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The adapter (MMA) and distillation (PromptKD) path terms through K1 against LibTorch autograd of the reference
 * code's per-α loops: value and the gradients of every differentiable input (relative 1e-5).
 */
class ReferenceFormsTest {
  static final int B = 6, C = 5, D = 16;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static Tensor leaf(long seed, long... shape) {
    torch.manual_seed(seed);
    return torch.randn(shape).set_requires_grad(true);
  }

  static float[] grad(Tensor t) {
    Tensor g = t.grad().contiguous();
    float[] v = new float[(int) g.numel()];
    g.data_ptr_float().get(v);
    return v;
  }

  static void assertClose(float[] want, float[] got, String what) {
    double max = 0;
    for (float x : want) max = Math.max(max, Math.abs(x));
    assertTrue(max > 1e-5, what + ": a gradient worth comparing");
    for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5 * max, what + " element " + i);
  }

  @Test
  void adapterPathToZeroShotEqualsTheNaiveLoopWithGradientsOnBothTowers() {
    Tensor labels = Tensor.create(new long[] {0, 4, 2, 1, 3, 2}, B);
    Tensor z = ClipModel.normalize(leaf(9, C, D)).detach();
    double[] t = AlphaPoints.grid(5).alphas(0, new int[0]);
    double[] w = {2, 2, 2, 2, 2};  // MMA: β = 10 over N = 5
    Tensor[] got = new Tensor[2];
    float[][] grads = new float[4][];
    for (int pass = 0; pass < 2; pass++) {
      Tensor img = leaf(1, B, D);
      Tensor fw = leaf(2, C, D);
      Tensor vhat = ClipModel.normalize(img);  // an image-side adapter: gradients reach the image features too
      got[pass] = pass == 0 ? AdapterPathLoss.naive(vhat, fw, z, labels, 30, t, w, 0.1)
          : AdapterPathLoss.loss(vhat, fw, z, labels, 30, t, w, 0.1);
      got[pass].backward();
      grads[2 * pass] = grad(img);
      grads[2 * pass + 1] = grad(fw);
    }
    assertEquals(got[0].item_double(), got[1].item_double(), 1e-5 * Math.abs(got[0].item_double()));
    assertClose(grads[0], grads[2], "image features");
    assertClose(grads[1], grads[3], "text features");
  }

  @Test
  void distillationImageMixingKlEqualsTheNaiveLoop() {
    Tensor u2 = leaf(3, B, D).detach();
    Tensor text = ClipModel.normalize(leaf(4, C, D)).detach();
    Tensor teacher = torch.softmax(leaf(5, B, C).detach().mul(new Scalar(3)), 1);
    double[] a = AlphaPoints.grid(10).alphas(0, new int[0]);  // PromptKD: 10 points including 1
    double[] w = new double[a.length];
    java.util.Arrays.fill(w, 5.0);  // β = 50 over N = 10
    assertEquals(1.0, a[a.length - 1], 1e-12);
    Tensor[] got = new Tensor[2];
    float[][] grads = new float[2][];
    for (int pass = 0; pass < 2; pass++) {
      Tensor uw = leaf(6, B, D);
      got[pass] = pass == 0 ? DistillationPathLoss.naive(u2, uw, text, teacher, 10, a, w)
          : DistillationPathLoss.loss(u2, uw, text, teacher, 10, a, w);
      got[pass].backward();
      grads[pass] = grad(uw);
    }
    assertEquals(got[0].item_double(), got[1].item_double(), 1e-5 * Math.abs(got[0].item_double()));
    assertClose(grads[0], grads[1], "student image features");
  }
}
