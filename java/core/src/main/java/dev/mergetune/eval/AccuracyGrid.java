package dev.mergetune.eval;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Top-1 accuracy (%) of several methods on several datasets — a domain-generalisation or cross-dataset comparison:
 * one row per dataset (a source row is listed but not averaged), one column per method, and per method the average
 * over the target rows.
 */
public record AccuracyGrid(List<String> methods, List<Row> rows) {
  /** One dataset: each method's top-1, in {@link #methods} order. */
  public record Row(String dataset, double[] top1, boolean source) {
    public Row {
      top1 = top1.clone();
      for (double v : top1) {
        if (!Double.isFinite(v)) throw new IllegalArgumentException(dataset + ": accuracy " + v + " is not finite");
      }
    }

    @Override
    public double[] top1() {
      return top1.clone();
    }
  }

  public AccuracyGrid {
    methods = List.copyOf(methods);
    rows = List.copyOf(rows);
    if (methods.isEmpty()) throw new IllegalArgumentException("an accuracy grid needs at least one method");
    if (rows.stream().noneMatch(r -> !r.source())) throw new IllegalArgumentException("an accuracy grid needs a target row");
    Set<String> seen = new HashSet<>();
    for (Row r : rows) {
      if (!seen.add(r.dataset())) throw new IllegalArgumentException("dataset " + r.dataset() + " appears twice");
      if (r.top1.length != methods.size()) {
        throw new IllegalArgumentException(r.dataset() + ": " + r.top1.length + " accuracies for " + methods.size()
            + " methods");
      }
    }
  }

  /** Each method's mean top-1 over the target rows. */
  public double[] targetAverages() {
    double[] avg = new double[methods.size()];
    int n = 0;
    for (Row r : rows) {
      if (r.source()) continue;
      n++;
      for (int m = 0; m < avg.length; m++) avg[m] += r.top1[m];
    }
    for (int m = 0; m < avg.length; m++) avg[m] /= n;
    return avg;
  }
}
