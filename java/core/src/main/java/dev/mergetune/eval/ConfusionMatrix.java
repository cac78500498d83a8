package dev.mergetune.eval;

/**
 * Confusion counts {@code count(trueClass, predicted)} over C classes, and the accuracies derived from them, in
 * percent: overall accuracy, per-class accuracy (the diagonal over each true class's sample count; NaN for a class
 * with no samples) and its mean over the classes that have samples ("mean per-class accuracy", the metric some
 * datasets such as Aircraft, Caltech101, Flowers and Pets report instead of top-1).
 */
public final class ConfusionMatrix {
  private final long[][] counts;

  private ConfusionMatrix(long[][] counts) {
    this.counts = counts;
  }

  /** Counts from true labels and predictions, both in {@code 0..numClasses-1}. */
  public static ConfusionMatrix of(int[] labels, int[] predictions, int numClasses) {
    if (numClasses < 1) throw new IllegalArgumentException("numClasses must be at least 1, got " + numClasses);
    if (labels.length != predictions.length) {
      throw new IllegalArgumentException(labels.length + " labels but " + predictions.length + " predictions");
    }
    long[][] counts = new long[numClasses][numClasses];
    for (int i = 0; i < labels.length; i++) {
      int t = Accuracy.checkLabel(labels[i], numClasses, i);
      int p = predictions[i];
      if (p < 0 || p >= numClasses) {
        throw new IllegalArgumentException("prediction " + p + " of sample " + i + " is outside 0.." + (numClasses - 1));
      }
      counts[t][p]++;
    }
    return new ConfusionMatrix(counts);
  }

  /** Counts from logits (top-1 prediction, ties to the lower class index) and labels; C is the logits' width. */
  public static ConfusionMatrix ofLogits(double[][] logits, int[] labels) {
    if (logits.length == 0) throw new IllegalArgumentException("no samples");
    int classes = logits[0].length;
    for (int i = 0; i < logits.length; i++) Accuracy.requireWidth(logits[i].length, classes, i);
    return of(labels, Accuracy.predictions(logits), classes);
  }

  public int numClasses() {
    return counts.length;
  }

  /** How many samples of class {@code trueClass} were predicted as {@code predicted}. */
  public long count(int trueClass, int predicted) {
    return counts[trueClass][predicted];
  }

  /** A copy of the counts, indexed [true class][predicted class]. */
  public long[][] counts() {
    long[][] copy = new long[counts.length][];
    for (int t = 0; t < counts.length; t++) copy[t] = counts[t].clone();
    return copy;
  }

  /** The number of samples whose true class is {@code c}. */
  public long support(int c) {
    long n = 0;
    for (long v : counts[c]) n += v;
    return n;
  }

  public long total() {
    long n = 0;
    for (int c = 0; c < counts.length; c++) n += support(c);
    return n;
  }

  public long correct() {
    long n = 0;
    for (int c = 0; c < counts.length; c++) n += counts[c][c];
    return n;
  }

  /** Overall (top-1) accuracy in percent; NaN when there are no samples. */
  public double accuracy() {
    long total = total();
    return total == 0 ? Double.NaN : 100.0 * correct() / total;
  }

  /** Per-class accuracy in percent, NaN for a class with no samples. */
  public double[] perClassAccuracy() {
    double[] out = new double[counts.length];
    for (int c = 0; c < counts.length; c++) {
      long n = support(c);
      out[c] = n == 0 ? Double.NaN : 100.0 * counts[c][c] / n;
    }
    return out;
  }

  /** The mean of the per-class accuracies over the classes with samples, in percent; NaN when none has any. */
  public double meanPerClassAccuracy() {
    double sum = 0;
    int present = 0;
    for (double a : perClassAccuracy()) {
      if (!Double.isNaN(a)) {
        sum += a;
        present++;
      }
    }
    return present == 0 ? Double.NaN : sum / present;
  }
}
