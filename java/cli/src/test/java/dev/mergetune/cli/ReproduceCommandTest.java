package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.world.StandIn;
import dev.mergetune.world.World;
import dev.mergetune.world.WorldGenerator;
import dev.mergetune.world.WorldSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reproduce} on a stand-in made from a small world (4 train, 4 val, 4 test images per class) in the CoOp and
 * MTIL folder layouts, with the demo's tiny CLIP and short schedules: every table runs and reports; its numbers are the
 * individual commands' numbers (train + continue, condu mtil, run here by hand) and its averages the means of its
 * cells; a reproduction whose JVM is killed mid-run continues where it stopped and ends with the uninterrupted numbers.
 */
class ReproduceCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("../../demo/tiny-clip/tiny-clip.safetensors").toAbsolutePath().normalize();

  @TempDir static Path tmp;
  static Path data;

  @BeforeAll
  static void standIn() throws IOException {
    NativeRuntime.ensureTorch();
    World w = WorldGenerator.generate(new WorldSpec(7, 32, 8, 1, 4, 4, 4, WorldSpec.DEFAULT_CONTEXT_LENGTH),
        tmp.resolve("world"));
    data = tmp.resolve("standin");
    StandIn.write(w, data);
  }

  static List<String> args(String table, Path out, String... more) {
    List<String> a = new ArrayList<>(List.of("--no-progress", "reproduce", table, "--data", data.toString(), "--model",
        MODEL.toString(), "--out", out.toString()));
    a.addAll(List.of(more));
    if (!a.contains("--seeds")) a.addAll(List.of("--seeds", "1"));
    return a;
  }

  static CliRunner.Result run(List<String> args) {
    CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
    assertEquals(0, r.exitCode(), r.out());
    return r;
  }

  static JsonNode reproduction(Path out, String table) throws IOException {
    return JSON.readTree(out.resolve("report").resolve(table).resolve("reproduction.json").toFile());
  }

  static double average(JsonNode rep, String method, String metric) {
    for (JsonNode l : rep.get("averages")) {
      if (l.get("method").asText().equals(method) && l.get("metric").asText().equals(metric)) {
        return l.get("mean").asDouble();
      }
    }
    throw new AssertionError("no average " + method + " " + metric + " in " + rep.get("averages"));
  }

  @Test
  void dryRunListsTheRunsTheirCostAndWhatIsMissing() throws IOException {
    Path out = tmp.resolve("dry");
    CliRunner.Result r = run(args("mergetune-b2n-coop", out, "--dry-run"));
    assertTrue(r.out().contains("cell mergetune-b2n-coop/Caltech101-seed1: to run, estimated"), r.out());
    assertTrue(r.out().contains("./mergetune train --method coop"), r.out());
    assertTrue(r.out().contains("./mergetune continue --from"), r.out());
    assertTrue(r.out().contains("timing probe"), r.out());
    assertTrue(r.out().contains("estimated total"), r.out());
    // the stand-in has 4 of the 11 datasets: the others are named with the folder or split file the reader wants
    assertTrue(r.out().contains("missing on disk: OxfordPets: ") && r.out().contains("oxford_pets"), r.out());
    assertFalse(r.out().contains("missing on disk: Caltech101"), r.out());
    assertFalse(Files.exists(out.resolve("runs")), "a dry run runs nothing");
    CliRunner.Result full = CliRunner.run(args("mergetune-b2n-coop", out).toArray(String[]::new));
    assertEquals(1, full.exitCode(), full.out());
    assertTrue(full.out().startsWith("mergetune: missing on disk: OxfordPets"), full.out());
    assertEquals(1, full.out().strip().lines().count(), full.out());
    CliRunner.Result twice = CliRunner.run(args("mergetune-b2n-coop", out, "--seeds", "1,2,1").toArray(String[]::new));
    assertEquals(1, twice.exitCode(), twice.out());
    assertTrue(twice.out().contains("--seeds: seed 1 is given twice"), twice.out());
    CliRunner.Result unknown = CliRunner.run(args("mergetune-b2n-mma", out).toArray(String[]::new));
    assertEquals(1, unknown.exitCode(), unknown.out());
    assertTrue(unknown.out().contains("unknown table 'mergetune-b2n-mma'"), unknown.out());
  }

  @Test
  void everyTableRunsAndSharesItsRuns() throws IOException {
    Path out = tmp.resolve("tables");
    Map<String, String[]> tables = new LinkedHashMap<>();
    tables.put("mergetune-b2n-kgcoop", new String[] {"--datasets", "SUN397", "--epochs", "2", "--shots", "4"});
    tables.put("mergetune-xd-coop", new String[] {"--datasets", "Caltech101,SUN397", "--epochs", "2", "--shots", "4"});
    tables.put("mergetune-dg-coop", new String[] {"--datasets", "ImageNetSketch,ImageNetR", "--epochs", "2",
        "--shots", "4"});
    tables.put("condu-mtil", new String[] {"--datasets", "DTD,Food", "--iterations", "3", "--seeds", "42"});
    for (var t : tables.entrySet()) {
      CliRunner.Result r = run(args(t.getKey(), out, t.getValue()));
      JsonNode rep = reproduction(out, t.getKey());
      assertTrue(Files.isRegularFile(out.resolve("report").resolve(t.getKey()).resolve("report.md")), r.out());
      assertTrue(rep.get("departures").size() > 0, "the short schedules are reported as departures");
      boolean published = false;
      for (JsonNode l : rep.get("averages")) {
        if (l.has("published")) {
          published = true;
          assertEquals(l.get("mean").asDouble() - l.get("published").asDouble(), l.get("difference").asDouble(), 1e-9);
          assertTrue(l.get("source").asText().matches(".*(MergeTune|ConDU|ZSCL).*"), l.toString());
        }
      }
      assertTrue(published, "the published numbers are printed beside ours: " + rep.get("averages"));
      if (t.getKey().equals("mergetune-dg-coop")) {
        // the ImageNet runs of the cross-dataset table (same settings) are reused, not trained again
        assertTrue(r.out().contains("finished earlier"), r.out());
        assertFalse(r.out().contains("$ ./mergetune train"), r.out());
      }
    }
    // cross-dataset: the average is over the targets only, the ImageNet source apart
    JsonNode xd = reproduction(out, "mergetune-xd-coop");
    for (String m : List.of("zero-shot", "CoOp", "CoOp + TIES", "CoOp + DARE", "CoOp + MergeTune")) {
      double sum = 0;
      for (String d : List.of("Caltech101", "SUN397")) sum += perDataset(xd, m, d, "top-1");
      assertEquals(sum / 2, average(xd, m, "Avg-C"), 1e-9, m);
    }
    mtilNumbersAreCondusMtilNumbers(reproduction(out, "condu-mtil"));
    // a second run of a finished table reuses every cell
    CliRunner.Result again = run(args("mergetune-b2n-kgcoop", out, tables.get("mergetune-b2n-kgcoop")));
    assertTrue(again.out().contains("finished earlier, reused"), again.out());
  }

  /** The same sequence run by hand with {@code condu mtil} (seed 42, 3 iterations, warm-up scaled to 0). */
  static void mtilNumbersAreCondusMtilNumbers(JsonNode rep) throws IOException {
    Path cfg = tmp.resolve("by-hand-mtil.json");
    String task = "{\"name\": \"%s\", \"train\": \"%s\", \"test\": \"%s\"}";
    List<String> tasks = new ArrayList<>();
    for (String d : List.of("DTD", "Food")) {
      Path c = tmp.resolve("mtil-" + d + ".json");
      Files.writeString(c, "{\"name\": \"" + d + "\", \"layout\": \"mtil\", \"root\": \"" + data + "\", \"split\":"
          + " \"test\"}");
      tasks.add(String.format(task, d, c, c));
    }
    Files.writeString(cfg, "{\"model\": \"" + MODEL + "\", \"method\": \"e2e\", \"train\": {\"seed\": 42, \"iterations\":"
        + " 3, \"warmup\": 0}, \"tasks\": [" + String.join(", ", tasks) + "]}");
    Path byHand = tmp.resolve("by-hand-mtil");
    run(List.of("--no-progress", "condu", "mtil", "--config", cfg.toString(), "--out", byHand.toString()));
    JsonNode result = JSON.readTree(byHand.resolve("result.json").toFile());
    for (String metric : List.of("transfer", "average", "last")) {
      String name = Character.toUpperCase(metric.charAt(0)) + metric.substring(1);
      assertEquals(result.get("mtil").get(metric).asDouble(), average(rep, "ConDU (FT)", name), 0.0, metric);
      assertEquals(result.get("task_agnostic").get(metric).asDouble(), average(rep, "ConDU (FT), task-agnostic", name),
          0.0, metric);
    }
  }

  static double perDataset(JsonNode rep, String method, String dataset, String metric) {
    for (JsonNode l : rep.get("per_dataset")) {
      if (l.get("method").asText().equals(method) && l.get("dataset").asText().equals(dataset)
          && l.get("metric").asText().equals(metric)) {
        return l.get("mean").asDouble();
      }
    }
    throw new AssertionError("no " + method + " / " + dataset + " / " + metric);
  }

  static final String[] B2N = {"--datasets", "Caltech101,SUN397", "--epochs", "4", "--shots", "4"};

  /**
   * Base-to-novel over two datasets and two seeds: the cells hold the numbers {@code train} + {@code continue} give by
   * hand (seed 1), the table is the means of the cells; then the same reproduction in a JVM killed mid-run and run
   * again ends with the same cells.
   */
  @Test
  void b2nIsTheIndividualCommandsAndResumesAfterAKill() throws Exception {
    Path out = tmp.resolve("b2n");
    List<String> a = new ArrayList<>(List.of(B2N));
    a.addAll(List.of("--seeds", "1,2"));
    run(args("mergetune-b2n-coop", out, a.toArray(String[]::new)));
    JsonNode rep = reproduction(out, "mergetune-b2n-coop");
    Map<String, double[]> sums = new LinkedHashMap<>();  // method -> per seed Σ base, Σ novel
    for (long seed : List.of(1L, 2L)) {
      for (String d : List.of("Caltech101", "SUN397")) {
        // the same runs by hand, in another folder
        Path cfg = tmp.resolve("by-hand").resolve(d + ".json");
        Files.createDirectories(cfg.getParent());
        Files.writeString(cfg, "{\"name\": \"" + d + "\", \"layout\": \"coop\", \"root\": \"" + data + "\", \"split\":"
            + " \"test\"}");
        Path runs = tmp.resolve("by-hand").resolve(d + "-" + seed);
        if (seed == 1) {
          run(List.of("--no-progress", "train", "--method", "coop", "--model", MODEL.toString(), "--data",
              cfg.toString(), "--subsample", "base", "--shots", "4", "--seed", "" + seed, "--epochs", "4",
              "--template", "coop:" + d, "--out", runs.resolve("coop").toString()));
          run(List.of("--no-progress", "continue", "--from", runs.resolve("coop").toString(), "--out",
              runs.resolve("mt").toString(), "--preset", "mergetune-coop", "--epochs", "4"));
        }
        JsonNode byHand = seed == 1
            ? JSON.readTree(runs.resolve("mt").resolve("result.json").toFile()).get("base_to_novel") : null;
        JsonNode cell = JSON.readTree(out.resolve("cells").resolve("mergetune-b2n-coop").resolve(d + "-seed" + seed
            + ".json").toFile()).get("results").get("rows");
        Map<String, String> names = Map.of("zero-shot", "zero-shot", "CoOp", "coop", "CoOp + MergeTune",
            "coop + MergeTune");
        for (JsonNode row : cell) {
          String m = row.get("method").asText();
          if (byHand != null && names.containsKey(m)) {
            assertEquals(byHand.get(names.get(m)).get("base").asDouble(), row.get("base").asDouble(), 0.0, m + " " + d);
            assertEquals(byHand.get(names.get(m)).get("novel").asDouble(), row.get("novel").asDouble(), 0.0, m + " " + d);
          }
          double[] s = sums.computeIfAbsent(m + "/" + seed, k -> new double[2]);
          s[0] += row.get("base").asDouble();
          s[1] += row.get("novel").asDouble();
        }
      }
    }
    // the table: per seed Base and Novel averaged over the datasets, HM of the averages; then mean over the seeds
    for (String m : List.of("zero-shot", "CoOp", "CoOp + TIES", "CoOp + DARE", "CoOp + MergeTune")) {
      double[] s1 = sums.get(m + "/1");
      double[] s2 = sums.get(m + "/2");
      double hm1 = BaseToNovelRow.harmonicMean(s1[0] / 2, s1[1] / 2);
      double hm2 = BaseToNovelRow.harmonicMean(s2[0] / 2, s2[1] / 2);
      assertEquals((s1[0] + s2[0]) / 4, average(rep, m, "Base"), 1e-9, m);
      assertEquals((hm1 + hm2) / 2, average(rep, m, "HM"), 1e-9, m);
      for (JsonNode l : rep.get("averages")) {
        if (l.get("method").asText().equals(m) && l.get("metric").asText().equals("HM")) {
          assertEquals(Math.abs(hm1 - hm2) / Math.sqrt(2), l.get("sd").asDouble(), 1e-9, "sample sd of two seeds");
        }
      }
    }
    assertEquals(71.66, rep.get("averages").findValues("published").get(1).asDouble(), 0.0);
    aKilledReproductionContinuesWhereItStopped(out);
  }

  /** {@code whole}: the uninterrupted reproduction (its seed-1 cells are compared). */
  static void aKilledReproductionContinuesWhereItStopped(Path whole) throws Exception {
    String[] more = B2N;
    Path killed = tmp.resolve("killed");

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-D") || arg.startsWith("-Xmx")) cmd.add(arg);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MergetuneCli.class.getName()));
    cmd.addAll(args("mergetune-b2n-coop", killed, more));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile())
        .start();
    Path first = killed.resolve("cells").resolve("mergetune-b2n-coop").resolve("Caltech101-seed1.json");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    // killed once the first cell is complete and the second one's baseline has started training
    while (p.isAlive() && System.nanoTime() < deadline) {
      if (Files.isRegularFile(first) && secondStarted(killed)) break;
      Thread.sleep(2);
    }
    assertTrue(p.isAlive(), "the reproduction ended before it could be killed:\n"
        + Files.readString(tmp.resolve("killed.log")));
    p.destroyForcibly();
    p.waitFor();
    Path second = killed.resolve("cells").resolve("mergetune-b2n-coop").resolve("SUN397-seed1.json");
    assertFalse(Files.exists(second), "the killed cell must not look finished");

    CliRunner.Result r = run(args("mergetune-b2n-coop", killed, more));
    assertTrue(r.out().contains("Caltech101-seed1: finished earlier, reused"), r.out());
    for (String d : List.of("Caltech101", "SUN397")) {
      JsonNode a = JSON.readTree(whole.resolve("cells").resolve("mergetune-b2n-coop").resolve(d + "-seed1.json")
          .toFile());
      JsonNode b = JSON.readTree(killed.resolve("cells").resolve("mergetune-b2n-coop").resolve(d + "-seed1.json")
          .toFile());
      assertEquals(a.get("results"), b.get("results"), d);
      assertEquals(a.get("settings"), b.get("settings"), d);
    }
  }

  /** Whether the SUN397 cell's baseline run has begun (its run.json is written when training starts). */
  private static boolean secondStarted(Path out) throws IOException {
    Path runs = out.resolve("runs");
    if (!Files.isDirectory(runs)) return false;
    try (var s = Files.list(runs)) {
      return s.anyMatch(d -> d.getFileName().toString().startsWith("coop-SUN397")
          && Files.isRegularFile(d.resolve("baseline").resolve("run.json")));
    }
  }
}
