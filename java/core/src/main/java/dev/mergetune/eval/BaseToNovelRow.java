package dev.mergetune.eval;

/**
 * One dataset's base-to-novel result (CoOp protocol, methods.md §4): top-1 accuracy on the base classes and on the
 * novel classes, in percent, and their harmonic mean.
 */
public record BaseToNovelRow(String dataset, double base, double novel) {
  public BaseToNovelRow {
    if (dataset == null || dataset.isBlank()) throw new IllegalArgumentException("a dataset name is required");
    dataset = dataset.strip();
    check(dataset, "base", base);
    check(dataset, "novel", novel);
  }

  /** HM = 2·B·N / (B + N), and 0 when both are 0. */
  public static double harmonicMean(double base, double novel) {
    check("HM", "base", base);
    check("HM", "novel", novel);
    double sum = base + novel;
    return sum == 0 ? 0 : 2 * base * novel / sum;
  }

  /** This row's HM. */
  public double hm() {
    return harmonicMean(base, novel);
  }

  private static void check(String dataset, String what, double v) {
    if (!Double.isFinite(v) || v < 0) {
      throw new IllegalArgumentException(dataset + ": " + what + " accuracy must be a finite number >= 0, got " + v);
    }
  }
}
