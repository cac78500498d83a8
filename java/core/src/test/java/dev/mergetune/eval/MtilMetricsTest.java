package dev.mergetune.eval;

import static dev.mergetune.eval.AccuracyTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class MtilMetricsTest {
  /** methods.md §2.5: the ZSCL zero-shot ViT-B/16 accuracies in MTIL order I. */
  static final List<String> ORDER_I = List.of("Aircraft", "Caltech101", "CIFAR100", "DTD", "EuroSAT", "Flowers",
      "Food", "MNIST", "OxfordPet", "Cars", "SUN397");
  static final double[] ZSCL_ZERO_SHOT = {24.3, 88.4, 68.2, 44.6, 54.9, 71.0, 88.5, 59.4, 89.0, 64.7, 65.2};

  /** The zero-shot model never changes, so every session's row is the same zero-shot row. */
  static double[][] zsclZeroShotMatrix() {
    double[][] a = new double[11][];
    for (int s = 0; s < 11; s++) a[s] = ZSCL_ZERO_SHOT.clone();
    return a;
  }

  @Test
  void goldenThreeByThree() {
    double[][] a = {
        {80, 60, 50},
        {70, 90, 55},
        {65, 85, 95}};
    AccuracyMatrix m = AccuracyMatrix.of(a);
    // Transfer: d=1: mean(A[0][1]) = 60; d=2: mean(A[0][2], A[1][2]) = (50 + 55) / 2 = 52.5;
    //           (60 + 52.5) / 2 = 56.25
    assertEquals(60.0, m.transferOf(1), 1e-12);
    assertEquals(52.5, m.transferOf(2), 1e-12);
    assertEquals(56.25, m.transfer(), 1e-12);
    // Average: (80+60+50 + 70+90+55 + 65+85+95) / 9 = 650 / 9 = 72.222...
    assertEquals(650.0 / 9, m.average(), 1e-12);
    // Last: (65 + 85 + 95) / 3 = 245 / 3 = 81.666...
    assertEquals(245.0 / 3, m.last(), 1e-12);
    // column means (the papers' per-dataset "Avg."): (80+70+65)/3, (60+90+85)/3, (50+55+95)/3
    assertEquals(215.0 / 3, m.averageOf(0), 1e-12);
    assertEquals(235.0 / 3, m.averageOf(1), 1e-12);
    assertEquals(200.0 / 3, m.averageOf(2), 1e-12);
    assertEquals(List.of("D1", "D2", "D3"), m.datasets());
  }

  @Test
  void goldenTwoByTwo() {
    // T = 2: Transfer is the single entry A[0][1]; Average (10+20+30+40)/4 = 25; Last (30+40)/2 = 35
    MtilMetrics x = AccuracyMatrix.of(new double[][] {{10, 20}, {30, 40}}).metrics();
    assertEquals(20.0, x.transfer(), 0);
    assertEquals(25.0, x.average(), 0);
    assertEquals(35.0, x.last(), 0);
    assertEquals("Transfer 20.0 / Average 25.0 / Last 35.0", x.toString());
  }

  @Test
  void zsclZeroShotRowGivesTransfer69Point4() {
    AccuracyMatrix m = AccuracyMatrix.of(zsclZeroShotMatrix(), ORDER_I, false);
    MtilMetrics x = m.metrics();
    // Transfer: every column d >= 1 is constant, so it is the mean of the last ten zero-shot numbers:
    //   (88.4 + 68.2 + 44.6 + 54.9 + 71.0 + 88.5 + 59.4 + 89.0 + 64.7 + 65.2) / 10 = 693.9 / 10 = 69.39
    assertEquals(69.39, x.transfer(), 1e-9);
    assertEquals("69.4", String.format(Locale.ROOT, "%.1f", x.transfer()));
    // Average = Last = the mean of the row: (24.3 + 693.9) / 11 = 718.2 / 11 = 65.2909...
    assertEquals(718.2 / 11, x.average(), 1e-9);
    assertEquals(718.2 / 11, x.last(), 1e-9);
    assertEquals("Transfer 69.4 / Average 65.3 / Last 65.3", x.toString());
  }

  @Test
  void taskAgnosticIsALabelWithTheSameFormulas() {
    AccuracyMatrix m = AccuracyMatrix.of(zsclZeroShotMatrix(), ORDER_I, false);
    AccuracyMatrix ta = m.withTaskAgnostic(true);
    assertTrue(ta.taskAgnostic());
    assertFalse(m.taskAgnostic());
    assertEquals(m.transfer(), ta.transfer(), 0);
    assertEquals(m.average(), ta.average(), 0);
    assertEquals(m.last(), ta.last(), 0);
    assertTrue(ta.metrics().toString().endsWith("(task-agnostic)"));
  }

  @Test
  void badMatricesAreRejected() {
    assertMessage("T >= 2", () -> AccuracyMatrix.of(new double[][] {{1}}));
    assertMessage("row 2 of 2 has 3 entries", () -> AccuracyMatrix.of(new double[][] {{1, 2}, {1, 2, 3}}));
    assertMessage("entry [1][2] is not finite", () -> AccuracyMatrix.of(new double[][] {{1, Double.NaN}, {1, 2}}));
    assertMessage("1 dataset names for a 2 x 2 matrix",
        () -> AccuracyMatrix.of(new double[][] {{1, 2}, {3, 4}}, List.of("a"), false));
    assertMessage("dataset name a appears twice",
        () -> AccuracyMatrix.of(new double[][] {{1, 2}, {3, 4}}, List.of("a", " a "), false));
    assertMessage("transfer is defined for datasets 1..1",
        () -> AccuracyMatrix.of(new double[][] {{1, 2}, {3, 4}}).transferOf(0));
  }

  @Test
  void theMatrixIsCopied() {
    double[][] a = {{1, 2}, {3, 4}};
    AccuracyMatrix m = AccuracyMatrix.of(a);
    a[1][1] = 100;
    m.toArray()[1][0] = 100;
    assertEquals(3.5, m.last(), 0);
  }

  /**
   * Transfer reads only the strict upper triangle, Last only the last row, and a constant matrix gives the constant
   * for all three.
   */
  @Property(tries = 200)
  void eachMetricReadsOnlyItsEntries(@ForAll @IntRange(min = 2, max = 15) int t, @ForAll long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] a = new double[t][t];
    for (double[] row : a) {
      for (int d = 0; d < t; d++) row[d] = r.nextDouble(0, 100);
    }
    AccuracyMatrix m = AccuracyMatrix.of(a);
    double[][] b = m.toArray();
    for (int s = 0; s < t - 1; s++) {
      for (int d = 0; d <= s; d++) b[s][d] = r.nextDouble(0, 100); // diagonal and below, last row kept
    }
    AccuracyMatrix changed = AccuracyMatrix.of(b);
    assertEquals(m.transfer(), changed.transfer(), 1e-12);
    assertEquals(m.last(), changed.last(), 1e-12);
    double c = r.nextDouble(0, 100);
    double[][] constant = new double[t][t];
    for (double[] row : constant) java.util.Arrays.fill(row, c);
    MtilMetrics x = AccuracyMatrix.of(constant).metrics();
    assertEquals(c, x.transfer(), 1e-9);
    assertEquals(c, x.average(), 1e-9);
    assertEquals(c, x.last(), 1e-9);
  }
}
