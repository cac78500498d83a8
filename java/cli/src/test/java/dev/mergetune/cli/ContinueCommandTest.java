package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.LinearProbe;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ProtocolFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --method coop} on the base classes, then {@code continue}: a run directory like train's and a
 * base-to-novel report whose numbers equal the trained prompts evaluated directly on the test images.
 */
class ContinueCommandTest {
  static final List<String> CLASSES = List.of("blue", "green", "red", "yellow");
  static final ObjectMapper JSON = new ObjectMapper();

  /** A tiny random CLIP, a CLIP-sized synthetic vocabulary and train / val / test folders of the four classes. */
  record World(Path model, Path vocab, List<ProtocolFixtures.Image> test) {}

  static World world(Path tmp, int trainPerClass, int testPerClass) throws Exception {
    NativeRuntime.ensureTorch();
    Path model = ProtocolFixtures.tinyClip(tmp.resolve("tiny.safetensors"), 7);
    Path vocab = SyntheticMerges.writeClipSized(tmp);
    ProtocolFixtures.imageFolder(tmp.resolve("train"), CLASSES, trainPerClass, 1);
    ProtocolFixtures.imageFolder(tmp.resolve("val"), CLASSES, 3, 5);
    return new World(model, vocab, ProtocolFixtures.imageFolder(tmp.resolve("test"), CLASSES, testPerClass, 8));
  }

  @Test
  void continuesACoopRunAndReportsBaseNovelAndHm(@TempDir Path tmp) throws Exception {
    World w = world(tmp, 6, 4);
    Path model = w.model();
    Path vocab = w.vocab();
    List<ProtocolFixtures.Image> test = w.test();
    Path baseline = tmp.resolve("coop");
    CliRunner.Result t = CliRunner.run("train", "--method", "coop", "--model", model.toString(), "--vocab",
        vocab.toString(), "--data", tmp.resolve("train").toString(), "--val", tmp.resolve("val").toString(),
        "--subsample", "base", "--shots", "0", "--batch", "4", "--epochs", "6", "--lr", "0.2", "--augment", "none",
        "--out", baseline.toString(), "--no-progress");
    assertEquals(0, t.exitCode(), t.out());

    Path out = tmp.resolve("mergetune");
    CliRunner.Result c = CliRunner.run("continue", "--from", baseline.toString(), "--out", out.toString(), "--test",
        tmp.resolve("test").toString(), "--epochs", "4", "--no-progress");
    assertEquals(0, c.exitCode(), c.out());
    for (String f : List.of("run.json", "metrics.jsonl", "result.json", "prompt.safetensors",
        "checkpoints/training-state.json", "report/report.md", "report/report.json")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
    }
    assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    JsonNode run = JSON.readTree(out.resolve("run.json").toFile());
    assertEquals(10.0, run.at("/mergetune/lambda").asDouble());  // the reference-code preset after CoOp
    assertEquals(5, run.at("/mergetune/n_alpha").asInt());

    // The report's rows, recomputed from the saved contexts on the test images.
    JsonNode b2n = JSON.readTree(out.resolve("result.json").toFile()).get("base_to_novel");
    ClipModel clip = ClipLoader.load(model);
    ClipTokenizer tok = ClipTokenizer.load(vocab);
    for (String row : List.of("coop", "coop + MergeTune")) {
      Path state = row.equals("coop") ? baseline.resolve("prompt.safetensors") : out.resolve("prompt.safetensors");
      double base = accuracy(clip, tok, state, ProtocolFixtures.subset(test, 0, 2), CLASSES.subList(0, 2));
      double novel = accuracy(clip, tok, state, ProtocolFixtures.subset(test, 2, 4), CLASSES.subList(2, 4));
      assertEquals(base, b2n.at("/" + row + "/base").asDouble(), 1e-9, row);
      assertEquals(novel, b2n.at("/" + row + "/novel").asDouble(), 1e-9, row);
      double hm = base + novel == 0 ? 0 : 2 * base * novel / (base + novel);
      assertEquals(hm, b2n.at("/" + row + "/hm").asDouble(), 1e-9, row);
    }
    assertTrue(b2n.has("zero-shot"));
    String md = Files.readString(out.resolve("report/report.md"));
    assertTrue(md.contains("coop + MergeTune") && md.contains("HM"), md);
  }

  static double accuracy(ClipModel clip, ClipTokenizer tok, Path state, List<ProtocolFixtures.Image> images,
      List<String> names) {
    CoopPromptLearner l = CoopPromptLearner.fromText(clip, tok, names, "a photo of a");
    l.load(state);
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor x = ImageBatch.loadTensor(images.stream().map(ProtocolFixtures.Image::file).toList(),
          ClipImageTransform.of(32), 1);
      return ProtocolFixtures.top1(toRows(l.logits(clip.encodeImage(x))), images);
    }
  }

  static float[][] toRows(Tensor t) {
    Tensor c = t.contiguous();
    int n = (int) c.size(0), k = (int) c.size(1);
    float[] v = new float[n * k];
    c.data_ptr_float().get(v);
    float[][] out = new float[n][k];
    for (int i = 0; i < n; i++) System.arraycopy(v, i * k, out[i], 0, k);
    return out;
  }

  /** Test images of a folder, and logits → top-1 through the model alone. */
  static double zeroShotTop1(ClipModel clip, ClipTokenizer tok, List<ProtocolFixtures.Image> images) {
    List<String> prompts = ProtocolFixtures.prompts("a photo of a {}.", CLASSES);
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor x = ImageBatch.loadTensor(images.stream().map(ProtocolFixtures.Image::file).toList(),
          ClipImageTransform.of(32), 1);
      Tensor tokens = dev.mergetune.clip.text.ClipTokenTensors.tokenize(tok, prompts, 77,
          dev.mergetune.clip.text.Truncation.TRUNCATE);
      return ProtocolFixtures.top1(toRows(clip.logitsPerImage(clip.encodeImage(x), clip.encodeText(tokens))), images);
    }
  }

  @Test
  void continuesALinearProbeInWeightSpace(@TempDir Path tmp) throws Exception {
    World w = world(tmp, 6, 4);
    Path model = w.model();
    Path vocab = w.vocab();
    List<ProtocolFixtures.Image> test = w.test();
    Path baseline = tmp.resolve("lp");
    CliRunner.Result t = CliRunner.run("train", "--method", "linear-probe", "--model", model.toString(), "--vocab",
        vocab.toString(), "--data", tmp.resolve("train").toString(), "--val", tmp.resolve("val").toString(),
        "--shots", "0", "--batch", "8", "--epochs", "5", "--lr", "0.05", "--out", baseline.toString(), "--no-progress");
    assertEquals(0, t.exitCode(), t.out());
    Path out = tmp.resolve("lp-mt");
    CliRunner.Result c = CliRunner.run("continue", "--from", baseline.toString(), "--out", out.toString(), "--test",
        tmp.resolve("test").toString(), "--epochs", "3", "--lambda", "0.01", "--ensemble", "0.5", "--no-progress");
    assertEquals(0, c.exitCode(), c.out());
    for (String f : List.of("run.json", "metrics.jsonl", "result.json", "probe.safetensors",
        "ensemble-probe.safetensors", "report/report.md")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
    }
    JsonNode run = JSON.readTree(out.resolve("run.json").toFile());
    assertEquals("paper", run.at("/mergetune/preset").asText());
    assertEquals(0.3, run.at("/mergetune/tau").asDouble());
    JsonNode top1 = JSON.readTree(out.resolve("result.json").toFile()).get("test_top1");
    ClipModel clip = ClipLoader.load(model);
    for (String row : List.of("linear-probe + MergeTune", "linear-probe + MergeTune + ensemble 0.5")) {
      LinearProbe p = LinearProbe.zeros(CLASSES.size(), clip.config().embedDim(), true);
      p.load(out.resolve(row.contains("ensemble") ? "ensemble-probe.safetensors" : "probe.safetensors"));
      try (NoGradGuard g = new NoGradGuard()) {
        Tensor x = ImageBatch.loadTensor(test.stream().map(ProtocolFixtures.Image::file).toList(),
            ClipImageTransform.of(32), 1);
        assertEquals(ProtocolFixtures.top1(toRows(p.logits(clip.encodeImage(x))), test), top1.get(row).asDouble(),
            1e-9, row);
      }
    }
    assertEquals(zeroShotTop1(clip, ClipTokenizer.load(vocab), test), top1.get("zero-shot").asDouble(), 1e-9);
  }

  @Test
  void continuesAnEndToEndRunInWeightSpace(@TempDir Path tmp) throws Exception {
    World w = world(tmp, 4, 2);
    Path model = w.model();
    Path vocab = w.vocab();
    List<ProtocolFixtures.Image> test = w.test();
    Path baseline = tmp.resolve("e2e");
    CliRunner.Result t = CliRunner.run("train", "--method", "e2e", "--model", model.toString(), "--vocab",
        vocab.toString(), "--data", tmp.resolve("train").toString(), "--shots", "0", "--batch", "8", "--iterations",
        "4", "--warmup", "1", "--lr", "1e-3", "--augment", "none", "--out", baseline.toString(), "--no-progress");
    assertEquals(0, t.exitCode(), t.out());
    Path out = tmp.resolve("e2e-mt");
    CliRunner.Result c = CliRunner.run("continue", "--from", baseline.toString(), "--out", out.toString(), "--test",
        tmp.resolve("test").toString(), "--iterations", "4", "--n-alpha", "2", "--lambda", "1e-3", "--no-progress");
    assertEquals(0, c.exitCode(), c.out());
    assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    JsonNode top1 = JSON.readTree(out.resolve("result.json").toFile()).get("test_top1");
    ClipTokenizer tok = ClipTokenizer.load(vocab);
    assertEquals(zeroShotTop1(ClipLoader.load(out.resolve("model.safetensors")), tok, test),
        top1.get("e2e + MergeTune").asDouble(), 1e-9);
    assertEquals(zeroShotTop1(ClipLoader.load(baseline.resolve("model.safetensors")), tok, test),
        top1.get("e2e").asDouble(), 1e-9);
    assertEquals(zeroShotTop1(ClipLoader.load(model), tok, test), top1.get("zero-shot").asDouble(), 1e-9);
  }

  /** A finished CoOp-family baseline on the base classes: 3 epochs with CoOp's crops, seed 1. */
  static Path baseline(Path tmp, World w, String method, String name, String... extra) {
    Path dir = tmp.resolve(name);
    List<String> args = new java.util.ArrayList<>(List.of("train", "--method", method, "--model", w.model().toString(),
        "--vocab", w.vocab().toString(), "--data", tmp.resolve("train").toString(), "--val",
        tmp.resolve("val").toString(), "--subsample", "base", "--shots", "0", "--batch", "4", "--epochs", "3", "--lr",
        "0.2", "--augment", "coop", "--views", "2", "--out", dir.toString(), "--no-progress"));
    args.addAll(List.of(extra));
    CliRunner.Result t = CliRunner.run(args.toArray(String[]::new));
    assertEquals(0, t.exitCode(), t.out());
    return dir;
  }

  /**
   * {@code continue --preset mergetune-coop}: the released recipe in full (100 epochs of batch 128, fresh crops every
   * step) on a tiny CLIP; run.json holds every value of the README's table, ŵ2 is the baseline's last epoch (its final
   * checkpoint: the context a --last twin of the baseline kept, bit for bit), and a dataset outside the released
   * template table needs --anchor-template.
   */
  @Test
  void continuesWithTheReleasedCoopRecipe(@TempDir Path tmp) throws Exception {
    World w = world(tmp, 6, 2);
    Path coop = baseline(tmp, w, "coop", "coop");
    Path twin = baseline(tmp, w, "coop", "coop-last", "--last");
    Path out = tmp.resolve("mt");
    CliRunner.Result missing = CliRunner.run("continue", "--from", coop.toString(), "--out", out.toString(),
        "--preset", "mergetune-coop", "--no-progress");
    assertTrue(missing.exitCode() != 0 && missing.out().contains("--anchor-template"), missing.out());
    CliRunner.Result c = CliRunner.run("continue", "--from", coop.toString(), "--out", out.toString(), "--preset",
        "mergetune-coop", "--anchor-template", "a photo of a {}.", "--test", tmp.resolve("test").toString(),
        "--checkpoint-every", "100", "--no-progress");  // one step per epoch: skip 99 checkpoints (not the recipe's)
    assertEquals(0, c.exitCode(), c.out());
    JsonNode run = JSON.readTree(out.resolve("run.json").toFile());
    JsonNode t = run.at("/training/settings");
    assertEquals(128, t.get("batch_size").asInt());
    assertEquals(100, t.get("epochs").asInt());
    assertEquals(0, t.get("iterations").asInt());
    assertEquals("sgd", t.get("optimizer").asText());
    assertEquals(0.002, t.get("lr").asDouble());
    assertEquals(0.9, t.get("momentum").asDouble());
    assertEquals(5e-4, t.get("weight_decay").asDouble());
    assertEquals(false, t.get("nesterov").asBoolean());
    assertEquals("constant-warmup-cosine", t.get("schedule").asText());
    assertEquals(1, t.get("warmup").asInt());
    assertEquals(1e-5, t.get("warmup_lr").asDouble());
    assertEquals(0.0, t.get("label_smoothing").asDouble());
    assertEquals("coop", t.get("augment").asText());
    assertEquals(true, t.get("keep_best").asBoolean());
    JsonNode m = run.get("mergetune");
    assertEquals("mergetune-coop", m.get("preset").asText());
    assertEquals(10.0, m.get("lambda").asDouble());
    assertEquals(1.0, m.get("beta").asDouble());
    assertEquals(5, m.get("n_alpha").asInt());
    assertEquals("grid", m.get("alphas").asText());
    assertEquals(List.of(0.1, 0.1 + 0.2, 0.1 + 2 * 0.2, 0.1 + 3 * 0.2, 0.1 + 4 * 0.2),
        JSON.convertValue(m.get("alpha_points"), List.class));
    assertEquals(1.0, m.get("tau").asDouble());
    assertEquals("last", m.get("start").asText());
    assertEquals("fresh", m.get("augmentation").asText());
    assertEquals("a photo of a {}.", m.get("anchor_template").asText());
    long baselineSteps = JSON.readTree(coop.resolve("result.json").toFile()).get("steps").asLong();
    assertEquals(baselineSteps, run.at("/w2/step").asLong());
    assertTrue(run.at("/w2/file").asText().startsWith("checkpoints/"), run.at("/w2").toString());
    assertArrayEquals(dev.mergetune.adapt.CoopFixtures.values(CoopPromptLearner.readContext(twin.resolve("prompt.safetensors"))),
        dev.mergetune.adapt.CoopFixtures.values(CoopPromptLearner.readContext(coop.resolve(run.at("/w2/file").asText()))), 0f);
    assertEquals(100, Files.readAllLines(out.resolve("metrics.jsonl")).size());  // 6 images < 128: one step per epoch
    assertTrue(c.out().contains("fresh"), c.out());
    assertTrue(Files.isRegularFile(out.resolve("report/report.md")));

    // the KgCoOp preset refuses a CoOp baseline
    CliRunner.Result wrong = CliRunner.run("continue", "--from", coop.toString(), "--out", tmp.resolve("x").toString(),
        "--preset", "mergetune-kgcoop", "--anchor-template", "a photo of a {}.", "--no-progress");
    assertTrue(wrong.exitCode() != 0 && wrong.out().contains("mergetune-coop"), wrong.out());
  }

  /**
   * {@code continue --preset mergetune-kgcoop} after KgCoOp: λ = 8 (what reaches the released trainer) and the same
   * recipe, shortened to 4 epochs here (the CoOp test above runs all 100) — an override of the preset's length.
   */
  @Test
  void continuesWithTheReleasedKgcoopRecipe(@TempDir Path tmp) throws Exception {
    World w = world(tmp, 6, 2);
    Path kg = baseline(tmp, w, "kgcoop", "kgcoop");
    Path out = tmp.resolve("mt");
    CliRunner.Result c = CliRunner.run("continue", "--from", kg.toString(), "--out", out.toString(), "--preset",
        "mergetune-kgcoop", "--anchor-template", "a photo of a {}.", "--epochs", "4", "--no-progress");
    assertEquals(0, c.exitCode(), c.out());
    JsonNode run = JSON.readTree(out.resolve("run.json").toFile());
    assertEquals(8.0, run.at("/mergetune/lambda").asDouble());
    assertEquals(1.0, run.at("/mergetune/beta").asDouble());
    assertEquals(128, run.at("/training/settings/batch_size").asInt());
    assertEquals(4, run.at("/training/settings/epochs").asInt());
    assertEquals(0.002, run.at("/training/settings/lr").asDouble());
    assertEquals("fresh", run.at("/mergetune/augmentation").asText());
    assertEquals("last", run.at("/mergetune/start").asText());
    assertEquals("kgcoop", run.at("/training/settings/method").asText());
    assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    assertTrue(Files.isRegularFile(out.resolve("prompt.safetensors")));
  }

  /** The released presets anchor a CoOp-suite dataset to the released table's template: DTD's is not CoOp's. */
  @Test
  void theAnchorOfASuiteDatasetIsTheReleasedOne(@TempDir Path tmp) throws Exception {
    Path dtd = Files.writeString(tmp.resolve("dtd.yaml"), "name: DTD\nlayout: coop\nroot: data\nsplit: train\n");
    assertEquals("a photo of a {}, a type of texture.", ContinueCommand.releasedAnchor(dtd));
    Files.createDirectories(tmp.resolve("shapes"));
    assertEquals(null, ContinueCommand.releasedAnchor(tmp.resolve("shapes")));
  }
}
