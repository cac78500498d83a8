package dev.mergetune.condu;

import java.util.List;

/**
 * Builds a task's class prototypes from θ0 features (methods.md §2.4): prototype k = normalize(mean of the normalised
 * image features of class k + mean of the normalised text features of class k over all templates); the text mean
 * alone when class k has no images. (The reference's "/ 2" vanishes under normalisation.)
 */
public final class ClassPrototypes {
  private ClassPrototypes() {}

  /**
   * @param imageFeatures θ0 image features of the task's training images [N, D], raw or normalised
   * @param labels class index of each image, in [0, classes)
   * @param textFeatures per class, θ0 text features of the class in every template [templates, D], raw or normalised
   */
  public static Prototypes build(List<String> classNames, float[][] imageFeatures, int[] labels,
      float[][][] textFeatures) {
    int classes = classNames.size();
    if (classes == 0) throw new IllegalArgumentException("prototypes: no classes");
    if (textFeatures.length != classes) {
      throw new IllegalArgumentException("prototypes: text features for " + textFeatures.length + " classes, "
          + classes + " class names");
    }
    if (imageFeatures.length != labels.length) {
      throw new IllegalArgumentException("prototypes: " + imageFeatures.length + " image features but "
          + labels.length + " labels");
    }
    if (textFeatures[0].length == 0) throw new IllegalArgumentException("prototypes: class 0 has no text features");
    int d = textFeatures[0][0].length;
    if (d == 0) throw new IllegalArgumentException("prototypes: zero feature dimension");

    double[][] img = new double[classes][d];
    int[] count = new int[classes];
    for (int n = 0; n < labels.length; n++) {
      int k = labels[n];
      if (k < 0 || k >= classes) {
        throw new IllegalArgumentException("prototypes: image " + n + " has label " + k + ", classes are [0, " + classes + ")");
      }
      addNormalised(img[k], imageFeatures[n], d, "image " + n);
      count[k]++;
    }
    float[] values = new float[classes * d];
    for (int k = 0; k < classes; k++) {
      float[][] texts = textFeatures[k];
      if (texts.length == 0) throw new IllegalArgumentException("prototypes: class " + k + " has no text features");
      double[] txt = new double[d];
      for (int t = 0; t < texts.length; t++) addNormalised(txt, texts[t], d, "class " + k + " template " + t);
      double[] p = new double[d];
      for (int j = 0; j < d; j++) p[j] = txt[j] / texts.length + (count[k] > 0 ? img[k][j] / count[k] : 0);
      double norm = norm(p);
      if (norm == 0) throw new IllegalArgumentException("prototypes: class " + k + " has a zero prototype");
      for (int j = 0; j < d; j++) values[k * d + j] = (float) (p[j] / norm);
    }
    return new Prototypes(classNames, d, values);
  }

  private static void addNormalised(double[] sum, float[] v, int d, String who) {
    if (v.length != d) throw new IllegalArgumentException("prototypes: " + who + " has dimension " + v.length + ", expected " + d);
    double s = 0;
    for (float x : v) s += (double) x * x;
    double norm = Math.sqrt(s);
    if (norm == 0) throw new IllegalArgumentException("prototypes: " + who + " is a zero feature");
    for (int j = 0; j < d; j++) sum[j] += v[j] / norm;
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) s += x * x;
    return Math.sqrt(s);
  }
}
