package dev.mergetune.adapt;

import dev.mergetune.clip.Activation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.data.EpochOrder;
import dev.mergetune.data.SplitMix64;
import dev.mergetune.tensors.SharedFixtures;
import dev.mergetune.train.LinearWarmupCosine;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainingLoop;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class CachedCoopMethodTest {
  static final List<String> CLASSES = List.of("cat", "golden_retriever", "sunflower", "airliner");
  static final String TEMPLATE = "a photo of a {}.";
  static final int PER_CLASS = 8;

  static ClipModel tinyClip() {
    return new ClipModel(ClipConfig.of(32, 32, 2, 64, 16, 1, 77, 49408, 64, 1, 2, Activation.QUICK_GELU)).initialize(3);
  }

  /** Separable synthetic "image features" [C·PER_CLASS, 32]: a random direction per class plus small noise. */
  static Tensor features(long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    int c = CLASSES.size(), d = 32;
    float[][] means = new float[c][d];
    for (float[] m : means) for (int j = 0; j < d; j++) m[j] = (float) (rng.nextDouble() * 2 - 1);
    float[] x = new float[c * PER_CLASS * d];
    for (int i = 0; i < c * PER_CLASS; i++) {
      for (int j = 0; j < d; j++) x[i * d + j] = means[i % c][j] + (float) (0.1 * (rng.nextDouble() - 0.5));
    }
    return Tensor.create(x, c * PER_CLASS, d);
  }

  static long[] labels() {
    long[] y = new long[CLASSES.size() * PER_CLASS];
    for (int i = 0; i < y.length; i++) y[i] = i % CLASSES.size();
    return y;
  }

  static double fullLoss(CachedCoopMethod m) {
    try (NoGradGuard g = new NoGradGuard()) {
      return m.loss(EpochOrder.sequential(m.trainSize()), 0).item_double();
    }
  }

  static double trainAndCompare(CachedCoopMethod m) throws Exception {
    double before = fullLoss(m);
    Optimizers.Named opt = Optimizers.sgd(Map.of("ctx", List.of(m.learner().context())),
        new Optimizers.SgdConfig(0.002, 0.9, 5e-4, false));
    new TrainingLoop(m, opt, new TrainingLoop.Config(4, 8, 1, new LinearWarmupCosine(0.002, 2, 16), false, 0, true,
        false, 0, null, false)).run();  // keepBest off: compare the trained (last) state with the initial one
    double after = fullLoss(m);
    assertTrue(after < before, "loss " + before + " -> " + after);
    return after;
  }

  @Test
  void coopLossFalls() throws Exception {
    ClipTokenizer tok = ClipTokenizer.load(SharedFixtures.clipBpeVocabulary());
    ClipModel clip = tinyClip();
    CoopPromptLearner learner = CoopPromptLearner.fromText(clip, tok, CLASSES, "a photo of a");
    trainAndCompare(CachedCoopMethod.coop(learner, features(5), labels(), features(5), labels()));
  }

  @Test
  void kgCoopLossFallsAndItsTermStartsAtZero() throws Exception {
    ClipTokenizer tok = ClipTokenizer.load(SharedFixtures.clipBpeVocabulary());
    ClipModel clip = tinyClip();
    CoopPromptLearner learner = CoopPromptLearner.fromText(clip, tok, CLASSES, "a photo of a");
    CachedCoopMethod kg = CachedCoopMethod.kgCoop(learner, clip, tok, CLASSES, TEMPLATE,
        CachedCoopMethod.KGCOOP_DEFAULT_LAMBDA, features(5), labels(), features(5), labels());
    try (NoGradGuard g = new NoGradGuard()) {
      assertEquals(0.0, kg.knowledgeTerm().item_double(), 1e-6);
    }
    trainAndCompare(kg);
  }

  @Test
  void knowledgeTermGradientMatchesFiniteDifferences() {
    ClipTokenizer tok = ClipTokenizer.load(SharedFixtures.clipBpeVocabulary());
    ClipModel clip = tinyClip();
    CoopPromptLearner learner = CoopPromptLearner.fromText(clip, tok, CLASSES, "a photo of a");
    CachedCoopMethod kg = CachedCoopMethod.kgCoop(learner, clip, tok, CLASSES, TEMPLATE, 1.0, features(5), labels(),
        null, null);
    Tensor flat = learner.context().detach().view(-1);  // shares the context's storage
    SplitMix64 rng = new SplitMix64(9);
    try (NoGradGuard g = new NoGradGuard()) {  // move away from the minimum at initialisation, where the gradient is 0
      for (int i = 0; i < flat.numel(); i++) {
        flat.select(0, i).add_(new Scalar(0.05 * (rng.nextDouble() - 0.5)));
      }
    }
    kg.knowledgeTerm().backward();
    Tensor grad = learner.context().grad().contiguous().view(-1);
    float[] gv = new float[(int) grad.numel()];
    grad.data_ptr_float().get(gv);
    double maxAbs = 0;
    for (float v : gv) maxAbs = Math.max(maxAbs, Math.abs(v));
    assertTrue(maxAbs > 1e-4, "a gradient worth checking: " + maxAbs);
    int[] coords = {3, 64 + 17};
    double h = 2e-3;
    for (int i : coords) {
      double[] steps = {h, -h, 2 * h, -2 * h};
      double[] f = new double[4];
      float x0;
      try (NoGradGuard g = new NoGradGuard()) {
        x0 = flat.select(0, i).item_float();
        for (int s = 0; s < 4; s++) {
          flat.select(0, i).fill_(new Scalar(x0 + steps[s]));
          f[s] = kg.knowledgeTerm().item_double();
        }
        flat.select(0, i).fill_(new Scalar(x0));
      }
      double fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
      assertEquals(fd, gv[i], 2e-2 * maxAbs + 1e-2 * Math.abs(fd),
          "coordinate " + i + ": autograd " + gv[i] + ", finite differences " + fd);
    }
  }
}
