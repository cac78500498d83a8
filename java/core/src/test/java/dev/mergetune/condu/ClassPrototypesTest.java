package dev.mergetune.condu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Prototype construction against a direct double computation of methods.md §2.4. */
class ClassPrototypesTest {
  static final int D = 8;

  static float[] random(Random r) {
    float[] v = new float[D];
    for (int j = 0; j < D; j++) v[j] = (float) (3 * r.nextGaussian());  // not normalised on purpose
    return v;
  }

  static double[] unit(float[] v) {
    double s = 0;
    for (float x : v) s += (double) x * x;
    double[] out = new double[v.length];
    for (int j = 0; j < v.length; j++) out[j] = v[j] / Math.sqrt(s);
    return out;
  }

  @Test
  void matchesDirectComputationIncludingAClassWithoutImages() {
    Random r = new Random(7);
    int classes = 3;
    int templates = 4;
    int[] labels = {0, 2, 0, 0, 2};  // class 1 has no images
    float[][] img = new float[labels.length][];
    for (int n = 0; n < labels.length; n++) img[n] = random(r);
    float[][][] txt = new float[classes][templates][];
    for (int k = 0; k < classes; k++) for (int t = 0; t < templates; t++) txt[k][t] = random(r);

    Prototypes p = ClassPrototypes.build(List.of("x", "y", "z"), img, labels, txt);
    float[] got = p.values();
    assertEquals(3, p.classes());
    assertEquals(D, p.dim());
    for (int k = 0; k < classes; k++) {
      double[] imgMean = new double[D];
      int count = 0;
      for (int n = 0; n < labels.length; n++) {
        if (labels[n] != k) continue;
        double[] u = unit(img[n]);
        for (int j = 0; j < D; j++) imgMean[j] += u[j];
        count++;
      }
      double[] txtMean = new double[D];
      for (int t = 0; t < templates; t++) {
        double[] u = unit(txt[k][t]);
        for (int j = 0; j < D; j++) txtMean[j] += u[j] / templates;
      }
      double[] sum = new double[D];
      for (int j = 0; j < D; j++) sum[j] = (count > 0 ? imgMean[j] / count : 0) + txtMean[j];
      double n = 0;
      for (double x : sum) n += x * x;
      n = Math.sqrt(n);
      for (int j = 0; j < D; j++) assertEquals(sum[j] / n, got[k * D + j], 1e-6, "class " + k + " dim " + j);
    }
    // class 1 is the normalised text mean alone
    double[] txtMean = new double[D];
    for (int t = 0; t < templates; t++) {
      double[] u = unit(txt[1][t]);
      for (int j = 0; j < D; j++) txtMean[j] += u[j];
    }
    double n = 0;
    for (double x : txtMean) n += x * x;
    for (int j = 0; j < D; j++) assertEquals(txtMean[j] / Math.sqrt(n), got[D + j], 1e-6);
  }

  @Test
  void argumentErrors() {
    Random r = new Random(8);
    float[][][] txt = {{random(r)}, {random(r)}};
    List<String> names = List.of("a", "b");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ClassPrototypes.build(names, new float[][] {random(r)}, new int[] {2}, txt));
    assertTrue(e.getMessage().contains("label 2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ClassPrototypes.build(names, new float[][] {random(r)}, new int[] {0, 1}, txt));
    assertTrue(e.getMessage().contains("1 image features but 2 labels"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ClassPrototypes.build(List.of("a"), new float[0][], new int[0], txt));
    assertTrue(e.getMessage().contains("2 classes, 1 class names"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ClassPrototypes.build(names, new float[][] {new float[D + 1]}, new int[] {0}, txt));
    assertTrue(e.getMessage().contains("dimension 9, expected 8"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ClassPrototypes.build(names, new float[0][], new int[0], new float[][][] {{random(r)}, {}}));
    assertTrue(e.getMessage().contains("class 1 has no text features"), e.getMessage());
  }
}
