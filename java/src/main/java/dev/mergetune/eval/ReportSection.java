package dev.mergetune.eval;

import java.util.List;

/** One section of a {@link Report}: its title, the PNG file of its plot, and its data. */
sealed interface ReportSection {
  String title();

  /** The plot's file name inside the report folder. */
  String plot();

  record BaseToNovel(String title, String plot, BaseToNovelTable table) implements ReportSection {}

  record Mtil(String title, String plot, AccuracyMatrix matrix) implements ReportSection {}

  record Path(String title, String plot, List<PathCurve> curves) implements ReportSection {}

  record Accuracies(String title, String plot, AccuracyTable table) implements ReportSection {}
}
