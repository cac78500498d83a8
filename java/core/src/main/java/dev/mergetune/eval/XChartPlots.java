package dev.mergetune.eval;

import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Draws a report section's plot with XChart: only called when {@link ReportPlots#available()}. Rendering needs no
 * display: on Linux the JDK runs AWT headless by itself when {@code DISPLAY} is unset; the library never sets
 * {@code java.awt.headless} (the CLI does, through {@code NativeRuntime.configure}).
 */
final class XChartPlots {
  private XChartPlots() {}

  /**
   * Draws the section's plot into {@code file}, atomically; {@code title} is the plot's title, {@code heatMapScale}
   * the colour scale of an MTIL section ({@link HeatMapScale}).
   */
  static void write(ReportSection section, String title, Path file, double[] heatMapScale) throws IOException {
    Chart<?, ?> chart;
    if (section instanceof ReportSection.BaseToNovel b) {
      chart = BaseToNovelPlot.chart(title, b.printedRows(), b.byMethod() ? "method" : "dataset");
    } else if (section instanceof ReportSection.Mtil m) {
      chart = MtilHeatMapPlot.chart(title, m.matrix(), heatMapScale);
    } else if (section instanceof ReportSection.Accuracies a) {
      chart = AccuracyTablePlot.chart(title, a.table());
    } else if (section instanceof ReportSection.Grid g) {
      chart = AccuracyGridPlot.chart(title, g.grid());
    } else if (section instanceof ReportSection.Path p) {
      chart = PathPlot.chart(title, p.curves());
    } else {
      throw new IllegalArgumentException("no plot for a " + section.getClass().getSimpleName() + " section");
    }
    AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
  }
}
