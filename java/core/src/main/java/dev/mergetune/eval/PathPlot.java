package dev.mergetune.eval;

import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Loss and accuracy against α along the straight path between two parameter sets. With both kinds of curve the loss
 * uses the left axis (solid lines) and the accuracy the right one (dashed lines, "[right axis]" in the legend); with
 * one kind there is a single axis.
 */
final class PathPlot {
  static final int WIDTH = 960;
  static final int HEIGHT = 560;

  private PathPlot() {}

  static XYChart chart(String title, List<PathCurve> curves) {
    boolean loss = curves.stream().anyMatch(c -> c.quantity() == PathCurve.Quantity.LOSS);
    boolean acc = curves.stream().anyMatch(c -> c.quantity() == PathCurve.Quantity.ACCURACY);
    boolean twoAxes = loss && acc;
    XYChart chart = new XYChartBuilder().width(ChartStyle.widthForTitle(WIDTH, title,
        ChartStyle.legendWidth(curves.stream().map(PathCurve::name).toList()))).height(HEIGHT).title(title)
        .xAxisTitle("α   (θ = (1 − α)·θa + α·θb)").build();
    XYStyler s = chart.getStyler();
    ChartStyle.apply(s);
    s.setXAxisDecimalPattern("0.0#");
    s.putYAxisGroupDecimalPatternMap(0, "0.0##");
    if (twoAxes) {
      chart.setYAxisGroupTitle(0, PathCurve.Quantity.LOSS.axisTitle());
      chart.setYAxisGroupTitle(1, PathCurve.Quantity.ACCURACY.axisTitle());
      s.setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
    } else {
      chart.setYAxisTitle(curves.get(0).quantity().axisTitle());
    }
    for (PathCurve c : curves) {
      boolean right = twoAxes && c.quantity() == PathCurve.Quantity.ACCURACY;
      XYSeries series = chart.addSeries(right ? c.name() + " [right axis]" : c.name(), c.alphas(), c.values());
      series.setMarker(SeriesMarkers.CIRCLE);
      if (right) {
        series.setYAxisGroup(1);
        series.setLineStyle(SeriesLines.DASH_DASH);
      }
    }
    return chart;
  }
}
