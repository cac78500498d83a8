package dev.mergetune.adapt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.RandomResizedCrop;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.EpochOrder;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.train.ConstantWarmupCosine;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainingLoop;
import dev.mergetune.tune.AlphaPoints;
import dev.mergetune.tune.FeatureSpaceMergeTune;
import dev.mergetune.tune.FusedPathLoss;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fresh per-step augmentation: the features {@link FreshViewFeatures} hands each step equal those of the same crops
 * encoded directly (every image of the set through the transform as epoch e draws it, one image-tower call per
 * epoch), in the loop's batch order, after a resume mid-epoch and for a batch that is no loader batch; and MergeTune
 * trained on them ends where MergeTune on cached views of the same epochs ends.
 */
class FreshViewFeaturesTest {
  static final List<String> CLASSES = List.of("blue", "green", "red");
  static final int BATCH = 4;
  static final long SEED = 3;
  static final int EPOCHS = 3;

  @TempDir static Path dir;
  static ClipModel model;
  static Dataset train;
  static Transform crop;
  static float[][][] reference;  // [epoch][item][D], the crops of epoch e encoded directly and normalised

  @BeforeAll
  static void setUp() throws Exception {
    NativeRuntime.ensureTorch();
    model = ClipLoader.load(ProtocolFixtures.tinyClip(dir.resolve("tiny.safetensors"), 4));
    for (Tensor p : model.stateDict().values()) p.set_requires_grad(false);
    ProtocolFixtures.imageFolder(dir.resolve("train"), CLASSES, 5, 2);
    train = ImageFolderSource.read(dir.resolve("train"));
    crop = RandomResizedCrop.coop(32, SEED);
    int[] all = new int[train.size()];
    for (int i = 0; i < all.length; i++) all[i] = i;
    reference = new float[EPOCHS][][];
    for (int e = 0; e < EPOCHS; e++) {
      try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
        reference[e] = rows(ClipModel.normalize(model.encodeImage(ImageBatch.loadTensor(train, all, crop, e, 1))));
      }
    }
  }

  static float[][] rows(Tensor t) {
    Tensor c = t.contiguous();
    int n = (int) c.size(0), d = (int) c.size(1);
    float[] v = new float[n * d];
    c.data_ptr_float().get(v);
    float[][] out = new float[n][d];
    for (int i = 0; i < n; i++) System.arraycopy(v, i * d, out[i], 0, d);
    return out;
  }

  private static void assertBatch(FreshViewFeatures f, int[] items, int epoch) {
    try (PointerScope s = new PointerScope()) {
      float[][] got = rows(f.batch(items, epoch));
      for (int i = 0; i < items.length; i++) {
        assertArrayEquals(reference[epoch][items[i]], got[i], 1e-6f, "epoch " + epoch + ", item " + items[i]);
      }
      long[] labels = new long[items.length];
      f.batchLabels(items).data_ptr_long().get(labels);
      for (int i = 0; i < items.length; i++) assertEquals(train.samples().get(items[i]).label(), labels[i]);
    }
  }

  private static int[] loopBatch(int epoch, int k) {
    int[] order = EpochOrder.shuffled(train.size(), SEED, epoch);
    return Arrays.copyOfRange(order, k * BATCH, k * BATCH + BATCH);
  }

  @Test
  void eachStepSeesThatEpochsCrops() {
    float diff = 0;  // the epochs' crops do differ, so a wrong epoch could not pass unseen
    for (int d = 0; d < reference[0][0].length; d++) diff = Math.max(diff, Math.abs(reference[0][0][d] - reference[1][0][d]));
    assertTrue(diff > 1e-3f, "epochs 0 and 1 gave item 0 the same crop");
    int perEpoch = train.size() / BATCH;  // 15 items, batch 4: 3 steps, the last 3 items dropped as Dassl does
    try (FreshViewFeatures f = new FreshViewFeatures(model, train, crop, BATCH, SEED, EPOCHS, 3, 2)) {
      for (int e = 0; e < EPOCHS; e++) for (int k = 0; k < perEpoch; k++) assertBatch(f, loopBatch(e, k), e);
      assertEquals((long) EPOCHS * perEpoch * BATCH, f.encoded());
    }
    // a run resumed mid-epoch asks for batch 2 of epoch 1 first; then a batch the loader never makes
    try (FreshViewFeatures f = new FreshViewFeatures(model, train, crop, BATCH, SEED, EPOCHS, 8, 1)) {
      assertBatch(f, loopBatch(1, 2), 1);
      assertBatch(f, loopBatch(2, 0), 2);
      assertBatch(f, new int[] {0, 5, 7, 14}, 0);
      assertBatch(f, loopBatch(2, 1), 2);
    }
  }

  @Test
  void mergeTuneOnFreshCropsEndsWhereItEndsOnCachedViewsOfTheSameEpochs() throws Exception {
    ClipTokenizer tok = ClipTokenizer.load(SyntheticMerges.writeClipSized(dir));
    CachedFeatures cached = CachedFeatures.ofViews(reference, labels());
    float[] fromCached = train(tok, cached);
    float[] fromFresh;
    try (FreshViewFeatures f = new FreshViewFeatures(model, train, crop, BATCH, SEED, EPOCHS, 16, 2)) {
      fromFresh = train(tok, f);
    }
    assertArrayEquals(fromCached, fromFresh, 1e-5f);
    float[] start = CoopFixtures.values(CoopPromptLearner.fromText(model, tok, CLASSES, "a photo of a").context());
    double moved = 0;
    for (int i = 0; i < start.length; i++) moved = Math.max(moved, Math.abs(start[i] - fromFresh[i]));
    assertTrue(moved > 1e-4, "the context did not move: " + moved);
  }

  private static int[] labels() {
    int[] y = new int[train.size()];
    for (int i = 0; i < y.length; i++) y[i] = train.samples().get(i).label();
    return y;
  }

  /** Three epochs of MergeTune from the word context on {@code features}; the final context. */
  private static float[] train(ClipTokenizer tok, TrainFeatures features) throws Exception {
    CoopPromptLearner learner = CoopPromptLearner.fromText(model, tok, CLASSES, "a photo of a");
    Tensor z = CachedCoopMethod.templateFeatures(model, tok, CLASSES, "a photo of a {}.");
    FeatureSpaceMergeTune m = new FeatureSpaceMergeTune(learner, z, features, null, 10, 1, AlphaPoints.grid(5),
        new FusedPathLoss(), 0);
    Optimizers.Named opt = Optimizers.sgd(Map.of("ctx", List.of(learner.context())),
        new Optimizers.SgdConfig(0.05, 0.9, 5e-4, false));
    new TrainingLoop(m, opt, new TrainingLoop.Config(EPOCHS, BATCH, SEED, new ConstantWarmupCosine(0.05, 1e-5, 1,
        EPOCHS), true, 0, false, false, 0, null, false)).run();
    return CoopFixtures.values(learner.context());
  }
}
