package dev.mergetune.adapt;

import dev.mergetune.clip.Activation;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** A tiny random CLIP and hand-made CoOp prompts for prompt-learning tests (no vocabulary needed). */
public final class CoopFixtures {
  private CoopFixtures() {}

  public static final int SOS = 49406;
  public static final int EOS = 49407;
  public static final int DOT = 269;
  public static final long[] A_PHOTO_OF_A = {320, 1125, 539, 320};  // stand-ins; any four ids do

  public static ClipModel tinyClip() {
    return new ClipModel(ClipConfig.of(32, 32, 2, 64, 16, 1, 77, 49408, 64, 1, 2, Activation.QUICK_GELU)).initialize(3);
  }

  public static float[] values(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  /** Hand-made prompt rows: SOS, four context positions holding {@code ctxIds}, the class ids, '.', EOS, padding. */
  public static long[][] rows(long[] ctxIds, long[][] classIds) {
    long[][] out = new long[classIds.length][77];
    for (int c = 0; c < classIds.length; c++) {
      int k = 0;
      out[c][k++] = SOS;
      for (long id : ctxIds) out[c][k++] = id;
      for (long id : classIds[c]) out[c][k++] = id;
      out[c][k++] = DOT;
      out[c][k] = EOS;
    }
    return out;
  }

  public static final long[][] CLASS_IDS = {{1929}, {2368, 5527}, {7433}, {4558, 1759, 3451}};

  /** A learner over the hand-made rows, its context the token embeddings of {@link #A_PHOTO_OF_A}. */
  public static CoopPromptLearner handMade(ClipModel m) {
    Tensor init;
    try (NoGradGuard g = new NoGradGuard()) {
      init = m.tokenEmbedding(Tensor.create(A_PHOTO_OF_A, 4)).clone();
    }
    long[] placeholders = {343, 343, 343, 343};  // "x" in CLIP's vocabulary; replaced by the context
    return new CoopPromptLearner(m, rows(placeholders, CLASS_IDS), init);
  }


  public static Tensor imageFeatures(ClipModel m) {
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(11);
      Tensor images = torch.randn(6, 3, 32, 32);
      return m.encodeImage(images);
    }
  }

  public static final Tensor LABELS = Tensor.create(new long[] {0, 1, 2, 3, 1, 2}, 6);
}
