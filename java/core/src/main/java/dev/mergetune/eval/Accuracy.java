package dev.mergetune.eval;

/**
 * Top-k accuracy of a classifier's logits against integer labels, in percent (0–100, as the papers print it).
 *
 * <p>Ranking rule: class {@code a} ranks above class {@code b} when its logit is larger, or when the logits are equal
 * and {@code a < b} — ties go to the lower class index. So the top-1 prediction is the first maximal logit (what
 * {@code torch.argmax} documents), and a label is in the top k when fewer than k classes rank above it. NaN logits
 * have no rank and are rejected; ±Infinity is ordered as usual.
 */
public final class Accuracy {
  private Accuracy() {}

  /** The predicted class of one row of logits: the first maximal logit. */
  public static int predict(double[] logits) {
    return argmax(logits, 0);
  }

  /** The predicted class of one row of logits: the first maximal logit. */
  public static int predict(float[] logits) {
    return predict(widen(logits));
  }

  /** The predicted class of every row. */
  public static int[] predictions(double[][] logits) {
    int[] out = new int[logits.length];
    for (int i = 0; i < logits.length; i++) out[i] = argmax(logits[i], i);
    return out;
  }

  /** The predicted class of every row. */
  public static int[] predictions(float[][] logits) {
    int[] out = new int[logits.length];
    for (int i = 0; i < logits.length; i++) out[i] = argmax(widen(logits[i]), i);
    return out;
  }

  /** The 0-based rank of {@code label} in one row: the number of classes that rank above it (see the class doc). */
  public static int rank(double[] logits, int label) {
    requireRow(logits, 0);
    return rankOf(logits, checkLabel(label, logits.length, 0));
  }

  private static int argmax(double[] logits, int row) {
    requireRow(logits, row);
    int best = 0;
    for (int c = 1; c < logits.length; c++) {
      if (logits[c] > logits[best]) best = c;
    }
    return best;
  }

  private static int rankOf(double[] logits, int label) {
    double own = logits[label];
    int above = 0;
    for (int c = 0; c < logits.length; c++) {
      if (logits[c] > own || (logits[c] == own && c < label)) above++;
    }
    return above;
  }

  /** Top-1 accuracy in percent. */
  public static double top1(double[][] logits, int[] labels) {
    return topK(logits, labels, 1);
  }

  /** Top-1 accuracy in percent. */
  public static double top1(float[][] logits, int[] labels) {
    return topK(logits, labels, 1);
  }

  /** Top-5 accuracy in percent (needs at least 5 classes). */
  public static double top5(double[][] logits, int[] labels) {
    return topK(logits, labels, 5);
  }

  /** Top-5 accuracy in percent (needs at least 5 classes). */
  public static double top5(float[][] logits, int[] labels) {
    return topK(logits, labels, 5);
  }

  /** Top-k accuracy in percent: the share of samples whose label ranks among the first k classes. */
  public static double topK(double[][] logits, int[] labels, int k) {
    int classes = checkShape(logits.length, labels.length, logits.length == 0 ? 0 : logits[0].length, k);
    long hits = 0;
    for (int i = 0; i < logits.length; i++) {
      requireRow(logits[i], i);
      requireWidth(logits[i].length, classes, i);
      if (rankOf(logits[i], checkLabel(labels[i], classes, i)) < k) hits++;
    }
    return 100.0 * hits / logits.length;
  }

  /** Top-k accuracy in percent: the share of samples whose label ranks among the first k classes. */
  public static double topK(float[][] logits, int[] labels, int k) {
    int classes = checkShape(logits.length, labels.length, logits.length == 0 ? 0 : logits[0].length, k);
    long hits = 0;
    for (int i = 0; i < logits.length; i++) {
      requireWidth(logits[i].length, classes, i);
      double[] row = widen(logits[i]);
      requireRow(row, i);
      if (rankOf(row, checkLabel(labels[i], classes, i)) < k) hits++;
    }
    return 100.0 * hits / logits.length;
  }

  /** Per-class top-1 accuracy in percent (NaN for a class without samples); see {@link ConfusionMatrix}. */
  public static double[] perClass(double[][] logits, int[] labels) {
    return ConfusionMatrix.ofLogits(logits, labels).perClassAccuracy();
  }

  /** The mean of the per-class top-1 accuracies over the classes that have samples, in percent. */
  public static double meanPerClass(double[][] logits, int[] labels) {
    return ConfusionMatrix.ofLogits(logits, labels).meanPerClassAccuracy();
  }

  private static int checkShape(int rows, int labels, int classes, int k) {
    if (rows != labels) throw new IllegalArgumentException(rows + " rows of logits but " + labels + " labels");
    if (rows == 0) throw new IllegalArgumentException("no samples: accuracy is undefined");
    if (classes == 0) throw new IllegalArgumentException("row 0 of the logits is empty");
    if (k < 1 || k > classes) {
      throw new IllegalArgumentException("top-" + k + " needs 1 <= k <= the number of classes (" + classes + ")");
    }
    return classes;
  }

  static int checkLabel(int label, int classes, int row) {
    if (label < 0 || label >= classes) {
      throw new IllegalArgumentException("label " + label + " of sample " + row + " is outside 0.." + (classes - 1));
    }
    return label;
  }

  static void requireWidth(int width, int classes, int row) {
    if (width != classes) {
      throw new IllegalArgumentException("row " + row + " of the logits has " + width + " classes, row 0 has "
          + classes);
    }
  }

  static void requireRow(double[] row, int index) {
    if (row.length == 0) throw new IllegalArgumentException("row " + index + " of the logits is empty");
    for (int c = 0; c < row.length; c++) {
      if (Double.isNaN(row[c])) throw new IllegalArgumentException("NaN logit at sample " + index + ", class " + c);
    }
  }

  private static double[] widen(float[] row) {
    double[] out = new double[row.length];
    for (int c = 0; c < row.length; c++) out[c] = row[c];
    return out;
  }
}
