package dev.mergetune.eval;

import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;

/** Grouped bars of Base, Novel and HM per row (datasets with the average row last, or methods). */
final class BaseToNovelPlot {
  static final int HEIGHT = 540;

  private BaseToNovelPlot() {}

  static int width(int rows) {
    return Math.max(800, 300 + 90 * rows);
  }

  /** The chart's layout for these rows and title: width, label rotation, extra height for slanted labels. */
  static ChartStyle.CategoryLayout layout(String title, List<BaseToNovelRow> rows) {
    List<String> names = rows.stream().map(BaseToNovelRow::dataset).toList();
    ChartStyle.CategoryLayout l = ChartStyle.CategoryLayout.of(names, ChartStyle.widthForTitle(width(rows.size()), title,
        ChartStyle.legendWidth(List.of("Base", "Novel", "HM"))),
        ChartStyle.reservedWidth(List.of("Base", "Novel", "HM")));
    return l;
  }

  static CategoryChart chart(String title, List<BaseToNovelRow> rows, String axis) {
    List<String> names = new ArrayList<>();
    List<Double> base = new ArrayList<>();
    List<Double> novel = new ArrayList<>();
    List<Double> hm = new ArrayList<>();
    double max = 0;
    for (BaseToNovelRow r : rows) {
      names.add(r.dataset());
      base.add(r.base());
      novel.add(r.novel());
      hm.add(r.hm());
      max = Math.max(max, Math.max(r.base(), r.novel()));
    }
    ChartStyle.CategoryLayout layout = layout(title, rows);
    CategoryChart chart = new CategoryChartBuilder().width(layout.width()).height(HEIGHT + layout.extraHeight())
        .title(title).xAxisTitle(axis).yAxisTitle("top-1 accuracy (%)").build();
    CategoryStyler s = chart.getStyler();
    ChartStyle.apply(s);
    s.setYAxisMin(0.0);
    if (max <= 100) s.setYAxisMax(100.0);
    s.setAvailableSpaceFill(0.8);
    layout.applyTo(s);
    s.setPlotGridVerticalLinesVisible(false);
    s.setYAxisDecimalPattern("0");
    chart.addSeries("Base", names, base);
    chart.addSeries("Novel", names, novel);
    chart.addSeries("HM", names, hm);
    return chart;
  }
}
