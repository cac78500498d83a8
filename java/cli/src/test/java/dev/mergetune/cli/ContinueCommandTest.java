package dev.mergetune.cli;

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
}
