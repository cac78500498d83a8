package dev.mergetune.world;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.train.TrainableMethod;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP pre-training as a {@link TrainableMethod}: every parameter trains, {@code logit_scale} (the learnable
 * temperature) included; the loss of a batch of pairs is {@link ContrastiveLoss#symmetric} of
 * {@code exp(logit_scale)·cos(image_i, text_j)}. As CLIP does, {@code logit_scale} is kept in [0, ln 100]: it is
 * clamped in place before each forward pass (and by {@link #clampLogitScale} after training), which equals clamping
 * after each optimizer step as far as every loss is concerned.
 *
 * <p>The images (already transformed, [N, 3, R, R]) and token rows ([N, context] int64) are held in memory: the
 * world is small and decoding them once keeps a step to the model's own work.
 */
public final class ContrastivePretraining implements TrainableMethod {
  public static final double MAX_LOGIT_SCALE = Math.log(100);

  private final ClipModel model;
  private final Tensor images;
  private final Tensor tokens;
  private final LinkedHashMap<String, Tensor> trainable = new LinkedHashMap<>();

  public ContrastivePretraining(ClipModel model, Tensor images, Tensor tokens) {
    if (images.size(0) != tokens.size(0)) {
      throw new IllegalArgumentException(images.size(0) + " images but " + tokens.size(0) + " captions");
    }
    this.model = model;
    this.images = images;
    this.tokens = tokens;
    for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
      e.getValue().set_requires_grad(true);
      trainable.put(e.getKey(), e.getValue());
    }
  }

  public ClipModel model() {
    return model;
  }

  @Override
  public Map<String, Tensor> trainable() {
    return trainable;
  }

  @Override
  public int trainSize() {
    return (int) images.size(0);
  }

  @Override
  public Tensor loss(int[] batch, long epoch) {
    clampLogitScale();
    long[] ids = new long[batch.length];
    for (int i = 0; i < batch.length; i++) ids[i] = batch[i];
    Tensor idx = Tensor.create(ids, ids.length);
    Tensor logits = model.logitsPerImage(model.encodeImage(images.index_select(0, idx)),
        model.encodeText(tokens.index_select(0, idx)));
    return ContrastiveLoss.symmetric(logits);
  }

  /** Clamps {@code logit_scale} to [0, ln 100], in place, as CLIP does. */
  public void clampLogitScale() {
    Tensor s = trainable.get("logit_scale");
    try (NoGradGuard g = new NoGradGuard()) {
      double v = s.item_double();
      if (v > MAX_LOGIT_SCALE) s.fill_(new Scalar(MAX_LOGIT_SCALE));
      if (v < 0) s.fill_(new Scalar(0.0));
    }
  }

  /** Not used for model selection: pre-training keeps its last state. */
  @Override
  public double evaluate() {
    return Double.NaN;
  }
}
