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
            MergeTuneSettings.MERGETUNE_COOP),
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
}
