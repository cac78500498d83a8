package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.adapt.CoopPromptLearner;
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

  @Test
  void continuesACoopRunAndReportsBaseNovelAndHm(@TempDir Path tmp) throws Exception {
    NativeRuntime.ensureTorch();
    Path model = ProtocolFixtures.tinyClip(tmp.resolve("tiny.safetensors"), 7);
    Path vocab = SyntheticMerges.writeClipSized(tmp);
    ProtocolFixtures.imageFolder(tmp.resolve("train"), CLASSES, 6, 1);
    ProtocolFixtures.imageFolder(tmp.resolve("val"), CLASSES, 3, 5);
    List<ProtocolFixtures.Image> test = ProtocolFixtures.imageFolder(tmp.resolve("test"), CLASSES, 4, 8);
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
}
