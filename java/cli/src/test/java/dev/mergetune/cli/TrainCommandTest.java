package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mergetune train} for every method on a random tiny CLIP and generated colour-coded image folders: the run
 * directory is complete, the training loss falls, and the saved trained state, loaded back independently of the run,
 * reproduces the validation accuracy the run reported for its best epoch.
 */
class TrainCommandTest {
  static final List<String> CLASSES = List.of("blue", "green", "red", "yellow");  // sorted: folder order = labels
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path shared;
  static Path model;
  static Path vocab;
  static Path train;
  static Path val;
  static List<ProtocolFixtures.Image> valImages;

  @BeforeAll
  static void inputs() throws Exception {
    NativeRuntime.ensureTorch();
    model = ProtocolFixtures.tinyClip(shared.resolve("tiny.safetensors"), 7);
    vocab = SyntheticMerges.writeClipSized(shared);
    train = shared.resolve("train");
    ProtocolFixtures.imageFolder(train, CLASSES, 6, 1);
    val = shared.resolve("val");
    valImages = ProtocolFixtures.imageFolder(val, CLASSES, 3, 5);
  }

  static CliRunner.Result train(Path out, String method, String... extra) {
    List<String> args = new ArrayList<>(List.of("train", "--method", method, "--model", model.toString(), "--vocab",
        vocab.toString(), "--data", train.toString(), "--val", val.toString(), "--out", out.toString(), "--shots",
        "0", "--batch", "8", "--augment", "none", "--no-progress", "--feature-batch", "8"));
    args.addAll(List.of(extra));
    return CliRunner.run(args.toArray(new String[0]));
  }

  /** Per-epoch mean losses from metrics.jsonl. */
  static List<Double> losses(Path out) throws Exception {
    List<Double> l = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) l.add(JSON.readTree(line).get("mean_loss").asDouble());
    return l;
  }

  static JsonNode result(Path out) throws Exception {
    return JSON.readTree(out.resolve("result.json").toFile());
  }

  static void assertRunDirectory(Path out, int epochs, String trained) throws Exception {
    for (String f : List.of("run.json", "metrics.jsonl", "result.json", trained, "checkpoints/training-state.json")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing in " + out);
    }
    List<Double> l = losses(out);
    assertEquals(epochs, l.size());
    assertTrue(l.get(l.size() - 1) < 0.8 * l.get(0), "the training loss does not fall: " + l);
    assertEquals(trained, result(out).get("trained").asText());
    JsonNode run = JSON.readTree(out.resolve("run.json").toFile());
    assertEquals(CLASSES, JSON.convertValue(run.at("/train/class_names"), List.class));
  }

  /** Validation images [n, 3, 32, 32]. */
  static Tensor valPixels() {
    return ImageBatch.loadTensor(valImages.stream().map(ProtocolFixtures.Image::file).toList(),
        ClipImageTransform.of(32), 1);
  }

  static double accuracy(Tensor logits) {
    long[] pred = new long[valImages.size()];
    logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false).contiguous().data_ptr_long().get(pred);
    int hits = 0;
    for (int i = 0; i < pred.length; i++) if (pred[i] == valImages.get(i).label()) hits++;
    return (double) hits / pred.length;
  }

  @Test
  void coopTrainsAndItsSavedContextReproducesTheBestValidationAccuracy(@TempDir Path out) throws Exception {
    CliRunner.Result r = train(out, "coop", "--epochs", "12", "--lr", "0.2");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("cached image features"), r.out());
    assertRunDirectory(out, 12, "prompt.safetensors");
    ClipModel clip = ClipLoader.load(model);
    CoopPromptLearner learner = CoopPromptLearner.fromText(clip, ClipTokenizer.load(vocab), CLASSES, "a photo of a");
    learner.load(out.resolve("prompt.safetensors"));
    try (NoGradGuard g = new NoGradGuard()) {
      double acc = accuracy(learner.logits(clip.encodeImage(valPixels())));
      assertEquals(result(out).get("best_val_accuracy").asDouble(), acc, 1e-12);
    }
  }

  @Test
  void kgcoopTrains(@TempDir Path out) throws Exception {
    CliRunner.Result r = train(out, "kgcoop", "--epochs", "12", "--lr", "0.2", "--lambda", "0.1");
    assertEquals(0, r.exitCode(), r.out());
    assertRunDirectory(out, 12, "prompt.safetensors");
    JsonNode s = JSON.readTree(out.resolve("run.json").toFile()).get("settings");
    assertEquals(0.1, s.get("lambda").asDouble());
    assertEquals("a photo of a {}.", s.get("template").asText());
  }

  @Test
  void linearProbeTrainsAndItsSavedHeadReproducesTheBestValidationAccuracy(@TempDir Path out) throws Exception {
    CliRunner.Result r = train(out, "linear-probe", "--epochs", "10", "--lr", "0.05");
    assertEquals(0, r.exitCode(), r.out());
    assertRunDirectory(out, 10, "probe.safetensors");
    ClipModel clip = ClipLoader.load(model);
    LinearProbe probe = LinearProbe.zeros(CLASSES.size(), clip.config().embedDim(), true);
    probe.load(out.resolve("probe.safetensors"));
    try (NoGradGuard g = new NoGradGuard()) {
      double acc = accuracy(probe.logits(clip.encodeImage(valPixels())));
      assertEquals(result(out).get("best_val_accuracy").asDouble(), acc, 1e-12);
    }
  }

  /** Zero-shot accuracy of a saved CLIP on the validation images with the training prompts. */
  static double zeroShot(Path modelFile) {
    ClipModel clip = ClipLoader.load(modelFile);
    List<String> prompts = ProtocolFixtures.prompts("a photo of a {}.", CLASSES);
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor tokens = dev.mergetune.clip.text.ClipTokenTensors.tokenize(ClipTokenizer.load(vocab), prompts, 77,
          dev.mergetune.clip.text.Truncation.TRUNCATE);
      return accuracy(clip.logitsPerImage(clip.encodeImage(valPixels()), clip.encodeText(tokens)));
    }
  }

  @Test
  void endToEndTrainsEveryParameterButTheLogitScale(@TempDir Path out) throws Exception {
    CliRunner.Result r = train(out, "e2e", "--iterations", "15", "--lr", "1e-3", "--warmup", "2",
        "--label-smoothing", "0");
    assertEquals(0, r.exitCode(), r.out());
    assertRunDirectory(out, 5, "model.safetensors");  // 24 images, batch 8: 3 steps an epoch
    ClipModel before = ClipLoader.load(model);
    ClipModel after = ClipLoader.load(out.resolve("model.safetensors"));
    var a = after.stateDict();
    int changed = 0;
    for (var e : before.stateDict().entrySet()) {
      boolean same = e.getValue().equal(a.get(e.getKey()));
      if (e.getKey().equals("logit_scale")) assertTrue(same, "logit_scale must stay frozen");
      else if (!same) changed++;
    }
    assertTrue(changed > 0.9 * (a.size() - 1), changed + " of " + (a.size() - 1) + " tensors changed");
    assertEquals(result(out).get("best_val_accuracy").asDouble(), zeroShot(out.resolve("model.safetensors")), 1e-12);
  }

  @Test
  void loraTrainsOnlyTheAdaptersAndSavesTheMergedModel(@TempDir Path out) throws Exception {
    CliRunner.Result r = train(out, "lora", "--iterations", "15", "--lr", "0.02", "--warmup", "2", "--rank", "4",
        "--scaling", "0.5", "--label-smoothing", "0");
    assertEquals(0, r.exitCode(), r.out());
    assertRunDirectory(out, 5, "lora.safetensors");
    assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    ClipModel before = ClipLoader.load(model);
    var a = ClipLoader.load(out.resolve("model.safetensors")).stateDict();
    for (var e : before.stateDict().entrySet()) {
      boolean mlp = e.getKey().matches(".*\\.mlp\\.c_(fc|proj)\\.weight");
      assertEquals(!mlp, e.getValue().equal(a.get(e.getKey())), e.getKey() + ": only MLP weights take the merge");
    }
    assertEquals(result(out).get("best_val_accuracy").asDouble(), zeroShot(out.resolve("model.safetensors")), 1e-12);
  }

  @Test
  void aFinishedOrDifferentRunDirectoryIsRefused(@TempDir Path out) throws Exception {
    assertEquals(0, train(out, "linear-probe", "--epochs", "1").exitCode());
    CliRunner.Result again = train(out, "linear-probe", "--epochs", "1");
    assertEquals(1, again.exitCode());
    assertTrue(again.out().contains("finished run"), again.out());
    // another run's folder with its checkpoints (an interrupted run): refused, it could be resumed
    Path other = out.resolveSibling(out.getFileName() + "-other");
    Files.createDirectories(other);
    Files.copy(out.resolve("run.json"), other.resolve("run.json"));
    copyTree(out.resolve("checkpoints"), other.resolve("checkpoints"));
    CliRunner.Result different = train(other, "linear-probe", "--epochs", "2");
    assertEquals(1, different.exitCode());
    assertTrue(different.out().contains("holds another run"), different.out());
    // another run's folder that failed before its first checkpoint: corrected settings replace it
    Path failed = out.resolveSibling(out.getFileName() + "-failed");
    Files.createDirectories(failed);
    Files.copy(out.resolve("run.json"), failed.resolve("run.json"));
    CliRunner.Result corrected = train(failed, "linear-probe", "--epochs", "2");
    assertEquals(0, corrected.exitCode(), corrected.out());
    assertTrue(Files.readString(failed.resolve("run.json")).contains("\"epochs\" : 2"), "run.json records the new run");
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (var walk = Files.walk(from)) {
      for (Path p : walk.toList()) Files.copy(p, to.resolve(from.relativize(p).toString()));
    }
  }

  @Test
  void badSettingsAreNamed(@TempDir Path out) {
    CliRunner.Result r = train(out, "coop", "--iterations", "10");
    assertEquals(1, r.exitCode());
    assertTrue(r.out().contains("--epochs"), r.out());
    CliRunner.Result m = train(out, "adapter", "--epochs", "1");
    assertEquals(1, m.exitCode());
    assertTrue(m.out().contains("unknown method 'adapter'"), m.out());
    CliRunner.Result v = train(out, "coop", "--epochs", "1", "--views", "3");
    assertEquals(1, v.exitCode());
    assertTrue(v.out().contains("views > 1 needs a random augmentation"), v.out());
    assertFalse(Files.exists(out.resolve("run.json")));
  }
}
