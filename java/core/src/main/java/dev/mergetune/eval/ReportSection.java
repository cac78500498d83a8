package dev.mergetune.eval;

import java.util.List;

/** One section of a {@link Report}: its title, the PNG file of its plot, and its data. */
sealed interface ReportSection {
  String title();

  /** The plot's file name inside the report folder. */
  String plot();

  /** {@code byMethod}: the rows are methods on one dataset (no Average row), else datasets. */
  record BaseToNovel(String title, String plot, BaseToNovelTable table, boolean byMethod) implements ReportSection {
    /** The rows as printed: with the Average row for datasets, as given for methods. */
    List<BaseToNovelRow> printedRows() {
      return byMethod ? table.rows() : table.rowsWithAverage();
    }
  }

  /** {@code description}: how the entries were obtained, in one sentence (null: the matrix says nothing of it). */
  record Mtil(String title, String plot, AccuracyMatrix matrix, String description) implements ReportSection {}

  record Path(String title, String plot, List<PathCurve> curves) implements ReportSection {}

  record Accuracies(String title, String plot, AccuracyTable table) implements ReportSection {}

  record Grid(String title, String plot, AccuracyGrid grid) implements ReportSection {}

  /** Prose (Markdown) for the reader; no plot ({@link #plot} is null). */
  record Text(String title, String plot, String markdown) implements ReportSection {}
}
