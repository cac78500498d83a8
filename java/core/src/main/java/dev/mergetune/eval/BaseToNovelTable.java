package dev.mergetune.eval;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A base-to-novel table: one {@link BaseToNovelRow} per dataset, each with its HM, and the average row.
 *
 * <p>The average row follows the CoOp papers (methods.md §4): its Base and Novel are the means of the datasets'
 * Base and Novel, and its HM is the harmonic mean of those two means — not the mean of the per-dataset HMs (which
 * is never larger, and usually a little smaller).
 */
public final class BaseToNovelTable {
  /** The name of the computed average row. */
  public static final String AVERAGE = "Average";

  private final List<BaseToNovelRow> rows;

  private BaseToNovelTable(List<BaseToNovelRow> rows) {
    this.rows = rows;
  }

  /** A table of at least one row with distinct dataset names, none of them "Average" (that row is computed). */
  public static BaseToNovelTable of(List<BaseToNovelRow> rows) {
    if (rows.isEmpty()) throw new IllegalArgumentException("a base-to-novel table needs at least one dataset");
    Set<String> seen = new HashSet<>();
    for (BaseToNovelRow r : rows) {
      if (r.dataset().toLowerCase(Locale.ROOT).equals(AVERAGE.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("the \"" + AVERAGE + "\" row is computed from the datasets, not given");
      }
      if (!seen.add(r.dataset())) throw new IllegalArgumentException("dataset " + r.dataset() + " appears twice");
    }
    return new BaseToNovelTable(List.copyOf(rows));
  }

  /** The per-dataset rows, in the given order. */
  public List<BaseToNovelRow> rows() {
    return rows;
  }

  /** The average row: mean Base, mean Novel, and (through {@link BaseToNovelRow#hm()}) the HM of those means. */
  public BaseToNovelRow average() {
    double base = 0;
    double novel = 0;
    for (BaseToNovelRow r : rows) {
      base += r.base();
      novel += r.novel();
    }
    return new BaseToNovelRow(AVERAGE, base / rows.size(), novel / rows.size());
  }

  /** The per-dataset rows followed by the average row, as the papers print the table. */
  public List<BaseToNovelRow> rowsWithAverage() {
    List<BaseToNovelRow> all = new java.util.ArrayList<>(rows);
    all.add(average());
    return List.copyOf(all);
  }
}
