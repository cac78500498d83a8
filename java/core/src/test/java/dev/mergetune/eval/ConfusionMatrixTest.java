package dev.mergetune.eval;

import static dev.mergetune.eval.AccuracyTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfusionMatrixTest {
  @Test
  void goldenCounts() {
    int[] labels = {0, 0, 0, 1, 1, 2, 2, 2, 2, 2};
    int[] preds = {0, 1, 0, 1, 1, 2, 0, 2, 2, 1};
    ConfusionMatrix m = ConfusionMatrix.of(labels, preds, 4);
    // rows = true class, columns = predicted
    assertArrayEquals(new long[][] {{2, 1, 0, 0}, {0, 2, 0, 0}, {1, 1, 3, 0}, {0, 0, 0, 0}}, m.counts());
    assertEquals(10, m.total());
    assertEquals(7, m.correct()); // 2 + 2 + 3
    assertEquals(70.0, m.accuracy(), 1e-12);
    assertEquals(5, m.support(2));
    double[] pc = m.perClassAccuracy();
    assertEquals(200.0 / 3, pc[0], 1e-12); // 2 of 3
    assertEquals(100.0, pc[1], 1e-12);     // 2 of 2
    assertEquals(60.0, pc[2], 1e-12);      // 3 of 5
    assertTrue(Double.isNaN(pc[3]));       // no samples
    // mean over the three classes with samples: (66.667 + 100 + 60) / 3 = 75.556
    assertEquals((200.0 / 3 + 100 + 60) / 3, m.meanPerClassAccuracy(), 1e-12);
  }

  @Test
  void emptyAndBadInputs() {
    ConfusionMatrix empty = ConfusionMatrix.of(new int[0], new int[0], 3);
    assertTrue(Double.isNaN(empty.accuracy()) && Double.isNaN(empty.meanPerClassAccuracy()));
    assertMessage("prediction 3 of sample 0 is outside 0..2", () -> ConfusionMatrix.of(new int[] {0}, new int[] {3}, 3));
    assertMessage("2 labels but 1 predictions", () -> ConfusionMatrix.of(new int[] {0, 1}, new int[] {0}, 3));
    assertMessage("numClasses must be at least 1", () -> ConfusionMatrix.of(new int[0], new int[0], 0));
  }
}
