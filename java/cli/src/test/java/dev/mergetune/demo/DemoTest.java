package dev.mergetune.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tune.MergeTuneSettings;
import dev.mergetune.world.PretrainSettings;
import dev.mergetune.world.Pretraining;
import dev.mergetune.world.World;
import dev.mergetune.world.WorldGenerator;
import dev.mergetune.world.WorldSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole demo, shrunk (a tiny world, a random tiny CLIP of the world's shape, a few steps per stage): every
 * section lands in the report, its numbers are the stages' own (the ConDU matrices are the runner's result.json,
 * the prompt rows reach the JSON), and a second run resumes every stage instead of redoing it.
 */
class DemoTest {
  @TempDir Path dir;

  @Test
  void runsEveryStageIntoOneReportAndResumes() throws Exception {
    NativeRuntime.ensureTorch();
    WorldSpec spec = new WorldSpec(3, 32, 16, 1, 3, 1, 2, 20);
    World world = WorldGenerator.generate(spec, dir.resolve("out/world"));
    Path model = dir.resolve("tiny.safetensors");
    PretrainSettings ps = new PretrainSettings(1, 4, 1e-3, 0, 0, 1, 32, 32, 1, 2, 8, 1, dev.mergetune.clip.Activation.QUICK_GELU);
    ClipCheckpoints.save(new ClipModel(Pretraining.config(ps, world)).initialize(5), model, Map.of());
    Demo.Options o = new Demo.Options(spec, model, "shapes",
        new PromptDemo.Options(2, 4, 0.002, 2, 1, 1, 1, 0.2, 0.3f, 3, "a photo of a {}", "a photo of a",
            MergeTuneSettings.MERGETUNE_COOP, "mtil", false),
        new ConduDemo.Options(2, 4, 1e-4, 1, 2, 1), false, false);
    StringWriter log = new StringWriter();
    Demo.Result r = Demo.run(o, dir.resolve("out"), new PrintWriter(log));
    // one short line per stage, the report's path once
    List<String> lines = log.toString().lines().toList();
    assertEquals(5, lines.size(), log.toString());
    List<String> starts = List.of("world: ", "zero-shot: ", "prompts on shapes", "ConDU over ", "demo finished");
    for (int i = 0; i < 5; i++) assertTrue(lines.get(i).startsWith(starts.get(i)), lines.get(i));
    assertEquals(1, lines.stream().filter(l -> l.contains("report")).count(), log.toString());
    String md = Files.readString(r.report().resolve("report.md"));
    for (String title : List.of("## What this is", "## Zero-shot accuracy of the tiny CLIP", "## Compositional generalisation",
        "## Base-to-novel on 'shapes'", "## Accuracy along the straight prompt paths", "## Domain shift", "## ConDU, MTIL",
        "## ConDU, task-agnostic MTIL", "## Sequential fine-tuning of one model", "## Reading the ConDU results",
        "## Time")) {
      assertTrue(md.contains(title), title + " missing:\n" + md);
    }
    assertTrue(md.contains("MergeTune preset mergetune-coop"), md);  // the report names the preset it ran
    // CoOp trained with the options' augmentation and kept its last epoch, as the demo's defaults ask
    JsonNode coopRun = new ObjectMapper().readTree(dir.resolve("out/prompts/coop/run.json").toFile());
    assertEquals("mtil", coopRun.at("/settings/augment").asText(), coopRun.toString());
    assertEquals(false, coopRun.at("/settings/keep_best").asBoolean(true), coopRun.toString());
    assertTrue(Files.list(r.report()).filter(p -> p.toString().endsWith(".png")).count() >= 6);

    ObjectMapper json = new ObjectMapper();
    JsonNode report = json.readTree(r.report().resolve("report.json").toFile());
    JsonNode condu = json.readTree(dir.resolve("out/condu/result.json").toFile());
    JsonNode methods = null;
    JsonNode mtil = null;
    for (JsonNode s : report.get("sections")) {
      if (s.get("kind").asText().equals("methods")) methods = s;
      if (mtil == null && s.get("kind").asText().equals("mtil")) mtil = s;
    }
    assertEquals(List.of("zero-shot", "CoOp", "TIES (zero-shot, CoOp), density 0.20", "DARE (zero-shot, CoOp), keep 0.30",
        "CoOp + MergeTune"), json.convertValue(methods.findValuesAsText("method"), List.class));
    assertEquals(condu.at("/mtil/transfer").asDouble(), mtil.get("transfer").asDouble(), 0);
    assertEquals(condu.at("/mtil/last").asDouble(), mtil.get("last").asDouble(), 0);
    assertEquals(4, mtil.get("matrix").size());

    // a second run, with the inner runs' lines shown, finds every stage done
    StringWriter again = new StringWriter();
    Demo.run(new Demo.Options(o.world(), o.model(), o.b2nDataset(), o.prompts(), o.condu(), false, true),
        dir.resolve("out"), new PrintWriter(again));
    assertTrue(again.toString().contains("CoOp: finished in"), again.toString());
    assertTrue(again.toString().contains("already generated"), again.toString());
    assertTrue(!again.toString().contains("training "), again.toString());
  }

  @Test
  void severalSeedsGiveTheirOwnRunsAndTheMeanAndSpreadOfEachEffect() throws Exception {
    NativeRuntime.ensureTorch();
    WorldSpec spec = new WorldSpec(3, 32, 16, 1, 3, 1, 2, 20);
    World world = WorldGenerator.generate(spec, dir.resolve("out/world"));
    Path model = dir.resolve("tiny.safetensors");
    PretrainSettings ps = new PretrainSettings(1, 4, 1e-3, 0, 0, 1, 32, 32, 1, 2, 8, 1, dev.mergetune.clip.Activation.QUICK_GELU);
    ClipCheckpoints.save(new ClipModel(Pretraining.config(ps, world)).initialize(5), model, Map.of());
    Demo.Options o = new Demo.Options(spec, model, "shapes",
        new PromptDemo.Options(2, 4, 0.002, 2, 1, 1, 1, 0.2, 0.3f, 3, "a photo of a {}", "a photo of a",
            MergeTuneSettings.REFERENCE_CODE, "coop", true),
        new ConduDemo.Options(2, 4, 1e-4, 1, 2, 1), false, false, List.of(4L, 9L));
    StringWriter log = new StringWriter();
    Demo.Result r = Demo.run(o, dir.resolve("out"), new PrintWriter(log));
    String text = log.toString();
    assertTrue(text.contains("prompts on shapes, seed 4") && text.contains("prompts on shapes, seed 9"), text);
    assertEquals(8, text.lines().filter(l -> l.startsWith("over seeds 4, 9: ")).count(), text);
    String md = Files.readString(r.report().resolve("report.md"));
    assertTrue(md.contains("## Over 2 seeds: the published effects"), md);
    assertTrue(md.contains("## Over 2 seeds: mean ± spread"), md);

    // the summary's numbers are the seeds' own runs: recompute the ConDU effects from each seed's result.json
    ObjectMapper json = new ObjectMapper();
    JsonNode seeds = json.readTree(r.report().resolve("seeds.json").toFile());
    String[] keys = {"transfer", "average", "last"};
    for (int m = 0; m < 3; m++) {
      double[] condu = new double[2];
      double[] seq = new double[2];
      long[] ids = {4, 9};
      for (int i = 0; i < 2; i++) {
        JsonNode res = json.readTree(dir.resolve("out/seed-" + ids[i] + "/condu/result.json").toFile());
        condu[i] = res.at("/mtil/" + keys[m]).asDouble();
        seq[i] = res.at("/sequential/" + keys[m]).asDouble();
        assertEquals(condu[i], seeds.at("/seeds/" + i + "/condu_mtil/" + keys[m]).asDouble(), 0);
      }
      JsonNode effect = seeds.at("/effects/" + (5 + m));
      double meanDiff = (condu[0] - seq[0] + condu[1] - seq[1]) / 2;
      assertEquals(meanDiff, effect.at("/difference/mean").asDouble(), 1e-9);
      double sdA = Math.abs(condu[0] - condu[1]) / Math.sqrt(2);  // the sample sd of two values
      double sdB = Math.abs(seq[0] - seq[1]) / Math.sqrt(2);
      assertEquals(sdA, effect.at("/ConDU/sd").asDouble(), 1e-9);
      assertEquals(meanDiff > Math.max(sdA, sdB), effect.get("holds").asBoolean(), effect.toString());
    }
    assertTrue(Files.isDirectory(dir.resolve("out/seed-4/prompts/coop")));
    assertTrue(!Files.exists(dir.resolve("out/prompts")));
  }
}
