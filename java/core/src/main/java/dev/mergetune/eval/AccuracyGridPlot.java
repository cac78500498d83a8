package dev.mergetune.eval;

import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;

/** Grouped bars: per dataset (and the targets' average) one bar per method. */
final class AccuracyGridPlot {
  static final int HEIGHT = 540;

  private AccuracyGridPlot() {}

  static int width(AccuracyGrid g) {
    return Math.max(800, 300 + 40 * (g.rows().size() + 1) * g.methods().size());
  }

  static List<String> names(AccuracyGrid g) {
    List<String> names = new ArrayList<>();
    for (AccuracyGrid.Row r : g.rows()) names.add(r.source() ? r.dataset() + " (source)" : r.dataset());
    names.add("Average (targets)");
    return names;
  }

  static ChartStyle.CategoryLayout layout(String title, AccuracyGrid g) {
    return ChartStyle.CategoryLayout.of(names(g), ChartStyle.widthForTitle(width(g), title,
        ChartStyle.legendWidth(g.methods())),
        ChartStyle.reservedWidth(g.methods()));
  }

  static CategoryChart chart(String title, AccuracyGrid g) {
    List<String> names = names(g);
    ChartStyle.CategoryLayout layout = layout(title, g);
    CategoryChart chart = new CategoryChartBuilder().width(layout.width()).height(HEIGHT + layout.extraHeight())
        .title(title).xAxisTitle("dataset").yAxisTitle("top-1 accuracy (%)").build();
    CategoryStyler s = chart.getStyler();
    ChartStyle.apply(s);
    s.setYAxisMin(0.0);
    s.setYAxisMax(100.0);
    s.setAvailableSpaceFill(0.8);
    layout.applyTo(s);
    s.setPlotGridVerticalLinesVisible(false);
    s.setYAxisDecimalPattern("0");
    double[] avg = g.targetAverages();
    for (int m = 0; m < g.methods().size(); m++) {
      List<Double> values = new ArrayList<>();
      for (AccuracyGrid.Row r : g.rows()) values.add(r.top1()[m]);
      values.add(avg[m]);
      chart.addSeries(g.methods().get(m), names, values);
    }
    return chart;
  }
}
