package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.TokenBatches;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.condu.ConduModel;
import dev.mergetune.condu.Prototypes;
import dev.mergetune.condu.SessionStore;
import dev.mergetune.condu.StoredSession;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.protocol.ZeroShotClip;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code condu add-task} with real (short) end-to-end fine-tuning from θ0 on a tiny CLIP, then {@code condu predict}
 * and {@code condu info}: the one-task store decouples the trained expert itself, the stored prototypes equal a
 * direct double computation from θ0 features, predict's accuracy equals a plain zero-shot run of the trained expert,
 * a second task makes session 2, a finished training run is reused rather than repeated.
 */
class ConduCommandTest {
  static final List<String> TEMPLATES = List.of("a photo of a {}.", "a {} thing.");
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path model;
  static Path vocab;
  static Path templates;

  @BeforeAll
  static void inputs() throws Exception {
    NativeRuntime.ensureTorch();
    model = ProtocolFixtures.tinyClip(dir.resolve("theta0.safetensors"), 3);
    vocab = SyntheticMerges.writeClipSized(dir);
    templates = Files.writeString(dir.resolve("templates.txt"), String.join("\n", TEMPLATES) + "\n");
    ProtocolFixtures.imageFolder(dir.resolve("a"), List.of("blue", "red"), 4, 1);
    ProtocolFixtures.imageFolder(dir.resolve("b"), List.of("green", "yellow"), 4, 2);
  }

  static CliRunner.Result addTask(Path store, String name, String data, Path runDir) {
    return CliRunner.run("condu", "add-task", "--store", store.toString(), "--model", model.toString(), "--vocab",
        vocab.toString(), "--data", dir.resolve(data).toString(), "--name", name, "--templates", templates.toString(),
        "--iterations", "3", "--batch", "4", "--warmup", "1", "--lr", "1e-3", "--augment", "none", "--run-dir",
        runDir.toString(), "--feature-batch", "4", "--no-progress");
  }

  static float[] flat(Tensor t) {
    float[] out = new float[(int) t.numel()];
    new FloatPointer(t.contiguous().data_ptr_float()).get(out);
    return out;
  }

  @Test
  void addTaskTrainsFromTheta0UnifiesAndPredicts() throws Exception {
    Path store = dir.resolve("store");
    Path runA = dir.resolve("run-a");
    CliRunner.Result r = addTask(store, "a", "a", runA);
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("session 1: 1 tasks [a]"), r.out());
    Path expertFile = runA.resolve("model.safetensors");
    assertTrue(Files.isRegularFile(expertFile));
    ClipTokenizer tok = ClipTokenizer.load(vocab);

    // one task: the decoupled expert is the trained model (λ = 1, U = δ) up to θ0 + (x − θ0) rounding
    try (ConduModel m = ConduModel.open(store, null, tok, 4); ClipModel trained = ClipLoader.load(expertFile);
         ClipModel theta0 = ClipLoader.load(model)) {
      Map<String, Tensor> got = m.expert(0).stateDict();
      boolean changed = false;
      for (Map.Entry<String, Tensor> e : trained.stateDict().entrySet()) {
        float[] want = flat(e.getValue());
        float[] have = flat(got.get(e.getKey()));
        float[] base = flat(theta0.stateDict().get(e.getKey()));
        for (int j = 0; j < want.length; j++) {
          assertEquals(want[j], have[j], 1e-6 * (1 + Math.abs(want[j])), e.getKey() + "[" + j + "]");
          changed |= want[j] != base[j];
        }
      }
      assertTrue(changed, "training did not move the expert away from θ0");
    }

    // prototypes: normalize(mean normalised image features + mean normalised text features), from θ0, in double
    try (ClipModel theta0 = ClipLoader.load(model); StoredSession s = SessionStore.load(store)) {
      Prototypes stored = s.prototypes(0).orElseThrow();
      List<Path> images = new ArrayList<>();
      for (String c : List.of("blue", "red")) for (int k = 0; k < 4; k++) images.add(dir.resolve("a/" + c + "/img" + k + ".png"));
      ZeroShotClip zs = new ZeroShotClip(theta0, null, TextTokenizer.of(tok, 77, Truncation.TRUNCATE),
          new FeatureExtractor(4, false, null));
      float[][] img = zs.imageFeatures(new ClassificationTask("a", List.of("blue", "red"), TEMPLATES, images));
      List<String> texts = new ArrayList<>();
      for (String c : List.of("blue", "red")) for (String t : TEMPLATES) texts.add(t.replace("{}", c));
      float[][] txt = new FeatureExtractor(4, false, null).texts(theta0, "x",
          TokenBatches.of(TextTokenizer.of(tok, 77, Truncation.TRUNCATE).tokenize(texts), "t"));
      float[] v = stored.values();
      for (int c = 0; c < 2; c++) {
        double[] p = new double[stored.dim()];
        for (int k = 0; k < 4; k++) add(p, img[c * 4 + k], 1.0 / 4);
        for (int t = 0; t < 2; t++) add(p, txt[c * 2 + t], 1.0 / 2);
        double n = 0;
        for (double x : p) n += x * x;
        for (int j = 0; j < p.length; j++) assertEquals(p[j] / Math.sqrt(n), v[c * stored.dim() + j], 1e-5);
      }
    }

    // predict with the task's expert = a plain zero-shot run of the trained model
    Path predictions = dir.resolve("pred.json");
    r = CliRunner.run("condu", "predict", "--store", store.toString(), "--vocab", vocab.toString(), "--data",
        dir.resolve("a").toString(), "--templates", templates.toString(), "--task", "a", "--batch", "4", "--out",
        predictions.toString());
    assertEquals(0, r.exitCode(), r.out());
    JsonNode pred = JSON.readTree(predictions.toFile());
    try (ClipModel trained = ClipLoader.load(expertFile)) {
      List<Path> images = new ArrayList<>();
      int[] labels = new int[pred.get("predictions").size()];
      int i = 0;
      for (JsonNode row : pred.get("predictions")) {
        images.add(Path.of(row.get("image").asText()));
        labels[i++] = row.get("label").asInt();
      }
      ZeroShotClip zs = new ZeroShotClip(trained, null, TextTokenizer.of(tok, 77, Truncation.TRUNCATE),
          new FeatureExtractor(4, false, null));
      float[][] logits = zs.logits(new ClassificationTask("a", List.of("blue", "red"), TEMPLATES, images));
      assertEquals(Accuracy.top1(logits, labels), pred.get("top1").asDouble(), 1e-9);
    }

    // a second task: session 2 with both; aggregation runs
    r = addTask(store, "b", "b", dir.resolve("run-b"));
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("session 2: 2 tasks [a, b]"), r.out());
    r = CliRunner.run("condu", "predict", "--store", store.toString(), "--vocab", vocab.toString(), "--data",
        dir.resolve("b").toString(), "--templates", templates.toString(), "--top-k", "1", "--batch", "8");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("θ0 + top-1 experts (unweighted)"), r.out());
    r = CliRunner.run("condu", "info", store.toString());
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("session 2") && r.out().contains("prototypes 2 classes"), r.out());

    // the same task again is refused, naming it
    r = addTask(store, "a", "a", runA);
    assertNotEquals(0, r.exitCode());
    assertTrue(r.out().contains("already holds task 'a'"), r.out());
  }

  @Test
  void aFinishedTrainingRunIsReusedNotRepeated() throws Exception {
    Path run = dir.resolve("run-reuse");
    Path first = dir.resolve("store-1");
    assertEquals(0, addTask(first, "a", "a", run).exitCode());
    byte[] expert = Files.readAllBytes(run.resolve("model.safetensors"));
    // the store is lost (say, the session was killed before committing): the step reuses the trained expert
    Path second = dir.resolve("store-2");
    CliRunner.Result r = addTask(second, "a", "a", run);
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("already trained; reusing it"), r.out());
    assertArrayEquals(expert, Files.readAllBytes(run.resolve("model.safetensors")));
    try (StoredSession a = SessionStore.load(first); StoredSession b = SessionStore.load(second)) {
      for (int s = 0; s < a.unifiedTensors().size(); s++) {
        assertArrayEquals(flat(a.unifiedTensors().get(s)), flat(b.unifiedTensors().get(s)));
      }
    }
  }

  /** A model with a vocabulary of its own (the world's, smaller than CLIP's): the commands pick the right tokenizer. */
  @Test
  void aModelWithItsOwnSmallVocabulary() throws Exception {
    dev.mergetune.world.WorldSpec spec = new dev.mergetune.world.WorldSpec(2, 32, 4, 1, 2, 1, 1, 20);
    dev.mergetune.world.World world = dev.mergetune.world.WorldGenerator.generate(spec, dir.resolve("world"));
    Path small = dir.resolve("world-clip.safetensors");
    dev.mergetune.clip.ClipCheckpoints.save(new ClipModel(dev.mergetune.world.Pretraining.config(
        new dev.mergetune.world.PretrainSettings(1, 4, 1e-3, 0, 0, 1, 32, 32, 1, 2, 8, 1,
        dev.mergetune.clip.Activation.QUICK_GELU), world)).initialize(3), small,
        Map.of());
    Path store = dir.resolve("world-store");
    Path colours = world.dataset("colours").train();
    CliRunner.Result r = CliRunner.run("condu", "add-task", "--store", store.toString(), "--model", small.toString(),
        "--vocab", world.mergesFile().toString(), "--data", colours.toString(), "--name", "colours", "--templates",
        "a photo of a {} shape", "--expert", small.toString());
    assertEquals(0, r.exitCode(), r.out());
    r = CliRunner.run("condu", "predict", "--store", store.toString(), "--vocab", world.mergesFile().toString(),
        "--data", world.dataset("colours").test().toString(), "--templates", "a photo of a {} shape", "--task",
        "colours");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("expert 'colours' on"), r.out());
  }

  /**
   * {@code condu add-task --method lora --lora-space adapters --expert lora.safetensors}: a store of adapters (θ0's
   * own stored once), a folded LoRA expert refused by it, and {@code predict --task} of the one-task store equal to
   * the expert's own adapters on θ0's base weights.
   */
  @Test
  void addsLoraAdapterExpertsInTheAdaptersSpace() throws Exception {
    Path store = dir.resolve("adapters-store");
    Path[] experts = new Path[2];
    for (int t = 0; t < 2; t++) {
      ClipModel m = dev.mergetune.clip.ClipLoader.load(model);
      dev.mergetune.adapt.Lora l = dev.mergetune.adapt.Lora.attach(m, 4, 0.5, 20 + t);
      experts[t] = dir.resolve("expert-" + t + ".safetensors");
      l.save(experts[t]);
    }
    for (int t = 0; t < 2; t++) {
      CliRunner.Result r = CliRunner.run("condu", "add-task", "--store", store.toString(), "--model", model.toString(),
          "--vocab", vocab.toString(), "--data", dir.resolve(t == 0 ? "a" : "b").toString(), "--name", "t" + t,
          "--templates", templates.toString(), "--method", "lora", "--rank", "4", "--scaling", "0.5", "--lora-space",
          "adapters", "--prototype-images", "augmented", "--augment", "mtil", "--expert", experts[t].toString(),
          "--feature-batch", "4");
      assertEquals(0, r.exitCode(), r.out());
    }
    CliRunner.Result info = CliRunner.run("condu", "info", store.toString());
    assertTrue(info.out().contains("adapters' space: rank 4, scaling 0.5") && info.out().contains("session 2"),
        info.out());
    CliRunner.Result folded = CliRunner.run("condu", "add-task", "--store", store.toString(), "--model",
        model.toString(), "--vocab", vocab.toString(), "--data", dir.resolve("a").toString(), "--name", "t2",
        "--templates", templates.toString(), "--expert", model.toString());
    assertTrue(folded.exitCode() != 0 && folded.out().contains("adapters"), folded.out());
    CliRunner.Result e2e = CliRunner.run("condu", "add-task", "--store", dir.resolve("x").toString(), "--model",
        model.toString(), "--vocab", vocab.toString(), "--data", dir.resolve("a").toString(), "--lora-space",
        "adapters", "--expert", model.toString());
    assertTrue(e2e.exitCode() != 0 && e2e.out().contains("--method lora"), e2e.out());
  }

  private static void add(double[] sum, float[] v, double w) {
    double n = 0;
    for (float x : v) n += (double) x * x;
    n = Math.sqrt(n);
    for (int j = 0; j < sum.length; j++) sum[j] += w * v[j] / n;
  }
}
