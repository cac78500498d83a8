package dev.mergetune.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** α grids and the loss of the path command, without a model. */
class InterpolationPathTest {
  @Test
  void rangesIncludeTheirStopInExactDecimals() {
    double[] a = InterpolationPath.parseAlphas("0:1:0.1");
    assertEquals(11, a.length);
    assertEquals(0.3, a[3], 0);  // 0.3 itself, not 0.1 + 0.1 + 0.1
    assertEquals(1.0, a[10], 0);
    assertArrayEquals(new double[] {-0.5, 0, 0.5, 1, 1.5}, InterpolationPath.parseAlphas(" -0.5 : 1.5 : 0.5 "), 0);
    assertArrayEquals(new double[] {0, 0.4, 0.8}, InterpolationPath.parseAlphas("0:1:0.4"), 0);  // 1.2 > stop
    assertArrayEquals(new double[] {0, 0.25, 1}, InterpolationPath.parseAlphas("0, 0.25,1"), 0);
  }

  @Test
  void badGridsSayWhy() {
    String[][] cases = {{"", "alphas: no values given"}, {"0:1", "start:stop:step"}, {"0:1:0", "must be > 0"},
        {"1:0:0.1", "below its start"}, {"0,0", "must increase"}, {"0,a", "not a number"},
        {"0", "at least 2"}, {"0:1:0.00001", "more than 10000"}};
    for (String[] c : cases) {
      String m = assertThrows(IllegalArgumentException.class, () -> InterpolationPath.parseAlphas(c[0])).getMessage();
      assertTrue(m.contains(c[1]), c[1] + " in " + m);
    }
  }

  @Test
  void crossEntropyIsTheMeanNegativeLogSoftmaxOfTheLabel() {
    float[][] logits = {{2f, 0f, 0f}, {0f, 0f, 0f}, {1000f, 0f, 999f}};
    int[] labels = {0, 1, 2};
    double want = (-Math.log(Math.exp(2) / (Math.exp(2) + 2)) + Math.log(3) + Math.log1p(Math.exp(-1)) + 1) / 3;
    assertEquals(want, InterpolationPath.crossEntropy(logits, labels), 1e-12);
  }
}
