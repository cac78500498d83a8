package dev.mergetune.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AccuracyTest {
  // 4 samples, 6 classes.
  private static final double[][] LOGITS = {
      {0.1, 0.9, 0.3, 0.2, 0.0, -1.0}, // order 1,2,3,0,4,5; label 1 -> rank 0 (top-1 hit)
      {2.0, 1.0, 3.0, 0.5, 0.4, 0.3},  // order 2,0,1,3,4,5; label 0 -> rank 1 (top-1 miss, top-5 hit)
      {0.0, 0.1, 0.2, 0.3, 0.4, 0.5},  // order 5,4,3,2,1,0; label 0 -> rank 5 (top-5 miss)
      {1.0, 1.0, 1.0, 0.0, 0.0, 0.0}}; // a tie: order 0,1,2,3,4,5; label 2 -> rank 2 (miss, top-5 hit)
  private static final int[] LABELS = {1, 0, 0, 2};

  @Test
  void goldenTopOneAndTopFive() {
    // top-1: only sample 0 hits -> 1/4 = 25 %
    assertEquals(25.0, Accuracy.top1(LOGITS, LABELS), 1e-12);
    // top-5: samples 0, 1, 3 have rank < 5 -> 3/4 = 75 %
    assertEquals(75.0, Accuracy.top5(LOGITS, LABELS), 1e-12);
    // top-2: ranks 0, 1, 5, 2 -> samples 0 and 1 -> 50 %
    assertEquals(50.0, Accuracy.topK(LOGITS, LABELS, 2), 1e-12);
    // top-6 = every class: 100 %
    assertEquals(100.0, Accuracy.topK(LOGITS, LABELS, 6), 1e-12);
    assertArrayEquals(new int[] {1, 2, 5, 0}, Accuracy.predictions(LOGITS));
  }

  @Test
  void tiesGoToTheLowerClassIndex() {
    double[] tied = {0.5, 2.0, 2.0, 2.0};
    assertEquals(1, Accuracy.predict(tied));
    assertEquals(0, Accuracy.rank(tied, 1));
    assertEquals(1, Accuracy.rank(tied, 2)); // class 1 ranks above it
    assertEquals(2, Accuracy.rank(tied, 3)); // classes 1 and 2 rank above it
    assertEquals(3, Accuracy.rank(tied, 0));
    // label 3 of the tie is in the top 3 but not the top 2
    assertEquals(0.0, Accuracy.topK(new double[][] {tied}, new int[] {3}, 2), 0);
    assertEquals(100.0, Accuracy.topK(new double[][] {tied}, new int[] {3}, 3), 0);
    // infinities are ordered, -0.0 == 0.0 is a tie
    assertEquals(2, Accuracy.predict(new double[] {Double.NEGATIVE_INFINITY, 1, Double.POSITIVE_INFINITY}));
    assertEquals(0, Accuracy.predict(new double[] {-0.0, 0.0}));
  }

  @Test
  void floatLogitsGiveTheSameAnswers() {
    float[][] f = new float[LOGITS.length][];
    for (int i = 0; i < LOGITS.length; i++) {
      f[i] = new float[LOGITS[i].length];
      for (int c = 0; c < f[i].length; c++) f[i][c] = (float) LOGITS[i][c];
    }
    assertEquals(25.0, Accuracy.top1(f, LABELS), 1e-12);
    assertEquals(75.0, Accuracy.top5(f, LABELS), 1e-12);
    assertArrayEquals(new int[] {1, 2, 5, 0}, Accuracy.predictions(f));
    assertEquals(2, Accuracy.predict(new float[] {0f, 1f, 3f}));
  }

  @Test
  void perClassAccuracyAndItsMean() {
    // predictions 1,2,5,0 against labels 1,0,0,2: class 0 has 2 samples, 0 right; class 1 has 1, right;
    // class 2 has 1, wrong; classes 3..5 have none (NaN). Mean over present classes = (0 + 100 + 0) / 3.
    double[] pc = Accuracy.perClass(LOGITS, LABELS);
    assertEquals(0.0, pc[0], 0);
    assertEquals(100.0, pc[1], 0);
    assertEquals(0.0, pc[2], 0);
    assertTrue(Double.isNaN(pc[3]) && Double.isNaN(pc[4]) && Double.isNaN(pc[5]));
    assertEquals(100.0 / 3, Accuracy.meanPerClass(LOGITS, LABELS), 1e-12);
  }

  @Test
  void badInputsAreRejectedWithReasons() {
    assertMessage("2 rows of logits but 1 labels", () -> Accuracy.top1(new double[][] {{1, 2}, {3, 4}}, new int[] {0}));
    assertMessage("no samples", () -> Accuracy.top1(new double[0][], new int[0]));
    assertMessage("label 2 of sample 0 is outside 0..1", () -> Accuracy.top1(new double[][] {{1, 2}}, new int[] {2}));
    assertMessage("label -1", () -> Accuracy.top1(new double[][] {{1, 2}}, new int[] {-1}));
    assertMessage("NaN logit at sample 1, class 0",
        () -> Accuracy.top1(new double[][] {{1, 2}, {Double.NaN, 0}}, new int[] {0, 0}));
    assertMessage("top-5 needs 1 <= k <= the number of classes (3)",
        () -> Accuracy.top5(new double[][] {{1, 2, 3}}, new int[] {0}));
    assertMessage("row 1 of the logits has 2 classes, row 0 has 3",
        () -> Accuracy.top1(new double[][] {{1, 2, 3}, {1, 2}}, new int[] {0, 0}));
    assertMessage("row 0 of the logits is empty", () -> Accuracy.predict(new double[0]));
  }

  /** top-k grows with k, reaches 100 % at k = C, and top-1 is the share of argmax hits. */
  @Property(tries = 200)
  void topKIsMonotoneAndConsistentWithPredictions(@ForAll @IntRange(min = 1, max = 40) int n,
      @ForAll @IntRange(min = 1, max = 12) int classes, @ForAll long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] logits = new double[n][classes];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(classes);
      for (int c = 0; c < classes; c++) logits[i][c] = r.nextInt(4); // small integers: many ties
    }
    double previous = 0;
    for (int k = 1; k <= classes; k++) {
      double acc = Accuracy.topK(logits, labels, k);
      assertTrue(acc >= previous, "top-" + k);
      previous = acc;
    }
    assertEquals(100.0, previous, 1e-12);
    int hits = 0;
    int[] pred = Accuracy.predictions(logits);
    for (int i = 0; i < n; i++) {
      if (pred[i] == labels[i]) hits++;
      assertEquals(pred[i] == labels[i], Accuracy.rank(logits[i], labels[i]) == 0);
    }
    assertEquals(100.0 * hits / n, Accuracy.top1(logits, labels), 1e-12);
    assertEquals(Accuracy.top1(logits, labels), ConfusionMatrix.ofLogits(logits, labels).accuracy(), 1e-12);
  }

  static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }
}
