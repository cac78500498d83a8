package dev.mergetune.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopFixtures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.FiniteDifferences;
import dev.mergetune.clip.ClipModel;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * MergeTune's feature-space loss (methods.md §1.2) with the naive path term: its value against the formula evaluated
 * in double precision in plain Java from the same features, and its context gradient against finite differences.
 */
class FeatureSpaceMergeTuneTest {
  static final long[] LABELS = {0, 1, 2, 3, 1, 2};

  /** A learner whose context (ŵ2) is the hand-made init plus noise, a method built on it, and w moved away again. */
  record Setup(ClipModel model, CoopPromptLearner learner, FeatureSpaceMergeTune method, Tensor vhat, Tensor z) {}

  static Setup setup(double lambda, double beta, AlphaPoints alphas, double smoothing) {
    return setup(lambda, beta, alphas, smoothing, new NaivePathLoss());
  }

  static Setup setup(double lambda, double beta, AlphaPoints alphas, double smoothing, PathLoss path) {
    ClipModel m = CoopFixtures.tinyClip();
    CoopPromptLearner learner = CoopFixtures.handMade(m);
    Tensor img = CoopFixtures.imageFeatures(m);
    Tensor z;
    try (NoGradGuard g = new NoGradGuard()) {
      z = learner.classEmbeddings().detach().clone();  // the "template" features: those of the initial context
      torch.manual_seed(5);
      learner.context().add_(torch.randn(learner.context().sizes().vec().get()).mul(new Scalar(0.02)));  // ŵ2
    }
    CachedFeatures train = CachedFeatures.of(img, LABELS);
    FeatureSpaceMergeTune method = new FeatureSpaceMergeTune(learner, z, train, null, lambda, beta, alphas, path,
        smoothing);
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(6);
      learner.context().add_(torch.randn(learner.context().sizes().vec().get()).mul(new Scalar(0.02)));  // w ≠ ŵ2
    }
    return new Setup(m, learner, method, ClipModel.normalize(img).detach().clone(), z);
  }

  static double[][] rows(Tensor t) {
    Tensor c = t.detach().contiguous();
    int r = (int) c.size(0), k = (int) c.size(1);
    float[] v = new float[r * k];
    c.data_ptr_float().get(v);
    double[][] out = new double[r][k];
    for (int i = 0; i < r; i++) for (int j = 0; j < k; j++) out[i][j] = v[i * k + j];
    return out;
  }

  static double[] unit(double[] x) {
    double n = 0;
    for (double v : x) n += v * v;
    n = Math.sqrt(n);
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) out[i] = x[i] / n;
    return out;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  /** Batch-mean label-smoothed cross-entropy of s·v̂·ŵ_cᵀ with class vectors {@code classes} (unit here). */
  static double ce(double[][] v, double[][] classes, long[] y, double s, double eps) {
    int c = classes.length;
    double[][] unitClasses = new double[c][];
    for (int k = 0; k < c; k++) unitClasses[k] = unit(classes[k]);
    double sum = 0;
    for (int b = 0; b < v.length; b++) {
      double[] logits = new double[c];
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < c; k++) max = Math.max(max, logits[k] = s * dot(v[b], unitClasses[k]));
      double z = 0;
      for (double l : logits) z += Math.exp(l - max);
      double lse = max + Math.log(z);
      double meanLogp = 0;
      for (double l : logits) meanLogp += (l - lse) / c;
      sum += -(1 - eps) * (logits[(int) y[b]] - lse) - eps * meanLogp;
    }
    return sum / v.length;
  }

  static double formula(Setup st, double[][] g, double lambda, double beta, double[] alphas, double eps) {
    double[][] f;
    try (NoGradGuard ng = new NoGradGuard()) {
      f = rows(st.learner().textFeatures());
    }
    double[][] v = rows(st.vhat());
    double[][] z = rows(st.z());
    double s = st.model().logitScaleExp().item_double();
    double total = ce(v, f, LABELS, s, eps);
    double cos = 0;
    for (int c = 0; c < f.length; c++) cos += dot(unit(f[c]), z[c]) / f.length;
    total += lambda * (1 - cos);
    for (double a : alphas) {
      double[][] mixed = new double[f.length][];
      for (int c = 0; c < f.length; c++) {
        mixed[c] = new double[f[c].length];
        for (int j = 0; j < f[c].length; j++) mixed[c][j] = g[c][j] + a * (f[c][j] - g[c][j]);
      }
      total += beta / alphas.length * ce(v, mixed, LABELS, s, eps);
    }
    return total;
  }

  @Test
  void alphaGridIsNumpysArange() {
    assertArrayEquals(new double[] {0.1, 0.3, 0.5, 0.7, 0.9}, AlphaPoints.grid(5).alphas(0, new int[0]), 1e-15);
    double[] ten = AlphaPoints.grid(10).alphas(3, new int[] {1});
    assertEquals(10, ten.length);
    assertEquals(0.1, ten[0], 1e-15);
    assertEquals(1.0, ten[9], 1e-15);
    assertArrayEquals(new double[] {0.2, 0.2, 0.2, 0.2, 0.2}, AlphaPoints.grid(5).weights(), 1e-15);
    AlphaPoints s = AlphaPoints.sampled(5, 9);
    assertArrayEquals(s.alphas(2, new int[] {4, 1}), s.alphas(2, new int[] {4, 1}));
    assertNotEquals(s.alphas(2, new int[] {4, 1})[0], s.alphas(3, new int[] {4, 1})[0]);
    for (double a : s.alphas(7, new int[] {0})) assertTrue(a >= 0 && a < 1);
  }

  @Test
  void lossEqualsTheFormulaInDoublePrecision() {
    for (double eps : new double[] {0.0, 0.1}) {
      Setup st = setup(8.0, 1.0, AlphaPoints.grid(5), eps);
      double[][] g;
      try (NoGradGuard ng = new NoGradGuard()) {
        // g = F(ŵ2): rebuilt independently by putting ŵ2 back into a second learner over the same model
        CoopPromptLearner twin = CoopFixtures.handMade(st.model());
        torch.manual_seed(5);
        twin.context().add_(torch.randn(twin.context().sizes().vec().get()).mul(new Scalar(0.02)));
        g = rows(twin.textFeatures());
      }
      double want = formula(st, g, 8.0, 1.0, new double[] {0.1, 0.3, 0.5, 0.7, 0.9}, eps);
      double got;
      try (NoGradGuard ng = new NoGradGuard()) {
        got = st.method().loss(new int[] {0, 1, 2, 3, 4, 5}, 0).item_double();
      }
      assertEquals(want, got, 1e-5 * Math.abs(want), "epsilon " + eps);
      double[] terms = st.method().lastTerms();
      assertTrue(terms[1] > 0 && terms[2] > 0, "every term is active: " + java.util.Arrays.toString(terms));
    }
  }

  @Test
  void contextGradientMatchesFiniteDifferences() {
    Setup st = setup(8.0, 1.0, AlphaPoints.grid(5), 0.0);
    int[] batch = {0, 1, 2, 3, 4, 5};
    st.method().loss(batch, 0).backward();
    float[] grad = CoopFixtures.values(st.learner().context().grad());
    FiniteDifferences.check(st.learner().context(), grad, FiniteDifferences.coordinates(grad, 3, 7, 100), 2e-3, 2e-3,
        () -> {
          try (NoGradGuard g = new NoGradGuard()) {
            return st.method().loss(batch, 0).item_double();
          }
        });
  }

  @Test
  void theFusedPathTermGivesTheNaiveLossAndGradient() {
    for (AlphaPoints points : new AlphaPoints[] {AlphaPoints.grid(5), AlphaPoints.sampled(3, 4)}) {
      Setup naive = setup(10.0, 1.0, points, 0.1, new NaivePathLoss());
      Setup fused = setup(10.0, 1.0, points, 0.1, new FusedPathLoss());
      int[] batch = {5, 0, 3, 1};
      Tensor ln = naive.method().loss(batch, 2);
      Tensor lf = fused.method().loss(batch, 2);
      assertEquals(ln.item_double(), lf.item_double(), 1e-5 * Math.abs(ln.item_double()), points.toString());
      ln.backward();
      lf.backward();
      float[] gn = CoopFixtures.values(naive.learner().context().grad());
      float[] gf = CoopFixtures.values(fused.learner().context().grad());
      double max = 0;
      for (float v : gn) max = Math.max(max, Math.abs(v));
      for (int i = 0; i < gn.length; i++) assertEquals(gn[i], gf[i], 1e-5 * max, "element " + i + ", " + points);
    }
  }
}
