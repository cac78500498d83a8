package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * K1 through the Java API, in the CoOp setting it exists for: a leaf F [C, d] (the text features of the current
 * context) mixed with fixed stage-1 features g and classified against fixed normalised image features v̂. The
 * spliced kernel gradient of F must equal LibTorch autograd of the naive per-α loop (re-normalised and plain mode,
 * CE with label smoothing and KL to soft targets), and central finite differences of the kernel's loss.
 */
class MultiAlphaLossTest {
  static final int B = 6;
  static final int C = 5;
  static final int DIM = 8;
  static final float SCALE = 20f;
  static final float SMOOTHING = 0.1f;
  static final MultiAlphaLoss.Points POINTS = MultiAlphaLoss.Points.mergeTune(5, 0.7f);

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** The fixed tensors of one problem and the leaf F. */
  static final class World {
    final Tensor v;       // [B, d], rows normalised
    final Tensor g;       // [C, d]
    final Tensor f0;      // F's starting value
    final Tensor labels;  // int64 [B]
    final Tensor targets; // [B, C], a teacher's softmax

    World(long seed) {
      torch.manual_seed(seed);
      v = normalise(torch.randn(B, DIM));
      g = normalise(torch.randn(C, DIM));
      f0 = g.add(torch.randn(C, DIM).mul(new Scalar(0.3)));
      labels = Tensor.create(new long[] {0, 3, 1, 4, 4, 2}, B);
      targets = torch.softmax(torch.randn(B, C).mul(new Scalar(2.0)), 1);
    }

    Tensor leaf() {
      return f0.clone().set_requires_grad(true);
    }
  }

  static Tensor normalise(Tensor x) {
    return x.div(x.norm(new ScalarOptional(new Scalar(2.0)), new long[] {1}, true));
  }

  static Tensor rowSum(Tensor x) {
    return x.sum(new long[] {1}, false, new ScalarTypeOptional());
  }

  /** A, D and the n's from F, as a CoOp MergeTune step computes them (autograd on). */
  static MultiAlphaLoss.Inputs inputs(World w, Tensor f, boolean renorm) {
    Tensor delta = f.sub(w.g);
    Tensor a = w.v.matmul(w.g.t());
    Tensor d = w.v.matmul(delta.t());
    if (!renorm) return MultiAlphaLoss.Inputs.plain(a, d);
    return MultiAlphaLoss.Inputs.renormalised(a, d, rowSum(w.g.mul(w.g)), rowSum(w.g.mul(delta)),
        rowSum(delta.mul(delta)));
  }

  /** The naive loop: one classifier per α, each through LibTorch's own losses. */
  static Tensor naive(World w, Tensor f, boolean renorm, boolean kl, float[] perAlpha) {
    Tensor total = null;
    float[] alphas = POINTS.alphas();
    float[] weights = POINTS.weights();
    for (int k = 0; k < alphas.length; k++) {
      Tensor m = w.g.add(f.sub(w.g).mul(new Scalar(alphas[k])));
      if (renorm) m = normalise(m);
      Tensor logits = w.v.matmul(m.t()).mul(new Scalar(SCALE));
      Tensor loss = kl
          ? torch.kl_div(torch.log_softmax(logits, 1), w.targets, 2 /* Sum */, false).div(new Scalar((double) B))
          : torch.cross_entropy_loss(logits, w.labels, new TensorOptional(), 1 /* Mean */, -100, SMOOTHING);
      perAlpha[k] = loss.item_float();
      Tensor term = loss.mul(new Scalar(weights[k]));
      total = total == null ? term : total.add(term);
    }
    return total;
  }

  static Tensor spliced(World w, Tensor f, boolean renorm, boolean kl) {
    MultiAlphaLoss.Inputs in = inputs(w, f, renorm);
    return kl ? MultiAlphaLoss.klDivLoss(in, w.targets, POINTS, SCALE)
        : MultiAlphaLoss.crossEntropyLoss(in, w.labels, SMOOTHING, POINTS, SCALE);
  }

  static float[] values(Tensor t) {
    Tensor c = t.contiguous();
    float[] out = new float[(int) c.numel()];
    new FloatPointer(c.data_ptr_float()).capacity(out.length).get(out);
    return out;
  }

  static double maxAbs(float[] x) {
    double m = 0;
    for (float v : x) m = Math.max(m, Math.abs(v));
    return m;
  }

  void checkAgainstAutograd(boolean renorm, boolean kl) {
    World w = new World(renorm ? 11 : 12);
    Tensor f1 = w.leaf();
    Tensor loss = spliced(w, f1, renorm, kl);
    loss.backward();
    float[] kernelGrad = values(f1.grad());

    Tensor f2 = w.leaf();
    float[] perAlpha = new float[POINTS.alphas().length];
    Tensor reference = naive(w, f2, renorm, kl, perAlpha);
    reference.backward();
    float[] autogradGrad = values(f2.grad());

    String what = (renorm ? "re-normalised" : "plain") + (kl ? " KL" : " CE");
    assertEquals(reference.item_float(), loss.item_float(), 1e-5 * (1 + Math.abs(reference.item_float())), what);
    double scale = maxAbs(autogradGrad);
    assertTrue(scale > 1e-3, what + ": the gradient should not vanish");
    for (int i = 0; i < kernelGrad.length; i++) {
      assertEquals(autogradGrad[i], kernelGrad[i], 1e-5 * scale, what + ": dL/dF[" + i + "]");
    }
    MultiAlphaLoss.Result r = kl ? MultiAlphaLoss.klDiv(inputs(w, w.f0, renorm), w.targets, POINTS, SCALE)
        : MultiAlphaLoss.crossEntropy(inputs(w, w.f0, renorm), w.labels, SMOOTHING, POINTS, SCALE);
    for (int k = 0; k < perAlpha.length; k++) {
      assertEquals(perAlpha[k], r.losses()[k], 1e-5 * (1 + Math.abs(perAlpha[k])), what + ": L_" + k);
    }
    if (!renorm) assertNull(r.gradN0());
  }

  @Test
  void renormalisedCrossEntropyMatchesAutogradOfTheNaiveLoop() {
    checkAgainstAutograd(true, false);
  }

  @Test
  void plainCrossEntropyMatchesAutogradOfTheNaiveLoop() {
    checkAgainstAutograd(false, false);
  }

  @Test
  void renormalisedKlMatchesAutogradOfTheNaiveLoop() {
    checkAgainstAutograd(true, true);
  }

  @Test
  void plainKlMatchesAutogradOfTheNaiveLoop() {
    checkAgainstAutograd(false, true);
  }

  /** The PathLoss-shaped entry point: same value, per-α losses and F-gradient as the naive loop. */
  @Test
  void coopPathTermMatchesTheNaiveLoop() {
    World w = new World(13);
    double[] alphas = new double[POINTS.alphas().length];
    double[] weights = new double[alphas.length];
    for (int k = 0; k < alphas.length; k++) {
      alphas[k] = POINTS.alphas()[k];
      weights[k] = POINTS.weights()[k];
    }
    Tensor f1 = w.leaf();
    MultiAlphaLoss.PathTerm t = MultiAlphaLoss.coopPathTerm(w.v, f1, w.g, w.labels, SCALE, alphas, weights, SMOOTHING);
    t.loss().backward();
    float[] kernelGrad = values(f1.grad());
    Tensor f2 = w.leaf();
    float[] perAlpha = new float[alphas.length];
    Tensor reference = naive(w, f2, true, false, perAlpha);
    reference.backward();
    float[] autogradGrad = values(f2.grad());
    assertEquals(reference.item_float(), t.loss().item_float(), 1e-5 * (1 + Math.abs(reference.item_float())));
    assertArrayEquals(perAlpha, t.perAlpha(), 1e-5f * (1 + Math.abs(perAlpha[0])));
    double scale = maxAbs(autogradGrad);
    for (int i = 0; i < kernelGrad.length; i++) assertEquals(autogradGrad[i], kernelGrad[i], 1e-5 * scale, "dL/dF[" + i + "]");
  }

  /** Central differences of the kernel's total in F (fp32, so h = 1e-2 and a loose tolerance). */
  @Test
  void splicedGradientMatchesFiniteDifferences() {
    World w = new World(21);
    Tensor f = w.leaf();
    spliced(w, f, true, false).backward();
    float[] grad = values(f.grad());
    float[] base = values(w.f0);
    double h = 1e-2;
    double worst = 0;
    for (int i = 0; i < base.length; i += 3) {
      float[] up = base.clone();
      float[] down = base.clone();
      up[i] += (float) h;
      down[i] -= (float) h;
      double lu = total(w, Tensor.create(up, C, DIM));
      double ld = total(w, Tensor.create(down, C, DIM));
      double fd = (lu - ld) / ((double) up[i] - down[i]);
      worst = Math.max(worst, Math.abs(fd - grad[i]));
    }
    assertTrue(worst <= 2e-2 * maxAbs(grad), "worst |fd − grad| " + worst + " against max|grad| " + maxAbs(grad));
  }

  static double total(World w, Tensor f) {
    return MultiAlphaLoss.crossEntropy(inputs(w, f, true), w.labels, SMOOTHING, POINTS, SCALE).total();
  }

  @Test
  void splicedValueIsTheTotal() {
    World w = new World(31);
    MultiAlphaLoss.Inputs in = inputs(w, w.leaf(), true);
    MultiAlphaLoss.Result r = MultiAlphaLoss.crossEntropy(in, w.labels, SMOOTHING, POINTS, SCALE);
    double sum = 0;
    for (int k = 0; k < r.losses().length; k++) sum += POINTS.weights()[k] * (double) r.losses()[k];
    assertEquals(sum, r.total(), 1e-6 * (1 + Math.abs(sum)));
    assertEquals(r.total(), MultiAlphaLoss.splice(in, r).item_float());
    assertArrayEquals(new long[] {B, C}, r.gradA().sizes().vec().get());
    assertArrayEquals(new long[] {C}, r.gradN1().sizes().vec().get());
  }

  @Test
  void mergeTuneGridIsTheReferenceCodes() {
    assertArrayEquals(new float[] {0.1f, 0.3f, 0.5f, 0.7f, 0.9f}, MultiAlphaLoss.Points.mergeTune(5, 1f).alphas(), 1e-6f);
    float[] ten = MultiAlphaLoss.Points.mergeTune(10, 1f).alphas();
    assertEquals(1.0f, ten[9], 1e-6f);
    assertEquals(0.1f, MultiAlphaLoss.Points.mergeTune(10, 1f).weights()[0], 1e-7f);
    assertEquals(19, MultiAlphaLoss.Points.mergeTune(20, 1f).alphas().length);  // numpy: ceil(0.91·20)
  }

  @Test
  void badInputsAreReported() {
    World w = new World(41);
    MultiAlphaLoss.Inputs in = inputs(w, w.f0, true);
    Tensor badLabels = Tensor.create(new long[] {0, 3, 1, 9, 4, 2}, B);
    KernelException e = assertThrows(KernelException.class,
        () -> MultiAlphaLoss.crossEntropy(in, badLabels, SMOOTHING, POINTS, SCALE));
    assertTrue(e.getMessage().contains("labels[3] = 9"), e.getMessage());

    float[] a = values(in.a());
    a[2 * C + 1] = Float.NaN;
    MultiAlphaLoss.Inputs nan = MultiAlphaLoss.Inputs.renormalised(Tensor.create(a, B, C), in.d(), in.n0(), in.n1(),
        in.n2());
    NonFiniteException n = assertThrows(NonFiniteException.class,
        () -> MultiAlphaLoss.crossEntropy(nan, w.labels, SMOOTHING, POINTS, SCALE));
    assertEquals("a", n.input());
    assertEquals(1, n.element());

    assertThrows(IllegalArgumentException.class,
        () -> MultiAlphaLoss.crossEntropy(MultiAlphaLoss.Inputs.plain(in.a(), in.d().t()), w.labels, 0f, POINTS, SCALE));
    assertThrows(IllegalArgumentException.class, () -> new MultiAlphaLoss.Points(new float[] {0.5f}, new float[0]));
  }
}
