package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.reference.TiesReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** K4c through the Java API against hand-worked vectors and TiesReference (written from the reference tools' code). */
class TiesTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureLoaded();
  }

  /** A parameter set in direct buffers: tensors t0, t1, … of the given lengths, flattened values. */
  private record Set(String[] names, long[] lengths, ByteBuffer buffer) {
    static Set of(int[] lengths, float[] flat) {
      int total = 0;
      for (int n : lengths) total += n;
      if (flat.length != total) throw new IllegalArgumentException("values do not tile the lengths");
      ByteBuffer b = ByteBuffer.allocateDirect(Math.max(4, total * 4)).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(flat);
      String[] names = new String[lengths.length];
      long[] lens = new long[lengths.length];
      for (int s = 0; s < lengths.length; s++) {
        names[s] = "t" + s;
        lens[s] = lengths[s];
      }
      return new Set(names, lens, b);
    }

    SegmentTable table() {
      long at = new BytePointer(buffer).address();
      long[] addresses = new long[lengths.length];
      for (int s = 0; s < lengths.length; s++) {
        addresses[s] = at;
        at += lengths[s] * 4;
      }
      return SegmentTable.ofAddresses(DeviceKind.CPU, names, addresses, lengths);
    }

    float[] values() {
      float[] out = new float[buffer.capacity() / 4];
      buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }
  }

  private static float[] merge(int[] lengths, float[] base, float[][] models, float[] weights, Ties.Options o) {
    Set b = Set.of(lengths, base);
    Set out = Set.of(lengths, new float[base.length]);
    List<SegmentTable> tables = new ArrayList<>();
    List<Set> keep = new ArrayList<>();
    for (float[] m : models) {
      Set s = Set.of(lengths, m);
      keep.add(s);
      tables.add(s.table());
    }
    Ties.merge(out.table(), b.table(), tables, weights, o);
    float[] v = out.values();
    return java.util.Arrays.copyOf(v, base.length);
  }

  private static float[] ones(int n) {
    float[] w = new float[n];
    java.util.Arrays.fill(w, 1f);
    return w;
  }

  @Test
  void workedVectorOfThePresets() {
    // δ1 = [.5, −.2, .1, 0], δ2 = [−.3, .4, .1, −.6], δ3 = [.2, −.1, −.7, .3]; base 0, one tensor of 4.
    float[][] m = {{.5f, -.2f, .1f, 0f}, {-.3f, .4f, .1f, -.6f}, {.2f, -.1f, -.7f, .3f}};
    float[] base = new float[4];
    // mergekit at density 0.5 keeps exactly int(4·0.5) = 2 per model: {j0, j1}, {j1, j3}, {j2, j3}.
    // mass: [.5, .2, −.7, −.3] → [+, +, −, −] → mean [.5, .4, −.7, −.6]
    assertArrayEquals(new float[] {.5f, .4f, -.7f, -.6f},
        merge(new int[] {4}, base, m, ones(3), Ties.Options.mergekit().withDensity(0.5)), 1e-7f);
    // paper at density 0.5: kthvalue(4 − 2 = 2nd smallest) and >= keeps int(4·.5)+1 = 3 per model:
    //   model 1 keeps {.5, .2, .1}, model 2 {.3, .4, .6}, model 3 {.2, .7, .3}
    //   v = [.5, −.2, .1, 0], [−.3, .4, 0, −.6], [.2, 0, −.7, .3]; mass [.4, .2, −.6, −.3]
    //   disjoint mean: j0 (.5+.2)/2 = .35, j1 .4, j2 −.7, j3 −.6
    assertArrayEquals(new float[] {.35f, .4f, -.7f, -.6f},
        merge(new int[] {4}, base, m, ones(3), Ties.Options.paper().withDensity(0.5)), 1e-7f);
    // fusionbench: the same trim, disjoint sum, λ = 0.3: 0.3·[.7, .4, −.7, −.6]
    assertArrayEquals(new float[] {.21f, .12f, -.21f, -.18f},
        merge(new int[] {4}, base, m, ones(3), Ties.Options.fusionbench().withDensity(0.5)), 1e-7f);
  }

  @Test
  void thePaperKeepsOneMoreThanMergekitAndEveryTie() {
    // Ten distinct magnitudes at density 0.2: the TIES code keeps 3 (int(10·.2) + 1), mergekit exactly 2.
    float[] d = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10};
    float[] base = new float[10];
    float[] paper = merge(new int[] {10}, base, new float[][] {d}, ones(1), Ties.Options.paper());
    float[] mk = merge(new int[] {10}, base, new float[][] {d}, ones(1), Ties.Options.mergekit());
    assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, -8, 9, -10}, paper);
    assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 0, 9, -10}, mk);
    // Ties at the threshold: every 3 kept by kthvalue, the first by mergekit's exact top-k.
    float[] tied = {3, 1, -3, 3, 1, 1, 1, 1, 1, 1};
    assertArrayEquals(new float[] {3, 0, -3, 3, 0, 0, 0, 0, 0, 0},
        merge(new int[] {10}, base, new float[][] {tied}, ones(1), Ties.Options.paper().withLambda(1f)));
    assertArrayEquals(new float[] {3, 0, -3, 0, 0, 0, 0, 0, 0, 0},
        merge(new int[] {10}, base, new float[][] {tied}, ones(1), Ties.Options.mergekit()));
  }

  @Test
  void globalTrimCountsAcrossTensors() {
    // Two tensors [1, 2, 3] and [10, 20]; global top 40% of 5 = int(2)+1 = 3 (paper) → keeps 20, 10, 3.
    float[] d = {1, 2, 3, 10, 20};
    float[] got = merge(new int[] {3, 2}, new float[5], new float[][] {d}, ones(1), Ties.Options.paper().withDensity(0.4));
    assertArrayEquals(new float[] {0, 0, 3, 10, 20}, got);
    // Per tensor instead: int(3·.4)+1 = 2 of the first ([2, 3]), int(2·.4)+1 = 1 of the second ([20]).
    float[] perTensor = merge(new int[] {3, 2}, new float[5], new float[][] {d}, ones(1),
        Ties.Options.paper().withDensity(0.4).withScope(Ties.Scope.PER_TENSOR));
    assertArrayEquals(new float[] {0, 2, 3, 0, 20}, perTensor);
  }

  @Test
  void zeroElectionTakesTheMajoritySignOrPlusOne() {
    // Element 0 cancels exactly (+1, −1); elements 1, 2 are negative, so the majority elected sign is −1:
    // the paper takes the negative entry at element 0, mergekit the positive one.
    float[][] m = {{1, -1, -1}, {-1, -2, -2}};
    float[] base = new float[3];
    Ties.Options keepAll = Ties.Options.paper().withDensity(1.0);
    assertArrayEquals(new float[] {-1, -1.5f, -1.5f}, merge(new int[] {3}, base, m, ones(2), keepAll));
    assertArrayEquals(new float[] {1, -1.5f, -1.5f},
        merge(new int[] {3}, base, m, ones(2), keepAll.withZeroSign(Ties.ZeroSign.POSITIVE)));
  }

  @Test
  void negativeWeightsAndOneModel() {
    // w = (−1, 1) on δ = (+1, +.5): v = (−1, .5), mass −.5 → the negative side: mean −1/−1 = +1, sum −1.
    float[][] m = {{1}, {.5f}};
    Ties.Options all = Ties.Options.mergekit().withDensity(1.0);
    assertArrayEquals(new float[] {1f}, merge(new int[] {1}, new float[1], m, new float[] {-1, 1}, all));
    assertArrayEquals(new float[] {-1f}, merge(new int[] {1}, new float[1], m, new float[] {-1, 1},
        all.withAggregate(Ties.Aggregate.DISJOINT_SUM)));
    // One model: its trimmed task vector, times λ.
    float[] base = {1, 1, 1, 1};
    float[] one = merge(new int[] {4}, base, new float[][] {{2, 0.5f, 1, 5}}, ones(1),
        Ties.Options.mergekit().withDensity(0.5).withLambda(2f));
    assertArrayEquals(new float[] {3, 1, 1, 9}, one);  // keeps δ = 1 and 4 (top 2): 1 + 2·δ
  }

  @Test
  void disjointMaxTakesTheLargestAgreeingMagnitudeTimesTheSign() {
    // Everything kept. Element 0: (1, 4, 2) → 4 (mean 7/3, sum 7); element 1: (−1, −4, .5) → mass − → −4;
    // element 2: (2, −2, 0) cancels → the zero sign: the elected signs of the set are +, −, 0, so the paper's
    // majority is 0 and the official code's max · 0 gives 0; the positive zero sign takes 2.
    float[][] m = {{1, -1, 2}, {4, -4, -2}, {2, 0.5f, 0}};
    float[] base = new float[3];
    Ties.Options paperMax = Ties.Options.paper().withDensity(1.0).withAggregate(Ties.Aggregate.DISJOINT_MAX);
    assertArrayEquals(new float[] {4, -4, 0}, merge(new int[] {3}, base, m, ones(3), paperMax));
    assertArrayEquals(new float[] {4, -4, 2},
        merge(new int[] {3}, base, m, ones(3), paperMax.withZeroSign(Ties.ZeroSign.POSITIVE)));
    // Weights scale the entries before the maximum: w = (1, .25, 1) → element 0: max(1, 1, 2) = 2.
    assertArrayEquals(new float[] {2, -1, 2}, merge(new int[] {3}, base, m, new float[] {1, .25f, 1},
        paperMax.withZeroSign(Ties.ZeroSign.POSITIVE)), "weighted");
  }

  @Test
  void tinyTensorsAndDensityZero() {
    // n = 1 at density 0.2: the paper keeps it (int(0.2)+1 = 1), mergekit keeps none (int(0.2) = 0).
    float[][] m = {{4}};
    assertArrayEquals(new float[] {4}, merge(new int[] {1}, new float[1], m, ones(1),
        Ties.Options.paper().withScope(Ties.Scope.PER_TENSOR)));
    assertArrayEquals(new float[] {0}, merge(new int[] {1}, new float[1], m, ones(1), Ties.Options.mergekit()));
    assertArrayEquals(new float[] {0, 0}, merge(new int[] {2}, new float[2], new float[][] {{1, 2}}, ones(1),
        Ties.Options.mergekit().withDensity(0)));
  }

  /** Random sets with repeated magnitudes, exact zeros and cancellations, against TiesReference for every preset. */
  @Test
  void randomSetsMatchTheReferenceForEveryPresetAndVariant() {
    SplittableRandom rng = new SplittableRandom(7);
    int[] lengths = {1, 37, 0, 1000, 3, 4097};
    int n = 0;
    for (int len : lengths) n += len;
    int t = 4;
    float[] base = new float[n];
    float[][] models = new float[t][n];
    for (int j = 0; j < n; j++) {
      base[j] = (float) rng.nextGaussian();
      for (int i = 0; i < t; i++) {
        int pick = rng.nextInt(20);
        float d = (float) (0.01 * rng.nextGaussian());
        if (pick == 0) d = 0;
        if (pick == 1) d = 0.0078125f;
        if (pick == 2) d = -0.0078125f;
        if (pick == 3 && i > 0) d = -(models[0][j] - base[j]);
        models[i][j] = base[j] + d;
      }
    }
    float[] w = {1f, 0.5f, -0.25f, 2f};
    List<Ties.Options> variants = new ArrayList<>();
    for (Ties.Options p : List.of(Ties.Options.paper(), Ties.Options.fusionbench(), Ties.Options.mergekit())) {
      variants.add(p);
      variants.add(p.withElection(Ties.Election.COUNT));
      variants.add(p.withScope(p.scope() == Ties.Scope.GLOBAL ? Ties.Scope.PER_TENSOR : Ties.Scope.GLOBAL));
      variants.add(p.withSelection(p.selection() == Ties.Selection.TOPK ? Ties.Selection.KTHVALUE : Ties.Selection.TOPK));
      variants.add(p.withZeroSign(p.zeroSign() == Ties.ZeroSign.MAJORITY ? Ties.ZeroSign.POSITIVE : Ties.ZeroSign.MAJORITY)
          .withDensity(0.05));
      variants.add(p.withAggregate(Ties.Aggregate.DISJOINT_MAX));
      variants.add(p.withAggregate(Ties.Aggregate.DISJOINT_MAX).withElection(Ties.Election.COUNT));
    }
    for (Ties.Options o : variants) {
      float[] got = merge(lengths, base, models, w, o);
      double[] want = TiesReference.merge(base, models, w, lengths, o);
      int bad = 0;
      for (int j = 0; j < n; j++) {
        double scale = Math.abs(base[j]) + Math.abs(o.lambda()) * 0.1;
        if (!(Math.abs(got[j] - want[j]) <= 2e-7 * scale)) bad++;
      }
      assertEquals(0, bad, o + ": elements off the reference");
    }
  }

  @Test
  void nanIsReportedWithItsModelAndTensor() {
    float[][] m = {{1, 2, 3}, {1, Float.NaN, 3}};
    NonFiniteException e = assertThrows(NonFiniteException.class,
        () -> merge(new int[] {3}, new float[3], m, ones(2), Ties.Options.paper()));
    assertEquals("t0", e.tensor());
    assertEquals(1, e.element());
    assertTrue(e.getMessage().contains("model 1"), e.getMessage());
  }

  @Test
  void badOptionsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Ties.Options.paper().withDensity(1.5));
    assertThrows(IllegalArgumentException.class, () -> Ties.Options.paper().withLambda(Float.NaN));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ties.Options.preset("ties++"));
    assertTrue(e.getMessage().contains("paper, fusionbench, mergekit"));
    assertThrows(IllegalArgumentException.class,
        () -> merge(new int[] {1}, new float[1], new float[][] {{1}}, new float[] {1, 1}, Ties.Options.paper()));
  }
}
