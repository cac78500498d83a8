package dev.mergetune.condu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Aggregation against the reference's way: run θ0 and EVERY expert on the whole batch, gather each image's top K,
 * average (weighted or not) directly in double.
 */
class SemanticAggregationTest {
  static final int T = 5;
  static final int B = 12;
  static final int CLASSES = 7;

  /** Fixed random logits per model (index 0 = θ0, t + 1 = expert t), counting the calls. */
  static final class Counting implements ExpertLogits {
    final float[][][] all = new float[T + 1][B][CLASSES];
    final int[] calls = new int[T + 1];

    Counting(Random r) {
      for (float[][] m : all) for (float[] row : m) for (int c = 0; c < CLASSES; c++) row[c] = (float) (10 * r.nextGaussian());
    }

    @Override
    public float[][] logits(int model, int[] rows) {
      calls[model + 1]++;
      float[][] out = new float[B][];  // only the rows asked for: the aggregation must not read the others
      for (int i : rows) out[i] = all[model + 1][i].clone();
      return out;
    }
  }

  static Routing routing(Random r, int k) {
    Router router = new Router(RouterTest.prototypes(r));
    float[][] f = new float[B][];
    // images only near tasks 1 and 3 so that, for small K, some experts are never needed
    for (int i = 0; i < B; i++) f[i] = RouterTest.image(r, i % 2 == 0 ? 1 : 3, i % 3, i % 2 == 0 ? 3 : 1);
    return router.route(f, k);
  }

  /** Reference: every expert on every image, then gather; weights as documented in SemanticAggregation. */
  static double[][] direct(Counting m, Routing routing, boolean weighted, double scale) {
    int k = routing.k();
    double[][][] every = new double[T][B][CLASSES];
    for (int t = 0; t < T; t++) for (int i = 0; i < B; i++) for (int c = 0; c < CLASSES; c++) every[t][i][c] = m.all[t + 1][i][c];
    double[][] out = new double[B][CLASSES];
    for (int i = 0; i < B; i++) {
      int[] sel = routing.tasks()[i];
      float[] s = routing.scores()[i];
      double[] w = new double[k];
      double z = 0;
      for (int r = 0; r < k; r++) z += w[r] = weighted ? Math.exp(scale * s[r]) : 1;
      for (int c = 0; c < CLASSES; c++) {
        double v = m.all[0][i][c] / (k + 1.0);
        for (int r = 0; r < k; r++) v += (weighted ? k / (k + 1.0) * w[r] / z : 1 / (k + 1.0)) * every[sel[r]][i][c];
        out[i][c] = v;
      }
    }
    return out;
  }

  static int[] argmax(double[][] l) {
    int[] out = new int[l.length];
    for (int i = 0; i < l.length; i++) for (int c = 1; c < l[i].length; c++) if (l[i][c] > l[i][out[i]]) out[i] = c;
    return out;
  }

  void check(int k, SemanticAggregation agg, boolean weighted, double scale) {
    Random r = new Random(100 + k);
    Routing routing = routing(r, k);
    Counting m = new Counting(r);
    SemanticAggregation.Result got = agg.aggregate(routing, m);
    double[][] want = direct(m, routing, weighted, scale);
    for (int i = 0; i < B; i++) for (int c = 0; c < CLASSES; c++) assertEquals(want[i][c], got.logits()[i][c], 1e-4, i + "," + c);
    assertArrayEquals(argmax(want), got.predictions());
    boolean[] needed = new boolean[T];
    for (int[] row : routing.tasks()) for (int t : row) needed[t] = true;
    assertEquals(1, m.calls[0], "θ0 once");
    for (int t = 0; t < T; t++) assertEquals(needed[t] ? 1 : 0, m.calls[t + 1], "expert " + t + " calls, K = " + k);
  }

  @Test
  void unweightedMatchesRunEveryExpertThenGather() {
    for (int k : new int[] {1, 2, 4, T}) check(k, SemanticAggregation.unweighted(), false, 0);
  }

  @Test
  void weightedMatchesRunEveryExpertThenGather() {
    for (int k : new int[] {1, 2, 4, T}) check(k, SemanticAggregation.weighted(100), true, 100);
    // and the weighting matters here: distinct scores move the logits away from the plain mean
    Random r = new Random(102);
    Routing routing = routing(r, 2);
    Counting m = new Counting(r);
    float[][] w = SemanticAggregation.weighted(100).aggregate(routing, m).logits();
    float[][] u = SemanticAggregation.unweighted().aggregate(routing, m).logits();
    double diff = 0;
    for (int i = 0; i < B; i++) for (int c = 0; c < CLASSES; c++) diff = Math.max(diff, Math.abs(w[i][c] - u[i][c]));
    assertTrue(diff > 0.1, "weighted equals unweighted: " + diff);
  }

  @Test
  void unneededExpertsAreNeverEvaluated() {
    Random r = new Random(9);
    Routing routing = routing(r, 1);  // images near tasks 1 and 3 only
    Counting m = new Counting(r);
    SemanticAggregation.unweighted().aggregate(routing, m);
    assertArrayEquals(new int[] {1, 0, 1, 0, 1, 0}, m.calls);
  }

  @Test
  void weightedWithEqualScoresOrScaleZeroIsUnweighted() {
    Random r = new Random(11);
    Routing routing = routing(r, 3);
    Counting m = new Counting(r);
    float[][] a = SemanticAggregation.unweighted().aggregate(routing, m).logits();
    float[][] b = SemanticAggregation.weighted(0).aggregate(routing, m).logits();
    for (int i = 0; i < B; i++) assertArrayEquals(a[i], b[i], 1e-5f);
  }

  @Test
  void taskIdModeAveragesTheta0AndTheTask() {
    Random r = new Random(12);
    Counting m = new Counting(r);
    SemanticAggregation.Result got = SemanticAggregation.unweighted().aggregate(Routing.taskId(B, 2), m);
    for (int i = 0; i < B; i++) {
      for (int c = 0; c < CLASSES; c++) {
        assertEquals((m.all[0][i][c] + (double) m.all[3][i][c]) / 2, got.logits()[i][c], 1e-5);
      }
    }
    assertArrayEquals(new int[] {1, 0, 0, 1, 0, 0}, m.calls);
  }

  @Test
  void argmaxTiesGoToTheLowerClass() {
    assertArrayEquals(new int[] {1, 0}, SemanticAggregation.argmax(new float[][] {{0, 3, 3, 1}, {2, 2, 2, 2}}));
  }

  @Test
  void argumentErrors() {
    Random r = new Random(13);
    Routing routing = routing(r, 2);
    Counting m = new Counting(r);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SemanticAggregation.unweighted().aggregate(routing, (t, rows) -> new float[B - 1][CLASSES]));
    assertTrue(e.getMessage().contains("θ0 gave 11 rows for a batch of 12"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SemanticAggregation.unweighted()
        .aggregate(routing, (t, rows) -> t == ExpertLogits.THETA0 ? m.logits(t, rows) : new float[B][CLASSES + 1]));
    assertTrue(e.getMessage().contains("classes in row 0, expected 7"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SemanticAggregation.weighted(-1));
    assertTrue(e.getMessage().contains("scale"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Routing(new int[][] {{1, 1}}, new float[][] {{0, 0}}));
    assertTrue(e.getMessage().contains("task 1 chosen twice"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new Routing(new int[][] {{1, 2}, {0}}, new float[][] {{0, 0}, {0}}));
    assertTrue(e.getMessage().contains("expected K = 2"), e.getMessage());
  }
}
