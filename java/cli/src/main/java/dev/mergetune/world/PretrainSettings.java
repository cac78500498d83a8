package dev.mergetune.world;

/**
 * Hyper-parameters of {@link Pretraining}: the tiny CLIP's shape (both towers share width, layers and heads) and
 * the optimisation (AdamW, linear warm-up then cosine decay per step). The weight decay applies to every tensor,
 * logit_scale, LayerNorm gains and biases included (open_clip exempts those; LibTorch's optimizer options are shared
 * by the one parameter group used here).
 */
public record PretrainSettings(int epochs, int batchSize, double lr, long warmup, double weightDecay, long seed,
    int embedDim, int width, int layers, int heads, int patch, int threads, dev.mergetune.clip.Activation activation) {
  public PretrainSettings {
    if (epochs < 1) throw new IllegalArgumentException("--epochs must be positive, got " + epochs);
    if (batchSize < 2) throw new IllegalArgumentException("--batch must be at least 2 (in-batch negatives), got " + batchSize);
    if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
    if (warmup < 0) throw new IllegalArgumentException("--warmup must be non-negative, got " + warmup);
    if (!(weightDecay >= 0)) throw new IllegalArgumentException("--weight-decay must be non-negative, got " + weightDecay);
    if (embedDim < 1 || width < 1 || layers < 1 || heads < 1 || patch < 1) {
      throw new IllegalArgumentException("--embed, --width, --layers, --heads and --patch must be positive");
    }
    if (width % heads != 0) throw new IllegalArgumentException("--width " + width + " is not divisible by --heads " + heads);
    if (threads < 1) throw new IllegalArgumentException("--threads must be positive, got " + threads);
    if (activation == null) throw new IllegalArgumentException("--activation is quick_gelu or gelu");
  }

  public static final int DEFAULT_EPOCHS = 40;
  public static final int DEFAULT_BATCH = 128;
  public static final double DEFAULT_LR = 1e-3;
  public static final long DEFAULT_WARMUP = 100;
  public static final double DEFAULT_WEIGHT_DECAY = 0.05;
  public static final long DEFAULT_SEED = 1;
  public static final int DEFAULT_EMBED = 64;
  public static final int DEFAULT_WIDTH = 64;
  public static final int DEFAULT_LAYERS = 2;
  public static final int DEFAULT_HEADS = 2;
  public static final int DEFAULT_PATCH = 8;
}
