package dev.mergetune.eval;

import static dev.mergetune.eval.AccuracyTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cross-dataset / domain-generalisation table and its report section. */
class AccuracyTableTest {
  @TempDir Path dir;

  private static final AccuracyTable CROSS = AccuracyTable.of(List.of(
      new AccuracyTable.Row("ImageNet", 71.5, true),
      AccuracyTable.Row.target("Caltech101", 93.25),
      AccuracyTable.Row.target("EuroSAT", 47.75)));

  @Test
  void theAverageLeavesTheSourceOut() {
    assertEquals((93.25 + 47.75) / 2, CROSS.average(), 1e-12);
    assertEquals(2, CROSS.targets().size());
    assertMessage("appears twice", () -> AccuracyTable.of(List.of(AccuracyTable.Row.target("A", 1),
        AccuracyTable.Row.target("A", 2))));
    assertMessage("computed", () -> AccuracyTable.of(List.of(AccuracyTable.Row.target("average", 1))));
    assertMessage("at least one target", () -> AccuracyTable.of(List.of(new AccuracyTable.Row("A", 1, true))));
    assertMessage("finite number >= 0", () -> AccuracyTable.Row.target("A", Double.NaN));
  }

  @Test
  void reportSection() throws Exception {
    Path out = dir.resolve("r");
    Report.titled("cross").accuracies("Cross-dataset", CROSS).writeTo(out);
    JsonNode s = new ObjectMapper().readTree(out.resolve("report.json").toFile()).get("sections").get(0);
    assertEquals("accuracy", s.get("kind").asText());
    assertEquals("cross-dataset.png", s.get("plot").asText());
    assertEquals(3, s.get("rows").size());
    assertTrue(s.get("rows").get(0).get("source").asBoolean());
    assertFalse(s.get("rows").get(1).get("source").asBoolean());
    assertEquals(93.25, s.get("rows").get(1).get("top1").asDouble(), 0);
    assertEquals(70.5, s.get("average").asDouble(), 0);
    String md = Files.readString(out.resolve("report.md"));
    assertTrue(md.contains("| ImageNet | source | 71.5 |") && md.contains("| EuroSAT | target | 47.8 |")
        && md.contains("| **Average** | targets | 70.5 |"), md);
    assertNotNull(ImageIO.read(out.resolve("cross-dataset.png").toFile()));

    Path plain = dir.resolve("p");
    Report.titled("dg").accuracies("DG", AccuracyTable.of(List.of(AccuracyTable.Row.target("V2", 60)))).writeTo(plain);
    assertTrue(Files.readString(plain.resolve("report.md")).contains("| V2 | 60.0 |"));
  }
}
