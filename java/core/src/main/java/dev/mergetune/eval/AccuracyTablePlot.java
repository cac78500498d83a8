package dev.mergetune.eval;

import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;

/** Bars of top-1 accuracy per dataset: the source datasets, the targets, then the targets' average. */
final class AccuracyTablePlot {
  static final int HEIGHT = 540;

  private AccuracyTablePlot() {}

  static CategoryChart chart(String title, AccuracyTable table) {
    List<String> names = new ArrayList<>();
    List<Double> source = new ArrayList<>();
    List<Double> target = new ArrayList<>();
    boolean anySource = false;
    double max = 0;
    for (AccuracyTable.Row r : table.rows()) {
      names.add(r.dataset());
      source.add(r.source() ? r.top1() : 0.0);
      target.add(r.source() ? 0.0 : r.top1());
      anySource |= r.source();
      max = Math.max(max, r.top1());
    }
    names.add(AccuracyTable.AVERAGE + " (targets)");
    source.add(0.0);
    target.add(table.average());
    List<String> legend = anySource ? List.of("source", "target") : List.of("top-1");
    ChartStyle.CategoryLayout layout = ChartStyle.CategoryLayout.of(names,
        ChartStyle.widthForTitle(Math.max(800, 300 + 70 * names.size()), title, ChartStyle.legendWidth(legend)),
        ChartStyle.reservedWidth(legend));
    CategoryChart chart = new CategoryChartBuilder().width(layout.width()).height(HEIGHT + layout.extraHeight())
        .title(title).xAxisTitle("dataset").yAxisTitle("top-1 accuracy (%)").build();
    CategoryStyler s = chart.getStyler();
    ChartStyle.apply(s);
    s.setYAxisMin(0.0);
    if (max <= 100) s.setYAxisMax(100.0);
    s.setAvailableSpaceFill(0.7);
    s.setOverlapped(true);
    layout.applyTo(s);
    s.setPlotGridVerticalLinesVisible(false);
    s.setYAxisDecimalPattern("0");
    if (anySource) chart.addSeries("source", names, source);
    chart.addSeries(anySource ? "target" : "top-1", names, target);
    return chart;
  }
}
