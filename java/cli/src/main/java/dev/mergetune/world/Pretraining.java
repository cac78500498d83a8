package dev.mergetune.world;

import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.train.LinearWarmupCosine;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainingLoop;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Contrastive pre-training of a tiny CLIP on a world with the project's {@link TrainingLoop}: the model is built
 * for the world (its image size, its vocabulary size and context length), initialised from the seed, trained with
 * {@link ContrastivePretraining} under AdamW and {@link LinearWarmupCosine}, and saved through
 * {@link ClipCheckpoints} (atomically) with its configuration, seed and the world's hash as metadata.
 */
public final class Pretraining {
  /** What a run did: its steps, the first and the last epoch's mean loss, the final logit_scale, the training time. */
  public record Result(ClipModel model, long steps, double firstLoss, double lastEpochLoss, double logitScale,
      double seconds, List<Double> epochLosses) {}

  private Pretraining() {}

  /** The tiny CLIP of {@code s} for {@code world}. */
  public static ClipConfig config(PretrainSettings s, World world) {
    return ClipConfig.of(s.embedDim(), world.imageSize(), s.layers(), s.width(), s.patch(), s.heads(),
        world.contextLength(), world.vocabSize(), s.width(), s.heads(), s.layers(), s.activation());
  }

  /** Trains on {@code s.threads()} LibTorch threads (the previous count is restored afterwards) and saves to {@code out}. */
  public static Result run(PretrainSettings s, World world, Path out, Map<String, String> extraMetadata,
      boolean progress) throws IOException {
    dev.mergetune.kernels.NativeRuntime.ensureTorch();
    int previous = torch.get_num_threads();
    torch.set_num_threads(s.threads());
    try {
      return train(s, world, out, extraMetadata, progress);
    } finally {
      torch.set_num_threads(previous);
    }
  }

  private static Result train(PretrainSettings s, World world, Path out, Map<String, String> extraMetadata,
      boolean progress) throws IOException {
    ClipConfig config = config(s, world);
    ClipTokenizer tokenizer = world.tokenizer();
    if (tokenizer.vocabSize() != config.vocabSize()) {
      throw new IllegalArgumentException(world.mergesFile() + " has " + tokenizer.vocabSize() + " tokens, world.json says "
          + config.vocabSize());
    }
    PretrainPairs pairs = PretrainPairs.read(world);
    Tensor images = ImageBatch.loadTensor(pairs.images(), ClipImageTransform.of(world.imageSize()), s.threads());
    Tensor tokens = ClipTokenTensors.tokenize(tokenizer, pairs.captions(), config.contextLength(), Truncation.ERROR);
    ClipModel model = new ClipModel(config).initialize(s.seed()).setOrigin("mergetune (pretrain on the world "
        + world.sha256().substring(0, 12) + "…)");
    ContrastivePretraining method = new ContrastivePretraining(model, images, tokens);
    Optimizers.Named opt = Optimizers.adamW(Map.of("all", new ArrayList<>(method.trainable().values())),
        new Optimizers.AdamWConfig(s.lr(), 0.9, 0.98, 1e-6, s.weightDecay()));
    int perEpoch = Math.max(1, method.trainSize() / s.batchSize());
    long total = (long) perEpoch * s.epochs();
    TrainingLoop.Config lc = new TrainingLoop.Config(s.epochs(), s.batchSize(), s.seed(),
        new LinearWarmupCosine(s.lr(), Math.min(s.warmup(), total - 1), total), false, 0.0, false, false, 0, null, progress);
    List<Double> losses = new ArrayList<>();
    long t0 = System.nanoTime();
    TrainingLoop loop = new TrainingLoop(method, opt, lc).onEpochEnd(m -> losses.add(m.meanLoss()));
    TrainingLoop.Result r = loop.run();
    double seconds = (System.nanoTime() - t0) / 1e9;
    method.clampLogitScale();
    for (Tensor t : method.trainable().values()) t.set_requires_grad(false);
    double scale;
    try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
      scale = method.trainable().get("logit_scale").item_double();
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "mergetune-world-clip");
    meta.put("mergetune.world.sha256", world.sha256());
    meta.put("mergetune.world.seed", Long.toString(world.seed()));
    meta.put("mergetune.pretrain.seed", Long.toString(s.seed()));
    meta.put("mergetune.pretrain.settings", s.toString());
    meta.putAll(extraMetadata);
    ProcessGroupContext ctx = ProcessGroupContext.current();
    ctx.barrier("the end of pre-training");
    ctx.mainOnly("save the pre-trained checkpoint", () -> ClipCheckpoints.save(model, out, meta));
    return new Result(model, r.steps(), losses.isEmpty() ? Double.NaN : losses.get(0),
        losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1), scale, seconds, List.copyOf(losses));
  }
}
