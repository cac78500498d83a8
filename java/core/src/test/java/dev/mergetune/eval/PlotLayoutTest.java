package dev.mergetune.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.junit.jupiter.api.Test;

/**
 * The rendered category labels of the report's bar charts do not overlap, and titles are not clipped — checked on
 * the pixels. Each chart is drawn twice, the second time with its x tick labels transparent (same layout), so the
 * differing pixels are exactly the labels' ink. Horizontal labels must form one column run per label with gaps of at
 * least {@link #GAP} blank columns (wider than a word space with its side bearings, so a label with spaces stays
 * one run); labels at 45°
 * are projected across their slant, where each label is a narrow band and overlapping labels merge.
 */
class PlotLayoutTest {
  private static final int GAP = 10;

  private static final List<BaseToNovelRow> DEMO_METHODS = List.of(new BaseToNovelRow("zero-shot", 62.5, 64.1),
      new BaseToNovelRow("CoOp", 64.1, 53.1), new BaseToNovelRow("TIES (zero-shot, CoOp), density 0.20", 53.1, 65.6),
      new BaseToNovelRow("DARE (zero-shot, CoOp), keep 0.30", 48.4, 64.1),
      new BaseToNovelRow("CoOp + MergeTune", 62.5, 65.6));

  private static final List<String> COOP11 = List.of("ImageNet", "Caltech101", "OxfordPets", "StanfordCars",
      "Flowers102", "Food101", "FGVCAircraft", "SUN397", "DescribableTextures", "EuroSAT", "UCF101");

  @Test
  void theDemosMethodLabelsDoNotOverlap() {
    String title = "Base-to-novel on 'shapes' (CoOp trained on the base classes)";
    assertLabelsApart(() -> BaseToNovelPlot.chart(title, DEMO_METHODS, "method"), DEMO_METHODS.size());
  }

  @Test
  void elevenDatasetsPlusTheAverageDoNotOverlap() {
    List<BaseToNovelRow> rows = new ArrayList<>();
    for (int i = 0; i < COOP11.size(); i++) rows.add(new BaseToNovelRow(COOP11.get(i), 70 + i, 60 + i));
    BaseToNovelTable table = BaseToNovelTable.of(rows);
    assertLabelsApart(() -> BaseToNovelPlot.chart("Base-to-novel", table.rowsWithAverage(), "dataset"), 12);
    List<AccuracyTable.Row> acc = new ArrayList<>();
    for (String d : COOP11) acc.add(AccuracyTable.Row.target(d, 60));
    assertLabelsApart(() -> AccuracyTablePlot.chart("Cross-dataset", AccuracyTable.of(acc)), 12);
  }

  @Test
  void theDomainShiftChartsTitleAndLabelsFit() {
    AccuracyGrid g = new AccuracyGrid(List.of("zero-shot", "CoOp", "CoOp + MergeTune"), List.of(
        new AccuracyGrid.Row("shapes", new double[] {60, 70, 65}, true),
        new AccuracyGrid.Row("shapes-sketch", new double[] {20, 18, 19}, false),
        new AccuracyGrid.Row("shapes-noise", new double[] {25, 22, 24}, false),
        new AccuracyGrid.Row("shapes-palette", new double[] {15, 14, 16}, false)));
    String title = "Domain shift: the same prompts on all 8 classes of 'shapes' and its 3 shifted renderings";
    assertLabelsApart(() -> AccuracyGridPlot.chart(title, g), 5);
    assertTitleInside(BitmapEncoder.getBufferedImage(AccuracyGridPlot.chart(title, g)));
  }

  @Test
  void heatMapsOfOneReportShareTheirColourScale() {
    AccuracyMatrix a = AccuracyMatrix.of(new double[][] {{40, 60}, {50, 100}}, List.of("a", "b"), false);
    AccuracyMatrix b = AccuracyMatrix.of(new double[][] {{34, 60}, {55, 90}}, List.of("a", "b"), false);
    double[] scale = HeatMapScale.covering(List.of(a, b));
    assertEquals(34, scale[0], 0);
    assertEquals(100, scale[1], 0);
    assertEquals(scale[0], MtilHeatMapPlot.chart("a", a, scale).getStyler().getMin(), 0);
    assertEquals(scale[1], MtilHeatMapPlot.chart("b", b, scale).getStyler().getMax(), 0);
  }

  /** Draws the chart with and without its x tick labels and checks their ink forms {@code n} separate runs. */
  static void assertLabelsApart(Supplier<CategoryChart> make, int n) {
    CategoryChart shown = make.get();
    CategoryChart hidden = make.get();
    hidden.getStyler().setXAxisTickLabelsColor(new Color(0, 0, 0, 0));
    BufferedImage a = BitmapEncoder.getBufferedImage(shown);
    BufferedImage b = BitmapEncoder.getBufferedImage(hidden);
    String debug = System.getenv("MERGETUNE_PLOT_DEBUG_DIR");
    if (debug != null) {
      try {
        javax.imageio.ImageIO.write(a, "png", java.nio.file.Path.of(debug, shown.getTitle().replaceAll("\\W+", "_")
            + ".png").toFile());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    assertEquals(a.getWidth(), b.getWidth());
    int w = a.getWidth();
    int h = a.getHeight();
    int rotation = shown.getStyler().getXAxisLabelRotation();
    List<int[]> ink = new ArrayList<>();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (a.getRGB(x, y) != b.getRGB(x, y)) ink.add(new int[] {x, y});
      }
    }
    assertTrue(ink.size() > 20 * n, "hardly any label ink: " + ink.size() + " pixels");
    for (int[] p : ink) {
      assertTrue(p[0] > 0 && p[0] < w - 1 && p[1] < h - 1, "a label is cut at the image edge (" + p[0] + ", " + p[1] + ")");
    }
    int runs;
    if (rotation == 0) {
      runs = runs(ink, p -> p[0], w, GAP);
    } else {
      // XChart's slanted labels rise to the right: u = x + y is constant along a label's line, so across the slant
      // each label is one band of about its text height
      assertEquals(45, rotation);
      runs = runs(ink, p -> p[0] + p[1], w + h, 2);
    }
    assertEquals(n, runs, "label runs at rotation " + rotation + " (overlapping labels merge into one run)");
  }

  private static int runs(List<int[]> ink, java.util.function.ToIntFunction<int[]> coord, int size, int gap) {
    boolean[] used = new boolean[size + 1];
    for (int[] p : ink) used[coord.applyAsInt(p)] = true;
    int runs = 0;
    int blank = gap;
    for (boolean u : used) {
      if (u) {
        if (blank >= gap) runs++;
        blank = 0;
      } else {
        blank++;
      }
    }
    return runs;
  }

  /** The title's ink (the top band of the image) stays clear of the left and right edges. */
  static void assertTitleInside(BufferedImage img) {
    int bg = img.getRGB(img.getWidth() / 2, 1);
    int left = Integer.MAX_VALUE;
    int right = -1;
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if (img.getRGB(x, y) != bg) {
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
    }
    assertTrue(right > left, "no title ink");
    assertTrue(left >= 8 && right <= img.getWidth() - 9, "the title spans columns " + left + ".." + right + " of "
        + img.getWidth());
  }
}
