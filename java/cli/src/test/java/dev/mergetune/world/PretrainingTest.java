package dev.mergetune.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.train.LrSchedule;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainingLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainingTest {
  @TempDir static Path dir;
  static World world;

  @BeforeAll
  static void generate() throws IOException {
    world = TinyWorlds.generate(dir.resolve("w"), 2, 48);
  }

  static PretrainSettings tiny(int epochs) {
    return new PretrainSettings(epochs, 16, 2e-3, 5, 0.0, 3, 32, 32, 1, 1, 8, 1, dev.mergetune.clip.Activation.QUICK_GELU);
  }

  private static double fixedBatchLoss(ContrastivePretraining m, int[] batch) {
    try (NoGradGuard g = new NoGradGuard()) {
      return m.loss(batch, 0).item_double();
    }
  }

  @Test
  void aFewStepsLowerTheContrastiveLossOfTheTrainingPairs() throws IOException {
    PretrainPairs pairs = PretrainPairs.read(world);
    Tensor images = ImageBatch.loadTensor(pairs.images(), ClipImageTransform.of(32), 1);
    Tensor tokens = ClipTokenTensors.tokenize(world.tokenizer(), pairs.captions(), 20, Truncation.ERROR);
    ClipModel model = new ClipModel(Pretraining.config(tiny(1), world)).initialize(5);
    ContrastivePretraining m = new ContrastivePretraining(model, images, tokens);
    int[] first = new int[16];
    for (int i = 0; i < 16; i++) first[i] = i;
    double before = fixedBatchLoss(m, first);
    // the method's loss on a real batch is the symmetric cross-entropy of its logits, computed here in double
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor idx = Tensor.create(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 16);
      Tensor logits = model.logitsPerImage(model.encodeImage(images.index_select(0, idx)),
          model.encodeText(tokens.index_select(0, idx))).contiguous();
      float[] l = new float[16 * 16];
      ((java.nio.FloatBuffer) logits.createBuffer()).get(l);
      assertEquals(ContrastiveLossTest.reference(l, 16), before, 1e-5);
    }
    assertTrue(Math.abs(before - Math.log(16)) < 1.0, "an untrained model is near chance, ln 16: " + before);
    Optimizers.Named opt = Optimizers.adamW(Map.of("all", new ArrayList<>(m.trainable().values())),
        new Optimizers.AdamWConfig(2e-3, 0.9, 0.98, 1e-6, 0.0));
    new TrainingLoop(m, opt, new TrainingLoop.Config(8, 16, 1, new LrSchedule.Constant(2e-3), false, 0, false, false, 0,
        null, false)).run();
    double after = fixedBatchLoss(m, first);
    assertTrue(after < before - 0.3, "24 steps should lower the loss clearly: " + before + " -> " + after);
  }

  @Test
  void logitScaleIsClampedAtLn100() {
    ClipModel model = new ClipModel(Pretraining.config(tiny(1), world)).initialize(1);
    ContrastivePretraining m = new ContrastivePretraining(model, org.bytedeco.pytorch.global.torch.zeros(2, 3, 32, 32),
        ClipTokenTensors.tokenize(world.tokenizer(), java.util.List.of("a red star", "a blue ring"), 20, Truncation.ERROR));
    Tensor s = m.trainable().get("logit_scale");
    try (NoGradGuard g = new NoGradGuard()) {
      s.fill_(new Scalar(7.0));
    }
    m.loss(new int[] {0, 1}, 0);
    assertEquals(Math.log(100), s.item_double(), 1e-6);
  }

  @Test
  void runWritesALoadableCheckpointWithItsProvenanceAndAZeroShotReport() throws IOException {
    Path out = dir.resolve("tiny.safetensors");
    Pretraining.Result r = Pretraining.run(tiny(2), world, out, Map.of("k", "v"), false);
    assertEquals(6, r.steps());  // 48 pairs / 16 per batch × 2 epochs
    ClipModel back = ClipLoader.load(out);
    assertEquals(Pretraining.config(tiny(2), world), back.config());
    try (Checkpoint c = Checkpoints.open(out)) {
      assertEquals(world.sha256(), c.metadata().get("mergetune.world.sha256"));
      assertEquals("3", c.metadata().get("mergetune.pretrain.seed"));
      assertEquals("v", c.metadata().get("k"));
    }
    WorldZeroShot.Result zs = WorldZeroShot.evaluate(back, world, 64);
    assertEquals(64, zs.classes());
    assertEquals(56, zs.seen().n());
    assertEquals(8, zs.heldOut().n());
    assertEquals(world.datasets().size() + world.domains().size(), zs.datasets().size());
    String md = PretrainReport.markdown("cmd", world, tiny(2), r, zs);
    assertTrue(md.contains("held out (never seen)"), md);
    assertTrue(Files.size(out) > 1000);
  }
}
