package dev.mergetune.eval;

import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;
import java.util.List;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;

/** The look shared by the report's plots: white background, readable fonts, the legend outside the plot. */
final class ChartStyle {
  /** Series colours (Okabe–Ito, readable by colour-blind readers): blue, orange, green, purple, vermilion, sky. */
  static final Color[] SERIES = {
      new Color(0, 114, 178), new Color(230, 159, 0), new Color(0, 158, 115), new Color(204, 121, 167),
      new Color(213, 94, 0), new Color(86, 180, 233), new Color(0, 0, 0)};

  static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
  static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  static final Font LEGEND_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
  /** Widest a chart grows to keep its category labels horizontal; past it they are drawn at 45°. */
  static final int MAX_WIDTH = 1200;
  private static final FontRenderContext FRC = new FontRenderContext(new AffineTransform(), true, true);

  private ChartStyle() {}

  /** The drawn width of {@code text} in {@code font}, in pixels (rounded up). */
  static int textWidth(String text, Font font) {
    return (int) Math.ceil(font.getStringBounds(text, FRC).getWidth());
  }

  /**
   * At least {@code minWidth}, and wide enough for the one-line title: XChart centres the title on the plot area, not
   * on the chart, so a legend of {@code legendWidth} px on the right shifts it left by about half that (less the y
   * axis on the left); the width must hold the title twice that shift plus the paddings.
   */
  static int widthForTitle(int minWidth, String title, int legendWidth) {
    int shift = Math.max(0, legendWidth - 70);
    return Math.max(minWidth, textWidth(title, TITLE_FONT) + 2 * 12 + 32 + shift);
  }

  /** The legend box's width for these entries (marker, gap, text, border). */
  static int legendWidth(List<String> legend) {
    int widest = 0;
    for (String l : legend) widest = Math.max(widest, textWidth(l, LEGEND_FONT));
    return legend.isEmpty() ? 0 : widest + 60;
  }

  /**
   * How a category axis fits its labels, measured with the tick font: the chart width (grown up to
   * {@link #MAX_WIDTH} so that every label fits its slot horizontally with a 40 px margin: the measure is the font's
   * and the plot area's inner padding is XChart's) and, when even that is too
   * narrow, a 45° rotation with the extra height the slanted labels take. Parallel labels at 45° never touch while
   * the slots are wider than 1.5 text heights, which they are here.
   *
   * @param reserved the chart's width outside the plot area: the y axis, the legend, the paddings
   */
  record CategoryLayout(int width, int rotation, int extraHeight) {
    static CategoryLayout of(List<String> labels, int minWidth, int reserved) {
      int widest = 0;
      for (String l : labels) widest = Math.max(widest, textWidth(l, TICK_FONT));
      int n = Math.max(1, labels.size());
      int needed = reserved + 40 + n * (widest + 40);
      if (needed <= Math.max(minWidth, MAX_WIDTH)) return new CategoryLayout(Math.max(minWidth, needed), 0, 0);
      int width = Math.max(minWidth, Math.min(MAX_WIDTH, reserved + n * 40));
      return new CategoryLayout(width, 45, (int) Math.ceil(widest * Math.sin(Math.PI / 4)));
    }

    void applyTo(AxesChartStyler s) {
      s.setXAxisLabelRotation(rotation);
    }
  }

  /** Width outside the plot of a chart with these legend entries: y axis and title, legend box, paddings. */
  static int reservedWidth(List<String> legend) {
    return 90 + legendWidth(legend) + 2 * 12;
  }

  static void apply(AxesChartStyler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotBorderVisible(true);
    s.setPlotBorderColor(Color.GRAY);
    s.setChartTitleBoxVisible(false);
    s.setChartTitleFont(TITLE_FONT);
    s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    s.setAxisTickLabelsFont(TICK_FONT);
    s.setLegendFont(LEGEND_FONT);
    s.setLegendBorderColor(Color.LIGHT_GRAY);
    s.setLegendPosition(Styler.LegendPosition.OutsideE);
    s.setSeriesColors(SERIES);
    s.setAntiAlias(true);
    s.setChartPadding(12);
  }
}
