package dev.mergetune.cli;

import static dev.mergetune.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.cli.CliRunner.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune metrics mtil} and {@code mergetune metrics b2n}. */
class MetricsCliTest {
  @TempDir Path dir;

  /** methods.md §2.5: the ZSCL zero-shot row, MTIL order I. */
  private static final String ZERO_SHOT = "24.3,88.4,68.2,44.6,54.9,71.0,88.5,59.4,89.0,64.7,65.2";
  private static final List<String> ORDER_I = List.of("Aircraft", "Caltech101", "CIFAR100", "DTD", "EuroSAT",
      "Flowers", "Food", "MNIST", "OxfordPet", "Cars", "SUN397");

  private Path zeroShotMatrix() throws Exception {
    Path csv = dir.resolve("zscl-zero-shot.csv");
    Files.writeString(csv, (ZERO_SHOT + "\n").repeat(11)); // the zero-shot model does not change across sessions
    return csv;
  }

  @Test
  void zsclZeroShotRowGivesTransfer69Point4() throws Exception {
    Result r = run("metrics", "mtil", "--matrix", zeroShotMatrix().toString());
    assertEquals(0, r.exitCode(), r.out());
    // Transfer = (88.4 + 68.2 + 44.6 + 54.9 + 71.0 + 88.5 + 59.4 + 89.0 + 64.7 + 65.2) / 10 = 69.39;
    // Average = Last = 718.2 / 11 = 65.29
    assertTrue(r.out().contains("Transfer  69.4\nAverage   65.3\nLast      65.3\n"), r.out());
    assertTrue(r.out().contains("11 x 11 accuracy matrix; datasets D1, D2,"), r.out());
  }

  @Test
  void namesAndTheReportFolder() throws Exception {
    Path report = dir.resolve("out");
    Result r = run("metrics", "mtil", "--matrix", zeroShotMatrix().toString(), "--names", String.join(",", ORDER_I),
        "--task-agnostic", "--report", report.toString(), "--title", "ZSCL zero-shot");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("(task-agnostic); datasets Aircraft, Caltech101, CIFAR100,"), r.out());
    assertTrue(r.out().contains("Transfer  69.4"), r.out());
    assertTrue(r.out().contains("report: " + report + " (task-agnostic-mtil.png, report.md, report.json)"), r.out());
    JsonNode mtil = new ObjectMapper().readTree(report.resolve("report.json").toFile()).get("sections").get(0);
    assertEquals(69.39, mtil.get("transfer").asDouble(), 1e-9);
    assertTrue(mtil.get("taskAgnostic").asBoolean());
    assertEquals("SUN397", mtil.get("datasets").get(10).asText());
    String md = Files.readString(report.resolve("report.md"));
    assertTrue(md.startsWith("# ZSCL zero-shot\n"), md);
    assertTrue(md.contains("**Transfer / Average / Last: 69.4 / 65.3 / 65.3** (task-agnostic)"), md);
    assertTrue(Files.size(report.resolve("task-agnostic-mtil.png")) > 1000);
  }

  @Test
  void theMatrixFilesOwnNamesAreUsed() throws Exception {
    Path csv = dir.resolve("labelled.csv");
    StringBuilder b = new StringBuilder("session," + String.join(",", ORDER_I) + "\n");
    for (String name : ORDER_I) b.append(name).append(',').append(ZERO_SHOT).append('\n');
    Files.writeString(csv, b);
    Result r = run("metrics", "mtil", "--matrix", csv.toString());
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("datasets Aircraft, Caltech101,") && r.out().contains("Transfer  69.4"), r.out());
  }

  @Test
  void b2nPrintsTheTableWithHmAndTheAverageRow() throws Exception {
    Path csv = dir.resolve("b2n.csv");
    Files.writeString(csv, "Dataset,Base,Novel\nA,90,10\nB,50,50\n");
    Path report = dir.resolve("b2n-report");
    Result r = run("metrics", "b2n", "--table", csv.toString(), "--report", report.toString());
    assertEquals(0, r.exitCode(), r.out());
    // HM(90, 10) = 18; HM(50, 50) = 50; Average: base 70, novel 30, HM(70, 30) = 42 (not (18 + 50) / 2 = 34)
    assertTrue(r.out().startsWith("""
        Dataset    Base   Novel      HM
        A          90.0    10.0    18.0
        B          50.0    50.0    50.0
        Average    70.0    30.0    42.0
        """), r.out());
    assertTrue(r.out().contains("report: " + report + " (base-to-novel.png, report.md, report.json)"), r.out());
    assertTrue(Files.readString(report.resolve("report.md")).contains("| Average | 70.0 | 30.0 | 42.0 |"));
  }

  @Test
  void badFilesAreOneLineErrors() throws Exception {
    Path ragged = dir.resolve("ragged.csv");
    Files.writeString(ragged, "1,2,3\n4,5\n6,7,8\n");
    assertOneLineError(run("metrics", "mtil", "--matrix", ragged.toString()),
        "mergetune: " + ragged + ":2: 2 numbers, but the first row has 3 (ragged rows)");
    Path word = dir.resolve("word.csv");
    Files.writeString(word, "1,2\n3,abc\n");
    assertOneLineError(run("metrics", "mtil", "--matrix", word.toString()),
        "mergetune: " + word + ":2: column 2: 'abc' is not a number");
    Path oblong = dir.resolve("oblong.csv");
    Files.writeString(oblong, "1,2,3\n4,5,6\n");
    assertOneLineError(run("metrics", "mtil", "--matrix", oblong.toString()), "mergetune: " + oblong
        + ": 2 row(s) of 3 numbers: an accuracy matrix is T x T (one row per session, one column per dataset)");
    Path missing = dir.resolve("missing.csv");
    assertOneLineError(run("metrics", "mtil", "--matrix", missing.toString()), "mergetune: " + missing
        + ": no such file");
    assertOneLineError(run("metrics", "mtil", "--matrix", zeroShotMatrix().toString(), "--names", "a,b"),
        "mergetune: --names gives 2 names for a 11 x 11 matrix");
    assertOneLineError(run("metrics", "mtil", "--matrix", dir.toString()), "mergetune: " + dir + ": cannot read: ");
    Path avg = dir.resolve("avg.csv");
    Files.writeString(avg, "A,1,2\nAverage,1,2\n");
    assertOneLineError(run("metrics", "b2n", "--table", avg.toString()), "mergetune: " + avg + ":2: an \"Average\"");
  }

  @Test
  void metricsAloneListsItsSubcommands() {
    Result r = run("metrics");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("mtil") && r.out().contains("b2n"), r.out());
    Result help = run("--help");
    assertTrue(help.out().contains("metrics"), help.out());
  }

  private static void assertOneLineError(Result r, String prefix) {
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().startsWith(prefix), r.out());
    assertEquals(1, r.out().strip().lines().count(), r.out());
    assertFalse(r.out().contains("Exception"), r.out());
  }
}
