package dev.mergetune.condu;

import static dev.mergetune.condu.Models.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.protocol.ZeroShotClip;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference over a three-task store of a tiny CLIP against a direct computation: each expert materialised from the
 * double-precision session loop ({@link SessionLoopReference}) as a model of its own and run as a plain zero-shot
 * classifier; routing and the averages recomputed in double from θ0's image features and the stored prototypes.
 */
class ConduModelTest {
  static final List<List<String>> CLASSES = List.of(List.of("blue", "red"), List.of("green", "yellow", "red"),
      List.of("cyan", "magenta"));
  static final List<String> TEMPLATES = List.of("a photo of a {}.", "a {} thing.");

  @TempDir static Path dir;
  static Path theta0File;
  static ClipTokenizer tokenizer;
  static Path store;
  static List<ClassificationTask> tests = new ArrayList<>();
  /** Reference experts, θ0 + λ^i·M^i⊙U of the double-precision loop, as models. */
  static List<ClipModel> experts = new ArrayList<>();
  static ClipModel theta0;

  @BeforeAll
  static void build() throws Exception {
    NativeRuntime.ensureTorch();
    theta0File = ProtocolFixtures.tinyClip(dir.resolve("theta0.safetensors"), 11);
    tokenizer = ClipTokenizer.load(SyntheticMerges.writeClipSized(dir));
    theta0 = ClipLoader.load(theta0File);
    Map<String, Tensor> base = theta0.stateDict();
    store = dir.resolve("store");
    SessionLoopReference reference = new SessionLoopReference();
    SplittableRandom r = new SplittableRandom(5);
    for (int t = 0; t < CLASSES.size(); t++) {
      Path folder = dir.resolve("task" + t);
      ProtocolFixtures.imageFolder(folder, CLASSES.get(t), 3, t + 1);
      Dataset d = ImageFolderSource.read(folder);
      List<String> names = d.classNames();
      List<Path> images = d.samples().stream().map(s -> s.image()).toList();
      tests.add(new ClassificationTask("task" + t, names, TEMPLATES, images));
      // an expert: θ0 plus a random delta on every tensor (each task a different scale)
      Map<String, Tensor> expert = new LinkedHashMap<>();
      double[][] delta = new double[base.size()][];
      int s = 0;
      for (Map.Entry<String, Tensor> e : base.entrySet()) {
        float[] w = floats(e.getValue().contiguous());
        delta[s] = new double[w.length];
        float[] x = new float[w.length];
        for (int j = 0; j < w.length; j++) {
          x[j] = w[j] + (float) (0.03 * (t + 1) * r.nextGaussian());
          delta[s][j] = (double) x[j] - w[j];
        }
        expert.put(e.getKey(), Tensor.create(x, e.getValue().sizes().vec().get()));
        s++;
      }
      reference.addTask(delta);
      try (ClipModel m0 = ClipLoader.load(theta0File)) {
        Prototypes p = ConduTaskStep.prototypes(m0, tokenizer, d, names, TEMPLATES, 4);
        ConduSessions.addTaskFromExpert(store, Theta0Ref.of(theta0File), "task" + t, base, expert, p);
      }
    }
    for (int t = 0; t < CLASSES.size(); t++) {
      ClipModel m = ClipLoader.load(theta0File);
      double[][] rebuilt = reference.rebuilt(t);
      int s = 0;
      for (Tensor p : m.stateDict().values()) {
        float[] w = floats(p.contiguous());
        for (int j = 0; j < w.length; j++) w[j] = (float) (w[j] + rebuilt[s][j]);
        new FloatPointer(p.data_ptr_float()).put(w);
        s++;
      }
      experts.add(m);
    }
  }

  static ZeroShotClip plain(ClipModel m) {
    return new ZeroShotClip(m, null, TextTokenizer.of(tokenizer, 77, Truncation.TRUNCATE),
        new FeatureExtractor(4, false, null));
  }

  static void assertClose(float[][] want, float[][] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      for (int c = 0; c < want[i].length; c++) {
        assertEquals(want[i][c], got[i][c], 2e-3 * (1 + Math.abs(want[i][c])), what + " image " + i + " class " + c);
      }
    }
  }

  @Test
  void eachExpertIsTheDecoupledModel() throws Exception {
    try (ConduModel m = ConduModel.open(store, null, tokenizer, 4)) {
      assertEquals(List.of("task0", "task1", "task2"), m.taskNames());
      for (int t = 0; t < 3; t++) {
        for (ClassificationTask task : tests) {
          assertClose(plain(experts.get(t)).logits(task), m.logits(task, new ConduModel.Expert(t)),
              "expert " + t + " on " + task.name());
        }
      }
    }
  }

  /** Direct aggregation: every model on every image, route in double, gather, average. */
  static float[][] direct(ClassificationTask task, int k, boolean weighted, double scale) throws Exception {
    ZeroShotClip zs = plain(theta0);
    float[][] f = zs.imageFeatures(task);
    float[][] l0 = zs.logits(task);
    List<float[][]> le = new ArrayList<>();
    for (ClipModel e : experts) le.add(plain(e).logits(task));
    List<Prototypes> protos = new ArrayList<>();
    try (StoredSession s = SessionStore.load(store)) {
      for (int t = 0; t < s.tasks(); t++) protos.add(s.prototypes(t).orElseThrow());
    }
    float[][] out = new float[f.length][];
    for (int i = 0; i < f.length; i++) {
      double norm = 0;
      for (float v : f[i]) norm += (double) v * v;
      norm = Math.sqrt(norm);
      double[] score = new double[protos.size()];
      for (int t = 0; t < protos.size(); t++) {
        Prototypes p = protos.get(t);
        float[] v = p.values();
        score[t] = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < p.classes(); c++) {
          double dot = 0;
          for (int j = 0; j < p.dim(); j++) dot += f[i][j] / norm * v[c * p.dim() + j];
          score[t] = Math.max(score[t], dot);
        }
      }
      Integer[] order = {0, 1, 2};
      java.util.Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a]) : a - b);
      double[] w = new double[k];
      double z = 0;
      for (int r = 0; r < k; r++) z += w[r] = weighted ? Math.exp(scale * score[order[r]]) : 1;
      out[i] = new float[l0[i].length];
      for (int c = 0; c < out[i].length; c++) {
        double v = l0[i][c] / (k + 1.0);
        for (int r = 0; r < k; r++) {
          v += (weighted ? k / (k + 1.0) * w[r] / z : 1.0 / (k + 1)) * le.get(order[r])[i][c];
        }
        out[i][c] = (float) v;
      }
    }
    return out;
  }

  @Test
  void aggregationMatchesRunningEveryModelDirectly() throws Exception {
    for (int k : new int[] {1, 2, 3}) {
      for (boolean weighted : new boolean[] {false, true}) {
        try (ConduModel m = ConduModel.open(store, null, tokenizer, 64)) {
          SemanticAggregation agg = weighted ? SemanticAggregation.weighted(30) : SemanticAggregation.unweighted();
          for (ClassificationTask task : tests) {
            float[][] got = m.logits(task, new ConduModel.Aggregate(k, agg));
            assertClose(direct(task, k, weighted, 30), got, "K " + k + (weighted ? " weighted" : "") + " on "
                + task.name());
          }
        }
      }
    }
  }

  @Test
  void onlyTheSelectedExpertsAreDecoupled() throws Exception {
    // K = 1 over all images of task 1: one decouple per distinct expert that some image chose
    ClassificationTask task = tests.get(1);
    ZeroShotClip zs = plain(theta0);
    float[][] f = zs.imageFeatures(task);
    TreeSet<Integer> chosen = new TreeSet<>();
    try (StoredSession s = SessionStore.load(store)) {
      List<Prototypes> protos = new ArrayList<>();
      for (int t = 0; t < s.tasks(); t++) protos.add(s.prototypes(t).orElseThrow());
      Routing routing = new Router(protos).route(f, 1);
      for (int[] row : routing.tasks()) chosen.add(row[0]);
      // decoupling per batch of 2 would take more: the test tells the two ways apart
      int perBatch = 0;
      for (int start = 0; start < f.length; start += 2) {
        TreeSet<Integer> inBatch = new TreeSet<>();
        for (int i = start; i < Math.min(f.length, start + 2); i++) inBatch.add(routing.tasks()[i][0]);
        perBatch += inBatch.size();
      }
      assertTrue(perBatch > chosen.size(), perBatch + " per batch vs " + chosen);
    }
    // batches of 2 images: still one decouple per chosen expert for the whole task (expert-major), not per batch
    try (ConduModel m = ConduModel.open(store, null, tokenizer, 2)) {
      float[][] got = m.logits(task, new ConduModel.Aggregate(1, SemanticAggregation.unweighted()));
      assertEquals(chosen.size(), m.decouples(), "experts chosen " + chosen);
      assertClose(direct(task, 1, false, 0), got, "K 1 in batches of 2");
    }
    // one image, K = 1: one expert decoupled and run, not all three
    ClassificationTask one = new ClassificationTask("one", task.classNames(), task.templates(), task.images().subList(0, 1));
    try (ConduModel m = ConduModel.open(store, null, tokenizer, 64)) {
      m.logits(one, new ConduModel.Aggregate(1, SemanticAggregation.unweighted()));
      assertEquals(1, m.decouples());
    }
  }

  @Test
  void badInputsAreNamed() throws Exception {
    Path other = ProtocolFixtures.tinyClip(dir.resolve("other.safetensors"), 12);
    Exception e = assertThrows(Exception.class, () -> ConduModel.open(store, other, tokenizer, 4));
    assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    try (ConduModel m = ConduModel.open(store, null, tokenizer, 4)) {
      e = assertThrows(IllegalArgumentException.class, () -> m.logits(tests.get(0), new ConduModel.Expert(3)));
      assertTrue(e.getMessage().contains("no task 3"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new ConduModel.Aggregate(0, SemanticAggregation.unweighted()));
    assertTrue(Files.isRegularFile(store.resolve(SessionStore.MANIFEST)));
  }
}
