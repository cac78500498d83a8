package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.data.Sample;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.protocol.ZeroShotClip;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code condu mtil} over three tiny tasks (short end-to-end fine-tuning each): the matrices, metrics and report are
 * written; entries are checked against plain zero-shot runs of θ0 and of the trained experts (A[0][0] = expert 1
 * alone; task-agnostic A[0][1] = the mean of θ0's and expert 1's logits, the only expert then); unseen entries agree
 * between the variants; the sequential baseline chains its models; a second run resumes without training or
 * evaluating again.
 */
class ConduMtilCommandTest {
  static final List<String> NAMES = List.of("t-one", "t-two", "t-three");
  static final List<List<String>> CLASSES = List.of(List.of("blue", "red"), List.of("green", "yellow"),
      List.of("cyan", "magenta", "red"));
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path model;
  static Path vocab;
  static Path config;

  @BeforeAll
  static void inputs() throws Exception {
    NativeRuntime.ensureTorch();
    model = ProtocolFixtures.tinyClip(dir.resolve("theta0.safetensors"), 9);
    vocab = SyntheticMerges.writeClipSized(dir);
    StringBuilder y = new StringBuilder("model: theta0.safetensors\nvocab: " + vocab.getFileName() + "\n"
        + "method: e2e\ntrain: {iterations: 2, batch_size: 4, warmup: 1, lr: 1.0e-3, augment: none}\n"
        + "templates: 'a photo of a {}.'\ntop_k: 2\nbatch_size: 8\nsequential: true\ntasks:\n");
    for (int t = 0; t < 3; t++) {
      ProtocolFixtures.imageFolder(dir.resolve(NAMES.get(t) + "/train"), CLASSES.get(t), 3, t);
      ProtocolFixtures.imageFolder(dir.resolve(NAMES.get(t) + "/test"), CLASSES.get(t), 2, t + 7);
      y.append("  - {name: ").append(NAMES.get(t)).append(", train: ").append(NAMES.get(t)).append("/train, test: ")
          .append(NAMES.get(t)).append("/test}\n");
    }
    config = Files.writeString(dir.resolve("mtil.yaml"), y.toString());
  }

  static float[][] logits(Path checkpoint, int task, int[] labels) {
    Dataset test = ImageFolderSource.read(dir.resolve(NAMES.get(task) + "/test"));
    List<Path> images = new ArrayList<>();
    for (Sample s : test.samples()) {
      labels[images.size()] = s.label();
      images.add(s.image());
    }
    try (ClipModel m = ClipLoader.load(checkpoint)) {
      ZeroShotClip zs = new ZeroShotClip(m, null, TextTokenizer.of(ClipTokenizer.load(vocab), 77, Truncation.TRUNCATE),
          new FeatureExtractor(8, false, null));
      return zs.logits(new ClassificationTask(NAMES.get(task), test.classNames(), List.of("a photo of a {}."), images));
    }
  }

  static double[] row(JsonNode matrix, int s) {
    double[] out = new double[3];
    for (int d = 0; d < 3; d++) out[d] = matrix.get(s).get(d).asDouble();
    return out;
  }

  @Test
  void runsTheSequenceFillsBothMatricesAndResumes() throws Exception {
    Path out = dir.resolve("out");
    CliRunner.Result r = CliRunner.run("condu", "mtil", "--config", config.toString(), "--out", out.toString(),
        "--no-progress");
    assertEquals(0, r.exitCode(), r.out());
    for (String f : List.of("result.json", "report/report.md", "report/report.json", "rows/zero-shot.json",
        "rows/session-03.json", "store/condu-session.json", "runs/01-t-one/model.safetensors")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
    }
    assertTrue(Files.list(out.resolve("report")).anyMatch(p -> p.toString().endsWith(".png")));
    JsonNode res = JSON.readTree(out.resolve("result.json").toFile());
    JsonNode id = res.at("/mtil/matrix");
    JsonNode ag = res.at("/task_agnostic/matrix");
    assertEquals(3, id.size());

    // metrics from the matrix, by the formulas of methods.md §2.5
    double[][] a = {row(id, 0), row(id, 1), row(id, 2)};
    double transfer = ((a[0][1]) + (a[0][2] + a[1][2]) / 2) / 2;
    double average = 0;
    for (double[] x : a) for (double v : x) average += v / 9;
    double last = (a[2][0] + a[2][1] + a[2][2]) / 3;
    assertEquals(transfer, res.at("/mtil/transfer").asDouble(), 1e-9);
    assertEquals(average, res.at("/mtil/average").asDouble(), 1e-9);
    assertEquals(last, res.at("/mtil/last").asDouble(), 1e-9);

    // unseen entries are aggregation in both variants
    for (int s = 0; s < 3; s++) for (int d = s + 1; d < 3; d++) assertEquals(a[s][d], ag.get(s).get(d).asDouble(), 0);

    // zero-shot row = θ0 run plainly
    JsonNode zs = JSON.readTree(out.resolve("rows/zero-shot.json").toFile()).get("top1");
    for (int d = 0; d < 3; d++) {
      int[] labels = new int[CLASSES.get(d).size() * 2];
      assertEquals(Accuracy.top1(logits(model, d, labels), labels), zs.get(d).asDouble(), 1e-9, "zero-shot " + d);
    }
    // session 1 holds one task, so its expert is the trained model (λ = 1, U = δ)
    Path expert1 = out.resolve("runs/01-t-one/model.safetensors");
    int[] labels = new int[4];
    assertEquals(Accuracy.top1(logits(expert1, 0, labels), labels), a[0][0], 1e-9, "A[0][0]");
    // task-agnostic A[0][1]: θ0 and the only expert, averaged
    int[] l1 = new int[4];
    float[][] z0 = logits(model, 1, l1);
    float[][] z1 = logits(expert1, 1, l1);
    float[][] mean = new float[z0.length][z0[0].length];
    for (int i = 0; i < z0.length; i++) for (int c = 0; c < z0[i].length; c++) mean[i][c] = (z0[i][c] + z1[i][c]) / 2;
    assertEquals(Accuracy.top1(mean, l1), ag.get(0).get(1).asDouble(), 1e-9, "task-agnostic A[0][1]");

    // the sequential baseline: session 1 is the same fine-tuning from θ0; session 2 starts from session 1's model
    JsonNode seq = res.at("/sequential/matrix");
    assertEquals(a[0][0], seq.get(0).get(0).asDouble(), 1e-9);
    assertEquals(out.resolve("runs/seq-01-t-one/model.safetensors").toAbsolutePath().toString(),
        JSON.readTree(out.resolve("runs/seq-02-t-two/run.json").toFile()).get("model").asText());
    int[] l2 = new int[4];
    assertEquals(Accuracy.top1(logits(out.resolve("runs/seq-02-t-two/model.safetensors"), 0, l2), l2),
        seq.get(1).get(0).asDouble(), 1e-9, "sequential A[1][0]");

    // resume: nothing is trained or evaluated again, the result is the same
    String before = Files.readString(out.resolve("result.json"));
    r = CliRunner.run("condu", "mtil", "--config", config.toString(), "--out", out.toString(), "--no-progress");
    assertEquals(0, r.exitCode(), r.out());
    assertFalse(r.out().contains("training"), r.out());
    assertFalse(r.out().contains("zero-shot θ0,"), r.out());
    assertEquals(before, Files.readString(out.resolve("result.json")));
  }

  @Test
  void configErrorsNameTheKey() throws Exception {
    Path bad = Files.writeString(dir.resolve("bad.yaml"), Files.readString(config).replace("top_k: 2", "top_k: 2\nfoo: 1"));
    CliRunner.Result r = CliRunner.run("condu", "mtil", "--config", bad.toString(), "--out", dir.resolve("x").toString());
    assertNotEquals(0, r.exitCode());
    assertTrue(r.out().contains("unknown key 'foo'"), r.out());
    bad = Files.writeString(dir.resolve("bad2.yaml"), Files.readString(config).replace("lr: 1.0e-3", "lr: 1.0e-3, bogus: 2"));
    r = CliRunner.run("condu", "mtil", "--config", bad.toString(), "--out", dir.resolve("x").toString());
    assertNotEquals(0, r.exitCode());
    assertTrue(r.out().contains("unknown train setting 'bogus'"), r.out());
  }

  /**
   * {@code condu mtil} with LoRA experts in the adapters' space (the released code's) and prototypes from augmented
   * images, over the first two tasks: the store holds U and masks over the adapter tensors alone plus θ0's own
   * adapters; session 1's expert (λ = 1, U = δ: θ0's adapters + δ = the trained ones) classifies as the LoRA run's
   * merged model does; a second session keeps θ0's adapters; a mistyped space is an error naming the key.
   */
  @Test
  void runsLoraExpertsInTheAdaptersSpace() throws Exception {
    String two = Files.readString(config).replace("method: e2e", "method: lora\nlora_space: adapters\n"
        + "prototype_images: augmented").replace("augment: none}", "augment: mtil, rank: 4, scaling: 0.5}")
        .replace("sequential: true", "sequential: false");
    two = two.substring(0, two.indexOf("  - {name: t-three"));
    Path cfg = Files.writeString(dir.resolve("mtil-adapters.yaml"), two);
    Path out = dir.resolve("out-adapters");
    CliRunner.Result r = CliRunner.run("condu", "mtil", "--config", cfg.toString(), "--out", out.toString(),
        "--no-progress");
    assertEquals(0, r.exitCode(), r.out());
    JsonNode manifest = JSON.readTree(out.resolve("store/condu-session.json").toFile());
    assertEquals(4, manifest.at("/adapters/rank").asInt());
    assertEquals(0.5, manifest.at("/adapters/scaling").asDouble());
    assertEquals("theta0-adapters.safetensors", manifest.at("/adapters/theta0/file").asText());
    for (JsonNode t : manifest.get("tensors")) {
      String n = t.get("name").asText();
      assertTrue(n.endsWith(".lora_A") || n.endsWith(".lora_B"), n);
    }
    JsonNode res = JSON.readTree(out.resolve("result.json").toFile());
    assertEquals("adapters", res.get("lora_space").asText());
    assertEquals("augmented", res.get("prototype_images").asText());
    int[] labels = new int[4];
    assertEquals(Accuracy.top1(logits(out.resolve("runs/01-t-one/model.safetensors"), 0, labels), labels),
        res.at("/mtil/matrix").get(0).get(0).asDouble(), 1e-9, "A[0][0]");
    assertEquals(2, res.at("/mtil/matrix").size());
    CliRunner.Result info = CliRunner.run("condu", "info", out.resolve("store").toString());
    assertTrue(info.out().contains("adapters' space: rank 4"), info.out());

    Path bad = Files.writeString(dir.resolve("bad-space.yaml"), two.replace("lora_space: adapters", "lora_space: ab"));
    r = CliRunner.run("condu", "mtil", "--config", bad.toString(), "--out", dir.resolve("y").toString());
    assertNotEquals(0, r.exitCode());
    assertTrue(r.out().contains("'lora_space'"), r.out());
  }
}
