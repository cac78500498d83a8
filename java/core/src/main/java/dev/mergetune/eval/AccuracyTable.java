package dev.mergetune.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Top-1 accuracy (percent) per dataset, as the cross-dataset and domain-generalisation tables of the CoOp papers
 * print it (methods.md §4): optional source rows (the dataset the method was trained on, e.g. ImageNet) and the
 * target rows, whose mean is the table's Average — the source is not part of it.
 */
public final class AccuracyTable {
  /** The name of the computed average row. */
  public static final String AVERAGE = "Average";

  /** One dataset's top-1 accuracy in percent; {@code source}: a training dataset, left out of the average. */
  public record Row(String dataset, double top1, boolean source) {
    public Row {
      if (dataset == null || dataset.isBlank()) throw new IllegalArgumentException("a dataset name is required");
      dataset = dataset.strip();
      if (!Double.isFinite(top1) || top1 < 0) {
        throw new IllegalArgumentException(dataset + ": top-1 accuracy must be a finite number >= 0, got " + top1);
      }
    }

    /** A target row. */
    public static Row target(String dataset, double top1) {
      return new Row(dataset, top1, false);
    }
  }

  private final List<Row> rows;

  private AccuracyTable(List<Row> rows) {
    this.rows = rows;
  }

  /** At least one target row, distinct dataset names, none of them "Average" (that row is computed). */
  public static AccuracyTable of(List<Row> rows) {
    Set<String> seen = new HashSet<>();
    boolean target = false;
    for (Row r : rows) {
      if (r.dataset().toLowerCase(Locale.ROOT).equals(AVERAGE.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("the \"" + AVERAGE + "\" row is computed from the targets, not given");
      }
      if (!seen.add(r.dataset())) throw new IllegalArgumentException("dataset " + r.dataset() + " appears twice");
      target |= !r.source();
    }
    if (!target) throw new IllegalArgumentException("an accuracy table needs at least one target dataset");
    return new AccuracyTable(List.copyOf(rows));
  }

  /** Every row, in the given order. */
  public List<Row> rows() {
    return rows;
  }

  /** The target rows, in order. */
  public List<Row> targets() {
    List<Row> out = new ArrayList<>();
    for (Row r : rows) if (!r.source()) out.add(r);
    return List.copyOf(out);
  }

  /** The mean top-1 of the target rows. */
  public double average() {
    double sum = 0;
    List<Row> t = targets();
    for (Row r : t) sum += r.top1();
    return sum / t.size();
  }
}
