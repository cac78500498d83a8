package dev.mergetune.eval;

import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.style.HeatMapStyler;
import org.knowm.xchart.style.Styler;

/**
 * The MTIL accuracy matrix as a heat map: datasets across, sessions down (the first session on top), each cell
 * annotated with its value to one decimal, a continuous colour bar as the legend. The palette is light enough for the
 * black annotations to stay readable on every cell.
 */
final class MtilHeatMapPlot {
  private static final Color[] PALETTE = {
      new Color(255, 255, 217), new Color(199, 233, 180), new Color(127, 205, 187), new Color(65, 182, 196),
      new Color(44, 127, 184)};

  private MtilHeatMapPlot() {}

  static int width(AccuracyMatrix m) {
    return width(m, "");
  }

  /** Wide enough for the matrix and for the one-line title (measured in the title font). */
  static int width(AccuracyMatrix m, String title) {
    return ChartStyle.widthForTitle(Math.max(760, 330 + 78 * m.size()), title, 150);  // the colour bar
  }

  static int height(AccuracyMatrix m) {
    return Math.max(520, 230 + 44 * m.size());
  }

  static HeatMapChart chart(String title, AccuracyMatrix m) {
    return chart(title, m, HeatMapScale.covering(List.of(m)));
  }

  /** The heat map on the colour scale {@code range} = [lo, hi] (shared by heat maps meant to be compared). */
  static HeatMapChart chart(String title, AccuracyMatrix m, double[] range) {
    int t = m.size();
    List<String> sessions = new ArrayList<>();
    // XChart puts the first y category at the bottom: list the sessions last-first so session 1 is on top
    for (int s = t - 1; s >= 0; s--) sessions.add((s + 1) + ". " + m.datasets().get(s));
    List<Number[]> cells = new ArrayList<>();
    for (int s = 0; s < t; s++) {
      for (int d = 0; d < t; d++) cells.add(new Number[] {d, t - 1 - s, m.get(s, d)});
    }
    double lo = range[0];
    double hi = range[1];

    HeatMapChart chart = new HeatMapChartBuilder().width(width(m, title)).height(height(m)).title(title)
        .xAxisTitle("evaluated on").yAxisTitle("after training session").build();
    HeatMapStyler s = chart.getStyler();
    ChartStyle.apply(s);
    s.setLegendPosition(Styler.LegendPosition.OutsideE);
    s.setRangeColors(PALETTE);
    s.setPiecewise(false);
    s.setMin(lo);
    s.setMax(hi);
    s.setShowValue(true);
    s.setHeatMapValueDecimalPattern("0.0");
    s.setValueFont(new Font(Font.SANS_SERIF, Font.PLAIN, t > 14 ? 9 : 12));
    s.setValueFontColor(Color.BLACK);
    s.setDrawBorder(true);
    s.setXAxisLabelRotation(35);
    s.setPlotGridLinesVisible(false);
    chart.addSeries(m.taskAgnostic() ? "accuracy (%), task-agnostic" : "accuracy (%)", m.datasets(),
        sessions, cells);
    return chart;
  }
}
