package dev.mergetune.eval;

import static dev.mergetune.eval.AccuracyTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A report folder from made-up numbers: the JSON reads back, the Markdown has the rows, the PNGs are real images. */
class ReportTest {
  @TempDir Path dir;

  private static final BaseToNovelTable B2N = BaseToNovelTable.of(List.of(
      new BaseToNovelRow("ImageNet", 76.47, 69.73),
      new BaseToNovelRow("Caltech101", 98.0, 94.2),
      new BaseToNovelRow("EuroSAT", 86.0, 60.0)));
  private static final AccuracyMatrix MTIL = AccuracyMatrix.of(
      new double[][] {{80, 60, 50}, {70, 90, 55}, {65, 85, 95}}, List.of("Aircraft", "Caltech101", "DTD"), false);
  private static final double[] ALPHAS = {0, 0.25, 0.5, 0.75, 1};
  private static final PathCurve LOSS =
      new PathCurve("train loss", PathCurve.Quantity.LOSS, ALPHAS, new double[] {1.2, 0.7, 0.45, 0.4, 0.52});
  private static final PathCurve ACC = PathCurve.of("test accuracy", PathCurve.Quantity.ACCURACY,
      List.of(0.0, 0.25, 0.5, 0.75, 1.0), List.of(61.5, 70.25, 74.0, 73.5, 71.0));

  @Test
  void writesAFolderThatReadsBack() throws Exception {
    List<Path> files = Report.titled("made-up numbers")
        .baseToNovel("Base-to-novel", B2N)
        .mtil("MTIL", MTIL)
        .path("WiSE-FT path", List.of(LOSS, ACC))
        .writeTo(dir.resolve("report"));
    Path out = dir.resolve("report");
    assertEquals(List.of(out.resolve("base-to-novel.png"), out.resolve("mtil.png"), out.resolve("wise-ft-path.png"),
        out.resolve("report.md"), out.resolve("report.json")), files);
    try (var listing = Files.list(out)) {
      assertEquals(5, listing.count()); // no temporary files left
    }

    // report.json: every number, with names
    JsonNode root = new ObjectMapper().readTree(out.resolve("report.json").toFile());
    assertEquals("mergetune-report/1", root.get("format").asText());
    assertEquals("made-up numbers", root.get("title").asText());
    JsonNode b2n = root.get("sections").get(0);
    assertEquals("base-to-novel", b2n.get("kind").asText());
    assertEquals("base-to-novel.png", b2n.get("plot").asText());
    for (int i = 0; i < 3; i++) {
      BaseToNovelRow want = B2N.rows().get(i);
      JsonNode got = b2n.get("rows").get(i);
      assertEquals(want.dataset(), got.get("dataset").asText());
      assertEquals(want.base(), got.get("base").asDouble(), 0);
      assertEquals(want.novel(), got.get("novel").asDouble(), 0);
      assertEquals(want.hm(), got.get("hm").asDouble(), 0);
    }
    assertEquals(B2N.average().hm(), b2n.get("average").get("hm").asDouble(), 0);
    assertEquals("Average", b2n.get("average").get("dataset").asText());

    JsonNode mtil = root.get("sections").get(1);
    assertEquals("mtil", mtil.get("kind").asText());
    assertFalse(mtil.get("taskAgnostic").asBoolean());
    assertEquals(56.25, mtil.get("transfer").asDouble(), 0);
    assertEquals(650.0 / 9, mtil.get("average").asDouble(), 0);
    assertEquals(245.0 / 3, mtil.get("last").asDouble(), 0);
    for (int s = 0; s < 3; s++) {
      for (int d = 0; d < 3; d++) assertEquals(MTIL.get(s, d), mtil.get("matrix").get(s).get(d).asDouble(), 0);
    }
    assertEquals("DTD", mtil.get("datasets").get(2).asText());
    assertTrue(mtil.get("perDataset").get(0).get("transfer").isNull());
    assertEquals(52.5, mtil.get("perDataset").get(2).get("transfer").asDouble(), 0);

    JsonNode path = root.get("sections").get(2);
    assertEquals("path", path.get("kind").asText());
    JsonNode acc = path.get("curves").get(1);
    assertEquals("test accuracy", acc.get("name").asText());
    assertEquals("accuracy", acc.get("quantity").asText());
    for (int i = 0; i < ALPHAS.length; i++) {
      assertEquals(ALPHAS[i], acc.get("alphas").get(i).asDouble(), 0);
      assertEquals(ACC.values()[i], acc.get("values").get(i).asDouble(), 0);
      assertEquals(LOSS.values()[i], path.get("curves").get(0).get("values").get(i).asDouble(), 0);
    }

    // report.md: the papers' tables, one decimal
    String md = Files.readString(out.resolve("report.md"));
    assertTrue(md.startsWith("# made-up numbers\n"), md);
    assertTrue(md.contains("| Dataset | Base | Novel | HM |\n"), md);
    // ImageNet: HM = 2·76.47·69.73 / 146.2 = 72.944...
    assertTrue(md.contains("| ImageNet | 76.5 | 69.7 | 72.9 |\n"), md);
    // the Average row last: base (76.47 + 98 + 86) / 3 = 86.823, novel (69.73 + 94.2 + 60) / 3 = 74.643,
    // HM = 2·86.823·74.643 / 161.467 = 80.274
    assertTrue(md.contains("| EuroSAT | 86.0 | 60.0 | 70.7 |\n| Average | 86.8 | 74.6 | 80.3 |\n"), md);
    assertTrue(md.contains("| Session \\ Dataset | Aircraft | Caltech101 | DTD |\n"), md);
    assertTrue(md.contains("| 2. Caltech101 | 70.0 | 90.0 | 55.0 |\n"), md);
    assertTrue(md.contains("| Transfer | – | 60.0 | 52.5 | 56.3 |\n"), md);
    assertTrue(md.contains("**Transfer / Average / Last: 56.3 / 72.2 / 81.7**"), md);
    assertTrue(md.contains("| 0.25 | 0.7 | 70.3 |\n"), md); // α, loss (4 significant digits), accuracy (70.25)
    assertTrue(md.contains("![MTIL](mtil.png)"), md);

    // the plots: decodable PNGs of the expected size with real content
    ChartStyle.CategoryLayout b2nLayout = BaseToNovelPlot.layout("Base-to-novel", B2N.rowsWithAverage());
    assertImage(out.resolve("base-to-novel.png"), b2nLayout.width(), BaseToNovelPlot.HEIGHT + b2nLayout.extraHeight());
    assertImage(out.resolve("mtil.png"), MtilHeatMapPlot.width(MTIL), MtilHeatMapPlot.height(MTIL));
    assertImage(out.resolve("wise-ft-path.png"), PathPlot.WIDTH, PathPlot.HEIGHT);
    assertTrue(GraphicsEnvironment.isHeadless());
  }

  @Test
  void methodsOnOneDatasetHaveNoAverageRow(@TempDir Path out) throws Exception {
    List<BaseToNovelRow> rows = List.of(new BaseToNovelRow("zero-shot", 60, 70), new BaseToNovelRow("CoOp", 90, 50));
    List<Path> files = Report.titled("methods").text("About", "Two *methods*.").methods("Shapes: base-to-novel", rows)
        .writeTo(out);
    assertEquals(List.of("shapes-base-to-novel.png", "report.md", "report.json"),
        files.stream().map(f -> f.getFileName().toString()).toList());
    String md = Files.readString(out.resolve("report.md"));
    // CoOp: HM = 2·90·50 / 140 = 64.29
    assertTrue(md.contains("| Method | Base | Novel | HM |\n|---|---:|---:|---:|\n| zero-shot | 60.0 | 70.0 | 64.6 |\n"
        + "| CoOp | 90.0 | 50.0 | 64.3 |\n\nHM"), md);
    assertTrue(!md.contains("Average"), md);
    assertTrue(md.contains("## About\n\nTwo *methods*.\n\n## Shapes"), md);
    JsonNode sections = new ObjectMapper().readTree(out.resolve("report.json").toFile()).get("sections");
    assertEquals("text", sections.get(0).get("kind").asText());
    JsonNode s = sections.get(1);
    assertEquals("methods", s.get("kind").asText());
    assertEquals("CoOp", s.get("rows").get(1).get("method").asText());
    assertTrue(s.get("average") == null);
    ChartStyle.CategoryLayout l = BaseToNovelPlot.layout("Shapes: base-to-novel", rows);
    assertImage(out.resolve("shapes-base-to-novel.png"), l.width(), BaseToNovelPlot.HEIGHT + l.extraHeight());
  }

  @Test
  void anAccuracyGridAveragesTheTargetRowsPerMethod(@TempDir Path out) throws Exception {
    AccuracyGrid g = new AccuracyGrid(List.of("zero-shot", "CoOp"), List.of(
        new AccuracyGrid.Row("photo", new double[] {60, 80}, true),
        new AccuracyGrid.Row("sketch", new double[] {20, 10}, false),
        new AccuracyGrid.Row("noise", new double[] {30, 35}, false)));
    assertArrayEquals(new double[] {25, 22.5}, g.targetAverages(), 1e-12);  // (20 + 30) / 2, (10 + 35) / 2
    Report.titled("grid").accuracyGrid("Domain shift", g).writeTo(out);
    String md = Files.readString(out.resolve("report.md"));
    assertTrue(md.contains("| Dataset | zero-shot | CoOp |\n|---|---:|---:|\n| photo (source) | 60.0 | 80.0 |\n"
        + "| sketch | 20.0 | 10.0 |\n| noise | 30.0 | 35.0 |\n| **Average** (targets) | 25.0 | 22.5 |\n"), md);
    JsonNode s = new ObjectMapper().readTree(out.resolve("report.json").toFile()).get("sections").get(0);
    assertEquals("accuracy-grid", s.get("kind").asText());
    assertEquals(22.5, s.get("average").get(1).asDouble(), 0);
    ChartStyle.CategoryLayout l = AccuracyGridPlot.layout("Domain shift", g);
    assertImage(out.resolve("domain-shift.png"), l.width(), AccuracyGridPlot.HEIGHT + l.extraHeight());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new AccuracyGrid(List.of("a"), List.of(new AccuracyGrid.Row("x", new double[] {1, 2}, false))));
    assertTrue(e.getMessage().contains("x: 2 accuracies for 1 methods"), e.getMessage());
  }

  @Test
  void plotNamesFollowTheTitlesAndStayUnique() throws Exception {
    AccuracyMatrix agnostic = MTIL.withTaskAgnostic(true);
    List<Path> files = Report.titled("two matrices")
        .mtil("MTIL", MTIL).mtil("MTIL", agnostic).mtil("Task-agnostic MTIL (order I)", agnostic)
        .path("α path", List.of(ACC))
        .writeTo(dir);
    assertEquals(List.of("mtil.png", "mtil-2.png", "task-agnostic-mtil-order-i.png", "path.png", "report.md",
        "report.json"), files.stream().map(f -> f.getFileName().toString()).toList());
    String md = Files.readString(dir.resolve("report.md"));
    assertTrue(md.contains("**Transfer / Average / Last: 56.3 / 72.2 / 81.7** (task-agnostic)"), md);
    JsonNode root = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    assertTrue(root.get("sections").get(1).get("taskAgnostic").asBoolean());
    // a single quantity: one y axis
    assertImage(dir.resolve("path.png"), PathPlot.WIDTH, PathPlot.HEIGHT);
  }

  @Test
  void badInputsAreRefused() {
    assertMessage("the report has no sections", () -> Report.titled("empty").writeTo(dir));
    assertMessage("a report needs a title", () -> Report.titled(" "));
    assertMessage("two curves are named train loss", () -> Report.titled("r").path("p", List.of(LOSS, LOSS)));
    assertMessage("p: no curves", () -> Report.titled("r").path("p", List.of()));
    assertMessage("x: alphas must increase strictly, but 0.5 follows 0.5",
        () -> new PathCurve("x", PathCurve.Quantity.LOSS, new double[] {0, 0.5, 0.5}, new double[] {1, 2, 3}));
    assertMessage("x: 2 alphas but 1 values",
        () -> new PathCurve("x", PathCurve.Quantity.LOSS, new double[] {0, 1}, new double[] {1}));
    assertMessage("x: the value at alpha 1.0 is NaN",
        () -> new PathCurve("x", PathCurve.Quantity.LOSS, new double[] {0, 1}, new double[] {1, Double.NaN}));
    assertMessage("x: a path needs at least 2 points",
        () -> new PathCurve("x", PathCurve.Quantity.ACCURACY, new double[] {0}, new double[] {1}));
  }

  @Test
  void decimals() {
    assertEquals("69.4", Decimals.one(69.39));
    assertEquals("0.0", Decimals.one(-0.04));
    assertEquals("65.3", Decimals.one(718.2 / 11));
    assertEquals("0.1", Decimals.alpha(0.1 + 1e-17));
    assertEquals("-0.1", Decimals.alpha(-0.09999999999999998));
    assertEquals("1", Decimals.alpha(1.0));
    assertEquals("0.4256", Decimals.loss(0.42561));
    assertEquals("12350", Decimals.loss(12345.0));
  }

  /** A decodable image of the given size with more than a few colours: a drawn chart, not a blank canvas. */
  static void assertImage(Path png, int width, int height) throws Exception {
    byte[] bytes = Files.readAllBytes(png);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(bytes, 4), png.toString());
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, png + " does not decode");
    assertEquals(width, img.getWidth(), png.toString());
    assertEquals(height, img.getHeight(), png.toString());
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) colours.add(img.getRGB(x, y));
    }
    assertTrue(colours.size() > 20, png + " has " + colours.size() + " colours");
    // not one colour dominating everything: the background covers less than 98 % of the sampled pixels
    int white = 0;
    int sampled = 0;
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2, sampled++) {
        if (img.getRGB(x, y) == img.getRGB(0, 0)) white++;
      }
    }
    assertTrue(white < 0.98 * sampled, png + ": " + white + " of " + sampled + " sampled pixels are background");
  }
}
