package dev.mergetune.embedder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.eval.AccuracyTable;
import dev.mergetune.eval.Report;
import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.kernels.RuntimeSettings;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The library used as another JVM team uses it: this module depends on mergetune-platform alone (the enforcer rule in
 * its pom bans the CLI's dependencies), with slf4j-simple as the binding, and calls only public API.
 */
class EmbedderTest {
  private static final Path ROOT = Path.of(System.getProperty("mergetune.root", "../.."));
  private static final Path TINY_CLIP = ROOT.resolve("demo/tiny-clip/tiny-clip.safetensors");
  private static final Path TINY_VOCAB = ROOT.resolve("demo/tiny-clip/world-bpe.txt.gz");

  @BeforeAll
  static void configure() {
    NativeRuntime.configure(RuntimeSettings.recommended());
  }

  @Test
  void theClassPathHoldsNeitherTheCliNorALoggingBindingOfOurs() throws Exception {
    for (String name : List.of("dev.mergetune.cli.MergetuneCli", "dev.mergetune.world.World", "picocli.CommandLine",
        "ch.qos.logback.classic.Logger", "org.jline.terminal.Terminal", "me.tongfei.progressbar.ProgressBar",
        "org.knowm.xchart.BitmapEncoder", "org.yaml.snakeyaml.Yaml")) {
      assertThrows(ClassNotFoundException.class, () -> Class.forName(name), name + " is on the class path");
    }
    String[] entries = System.getProperty("java.class.path").split(File.pathSeparator);
    for (String e : entries) {
      String file = Path.of(e).getFileName().toString();
      assertFalse(file.matches("(?i).*(logback|picocli|jline|progressbar|xchart|snakeyaml|mergetune-cli|mergetune\\.jar).*"),
          "unexpected class-path entry " + e);
    }
    assertEquals("org.slf4j.simple.SimpleLoggerFactory", LoggerFactory.getILoggerFactory().getClass().getName());
    assertFalse(getClass().getClassLoader().getResources("logback.xml").hasMoreElements(), "a logback.xml is shipped");
  }

  @Test
  void theNativeLibraryComesFromTheClassifierJar() {
    boolean onClassPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .anyMatch(e -> e.endsWith(".jar") && e.contains("mergetune-core") && e.contains("linux-x86_64"));
    assertTrue(onClassPath, "no mergetune-core linux-x86_64 jar on " + System.getProperty("java.class.path"));
    String lib = NativeRuntime.mergetuneLibraryPath();
    assertTrue(lib.contains("linux-x86_64.jar") && lib.endsWith("libmergetune.so"), lib);
  }

  @Test
  void aMergeMatchesADoubleReferenceAndRefusesNaN() {
    NativeRuntime.ensureTorch();
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> zs = random(1);
      Map<String, Tensor> ft = random(2);
      Map<String, Tensor> out = new LinkedHashMap<>();
      zs.forEach((k, v) -> out.put(k, torch.empty_like(v)));
      float alpha = 0.3f;
      Interpolation.wiseFt(SegmentTable.ofTensors(out), SegmentTable.ofTensors(zs), SegmentTable.ofTensors(ft), alpha);
      for (String k : zs.keySet()) {
        float[] a = values(zs.get(k));
        float[] b = values(ft.get(k));
        float[] m = values(out.get(k));
        for (int i = 0; i < a.length; i++) {
          double expected = a[i] + (double) alpha * ((double) b[i] - a[i]);
          assertEquals(expected, m[i], 1e-6 * Math.max(1, Math.abs(expected)), k + "[" + i + "]");
        }
      }
      ft.get("b").data_ptr_float().put(1, Float.NaN);
      assertThrows(NonFiniteException.class, () -> Interpolation.wiseFt(SegmentTable.ofTensors(out),
          SegmentTable.ofTensors(zs), SegmentTable.ofTensors(ft), alpha));
    }
  }

  @Test
  void aClipForwardGivesLogitsEqualToTheScaledCosineOfItsFeatures() {
    ClipModel clip = ClipLoader.load(TINY_CLIP);
    ClipTokenizer tokenizer = ClipTokenizer.forVocabSize(TINY_VOCAB, clip.config().vocabSize());
    try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
      int r = clip.config().imageResolution();
      torch.manual_seed(5);
      Tensor images = torch.randn(3, 3, r, r);
      Tensor tokens = ClipTokenTensors.tokenize(tokenizer, List.of("a photo of a red circle", "a photo of a blue star"),
          clip.config().contextLength(), Truncation.TRUNCATE);
      float[][] img = rows(clip.encodeImage(images));
      float[][] txt = rows(clip.encodeText(tokens));
      float[][] logits = rows(clip.logitsPerImage(clip.encodeImage(images), clip.encodeText(tokens)));
      double scale = Math.exp(values(clip.logitScaleExp().log())[0]);
      for (int i = 0; i < img.length; i++) {
        for (int j = 0; j < txt.length; j++) {
          double expected = scale * cosine(img[i], txt[j]);
          assertEquals(expected, logits[i][j], 1e-4 * Math.max(1, Math.abs(expected)), "logit " + i + "," + j);
        }
      }
    } finally {
      clip.close();
    }
  }

  @Test
  void threeCoopStepsLowerTheLossOnTheirBatch() {
    ClipModel clip = ClipLoader.load(TINY_CLIP);
    ClipTokenizer tokenizer = ClipTokenizer.forVocabSize(TINY_VOCAB, clip.config().vocabSize());
    try (PointerScope scope = new PointerScope()) {
      CoopPromptLearner learner = CoopPromptLearner.fromText(clip, tokenizer,
          List.of("circle", "square", "triangle", "star"), "a photo of a");
      Tensor features;
      try (NoGradGuard g = new NoGradGuard()) {
        torch.manual_seed(9);
        int r = clip.config().imageResolution();
        features = ClipModel.normalize(clip.encodeImage(torch.randn(8, 3, r, r)));
      }
      Tensor labels = Tensor.create(new long[] {0, 1, 2, 3, 0, 1, 2, 3}, 8);
      float[] before = values(learner.context());
      Optimizers.Named sgd = Optimizers.sgd(Map.of("ctx", List.of(learner.context())),
          new Optimizers.SgdConfig(0.002, 0.9, 5e-4, false));
      double[] losses = new double[4];
      for (int step = 0; step <= 3; step++) {
        try (PointerScope s = new PointerScope()) {
          sgd.zeroGrad();
          Tensor loss = Losses.crossEntropy(learner.logits(features), labels, 0);
          losses[step] = loss.item_double();
          if (step == 3) break;
          loss.backward();
          sgd.step();
        }
      }
      assertTrue(losses[3] < losses[0], "the loss went from " + losses[0] + " to " + losses[3]);
      assertNotEquals(before[0], values(learner.context())[0]);
    } finally {
      clip.close();
    }
  }

  @Test
  void aReportWithoutXChartIsMarkdownAndJsonOnly(@TempDir Path dir) throws Exception {
    assertFalse(Report.plotsAvailable());
    List<Path> files = Report.titled("embedded").accuracies("Cross-dataset",
        AccuracyTable.of(List.of(AccuracyTable.Row.target("A", 50), AccuracyTable.Row.target("B", 70)))).writeTo(dir);
    assertEquals(List.of(dir.resolve("report.md"), dir.resolve("report.json")), files);
    try (Stream<Path> listing = Files.list(dir)) {
      assertEquals(2, listing.count());
    }
    assertFalse(Files.readString(dir.resolve("report.md")).contains("!["));
    JsonNode s = new ObjectMapper().readTree(dir.resolve("report.json").toFile()).get("sections").get(0);
    assertTrue(s.get("plot").isNull());
    assertEquals(60.0, s.get("average").asDouble(), 0);
  }

  private static Map<String, Tensor> random(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("w", tensor(r, 7, 5));
    m.put("b", tensor(r, 5));
    return m;
  }

  private static Tensor tensor(SplittableRandom r, long... shape) {
    long n = 1;
    for (long d : shape) n *= d;
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
    return Tensor.create(v, shape);
  }

  private static float[] values(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  private static float[][] rows(Tensor t) {
    int n = (int) t.size(0);
    int d = (int) t.size(1);
    float[] flat = values(t);
    float[][] out = new float[n][d];
    for (int i = 0; i < n; i++) System.arraycopy(flat, i * d, out[i], 0, d);
    return out;
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
