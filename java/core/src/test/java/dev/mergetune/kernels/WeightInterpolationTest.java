package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * K5 through the Java API: the scratch weights against LibTorch's ŵ2 + α(w − ŵ2), and the accumulated gradient
 * against autograd through the interpolation, Σ_k ω_k·L_k(ŵ2 + α_k(w − ŵ2)) differentiated in w (relative 1e-5).
 */
class WeightInterpolationTest {
  private static final List<String> NAMES = List.of("a.weight", "a.bias", "b.weight");
  private static final long[][] SHAPES = {{9, 31}, {31}, {5000}};
  private static final float[] ALPHAS = {0.1f, 0.3f, 0.5f, 0.7f, 0.9f};

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static List<Tensor> randomSet(SplittableRandom r, double scale) {
    List<Tensor> t = new ArrayList<>();
    for (long[] shape : SHAPES) {
      long n = 1;
      for (long s : shape) n *= s;
      float[] v = new float[(int) n];
      for (int j = 0; j < v.length; j++) v[j] = (float) (scale * (r.nextDouble() * 2 - 1));
      t.add(Tensor.create(v, shape));
    }
    return t;
  }

  private static List<Tensor> zeros(List<Tensor> like) {
    List<Tensor> t = new ArrayList<>();
    for (Tensor x : like) t.add(org.bytedeco.pytorch.global.torch.zeros_like(x));
    return t;
  }

  private static SegmentTable table(List<Tensor> t) {
    return SegmentTable.ofTensors(NAMES, t);
  }

  private static double relativeError(float[] got, float[] want) {
    double max = 1e-6, worst = 0;
    for (float v : want) max = Math.max(max, Math.abs(v));
    for (int j = 0; j < got.length; j++) worst = Math.max(worst, Math.abs((double) got[j] - want[j]) / max);
    return worst;
  }

  /** The loss at one scratch point: ½·Σ c·s² (so its gradient c·s depends on the point). */
  private static Tensor loss(List<Tensor> s, List<Tensor> c) {
    Tensor l = null;
    for (int i = 0; i < s.size(); i++) {
      Tensor t = s.get(i).mul(s.get(i)).mul(c.get(i)).sum().mul(new Scalar(0.5));
      l = l == null ? t : l.add(t);
    }
    return l;
  }

  @Test
  void scratchMatchesLibTorchInterpolation() {
    SplittableRandom r = new SplittableRandom(1);
    List<Tensor> w2 = randomSet(r, 1), w = new ArrayList<>();
    List<Tensor> delta = randomSet(r, 0.1);
    for (int i = 0; i < w2.size(); i++) w.add(w2.get(i).add(delta.get(i)));
    List<SegmentTable> scratch = new ArrayList<>();
    List<List<Tensor>> scratchTensors = new ArrayList<>();
    for (float ignored : ALPHAS) {
      List<Tensor> z = zeros(w);
      scratchTensors.add(z);
      scratch.add(table(z));
    }
    WeightInterpolation.interpolate(table(w), table(w2), ALPHAS, scratch);
    for (int k = 0; k < ALPHAS.length; k++) {
      for (int i = 0; i < w.size(); i++) {
        float[] want = ZeroShotAnchorTest.read(w2.get(i).add(w.get(i).sub(w2.get(i)), new Scalar(ALPHAS[k])));
        assertTrue(relativeError(ZeroShotAnchorTest.read(scratchTensors.get(k).get(i)), want) <= 1e-6);
      }
    }
    // One α, in place over ŵ2: the same bits as the multi-α call.
    List<Tensor> over = new ArrayList<>();
    for (Tensor t : w2) over.add(t.clone());
    WeightInterpolation.interpolate(table(w), table(over), ALPHAS[2], table(over));
    for (int i = 0; i < w.size(); i++) {
      assertArrayEquals(ZeroShotAnchorTest.read(scratchTensors.get(2).get(i)), ZeroShotAnchorTest.read(over.get(i)));
    }
  }

  @Test
  void accumulatedGradientMatchesAutogradThroughTheInterpolation() {
    SplittableRandom r = new SplittableRandom(2);
    List<Tensor> w2 = randomSet(r, 1), c = randomSet(r, 1);
    List<Tensor> w = new ArrayList<>();
    List<Tensor> delta = randomSet(r, 0.1);
    for (int i = 0; i < w2.size(); i++) w.add(w2.get(i).add(delta.get(i)).set_requires_grad(true));
    float beta = 0.5f;
    float[] omegas = new float[ALPHAS.length];
    java.util.Arrays.fill(omegas, beta / ALPHAS.length);

    // Plain autograd: β·mean_k L(ŵ2 + α_k(w − ŵ2)), differentiated in w.
    Tensor total = null;
    for (int k = 0; k < ALPHAS.length; k++) {
      List<Tensor> s = new ArrayList<>();
      for (int i = 0; i < w.size(); i++) s.add(w2.get(i).add(w.get(i).sub(w2.get(i)), new Scalar(ALPHAS[k])));
      Tensor t = loss(s, c).mul(new Scalar(omegas[k]));
      total = total == null ? t : total.add(t);
    }
    total.backward();

    // The kernels: scratch points as fresh leaves, their gradients by autograd of L alone, then K5 accumulates.
    List<Tensor> wd = new ArrayList<>();
    for (Tensor t : w) wd.add(t.detach());
    List<SegmentTable> gradSets = new ArrayList<>();
    for (int k = 0; k < ALPHAS.length; k++) {
      List<Tensor> s = zeros(wd);
      WeightInterpolation.interpolate(table(wd), table(w2), ALPHAS[k], table(s));
      for (Tensor t : s) t.set_requires_grad(true);
      loss(s, c).backward();
      List<Tensor> g = new ArrayList<>();
      for (Tensor t : s) g.add(t.grad());
      gradSets.add(table(g));
    }
    List<Tensor> gradW = zeros(wd);
    WeightInterpolation.accumulateGradients(table(gradW), gradSets, ALPHAS, omegas);
    for (int i = 0; i < w.size(); i++) {
      double err = relativeError(ZeroShotAnchorTest.read(gradW.get(i)), ZeroShotAnchorTest.read(w.get(i).grad()));
      assertTrue(err <= 1e-5, NAMES.get(i) + ": " + err);
    }
  }

  @Test
  void singleSetAccumulationAndErrors() {
    SplittableRandom r = new SplittableRandom(3);
    List<Tensor> g = randomSet(r, 1), gw = randomSet(r, 1);
    float[] before = ZeroShotAnchorTest.read(gw.get(2));
    float[] gk = ZeroShotAnchorTest.read(g.get(2));
    WeightInterpolation.accumulateGradient(table(gw), table(g), 0.5f, 2f);  // c = ω·α = 1
    float[] after = ZeroShotAnchorTest.read(gw.get(2));
    for (int j = 0; j < after.length; j++) assertEquals(before[j] + gk[j], after[j], 0f);

    g.get(0).data_ptr_float().put(17, Float.POSITIVE_INFINITY);
    NonFiniteException e = assertThrows(NonFiniteException.class,
        () -> WeightInterpolation.accumulateGradient(table(gw), table(g), 0.5f, 1f));
    assertEquals("a.weight", e.tensor());
    assertEquals(17, e.element());
    assertThrows(IllegalArgumentException.class,
        () -> WeightInterpolation.interpolate(table(gw), table(g), new float[] {0.1f, 0.2f}, List.of(table(gw))));
    assertThrows(IllegalArgumentException.class,
        () -> WeightInterpolation.interpolate(table(gw), table(g), new float[] {0.1f, 0.2f},
            List.of(table(gw), table(gw))));
  }
}
