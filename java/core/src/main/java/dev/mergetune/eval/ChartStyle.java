package dev.mergetune.eval;

import java.awt.Color;
import java.awt.Font;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;

/** The look shared by the report's plots: white background, readable fonts, the legend outside the plot. */
final class ChartStyle {
  /** Series colours (Okabe–Ito, readable by colour-blind readers): blue, orange, green, purple, vermilion, sky. */
  static final Color[] SERIES = {
      new Color(0, 114, 178), new Color(230, 159, 0), new Color(0, 158, 115), new Color(204, 121, 167),
      new Color(213, 94, 0), new Color(86, 180, 233), new Color(0, 0, 0)};

  private ChartStyle() {}

  static void apply(AxesChartStyler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotBorderVisible(true);
    s.setPlotBorderColor(Color.GRAY);
    s.setChartTitleBoxVisible(false);
    s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    s.setLegendBorderColor(Color.LIGHT_GRAY);
    s.setLegendPosition(Styler.LegendPosition.OutsideE);
    s.setSeriesColors(SERIES);
    s.setAntiAlias(true);
    s.setChartPadding(12);
  }
}
