package dev.mergetune.world;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.train.TrainableMethod;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * CLIP pre-training as a {@link TrainableMethod}: every parameter trains, {@code logit_scale} (the learnable
 * temperature) included; the loss of a batch of pairs is {@link ContrastiveLoss#symmetric} of
 * {@code exp(logit_scale)·cos(image_i, text_j)}. As CLIP does, {@code logit_scale} is kept in [0, ln 100]: it is
 * clamped in place before each forward pass (and by {@link #clampLogitScale} after training), which equals clamping
 * after each optimizer step as far as every loss is concerned.
 *
 * <p>Data-parallel ({@link ProcessGroupContext}): the loss couples every pair of the batch, so each rank encodes its
 * shard, all-gathers the other shards' features (without gradients) and computes the loss of the whole global batch
 * with its own rows live, as open_clip does. Rank r's gradient is then only its rows' part of the global gradient,
 * and the ranks' gradients are averaged, so the loss is scaled by W (its value kept) and the temperature's share by
 * 1/W: the averaged gradient is the single-process gradient of the same global batch.
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
  private final ProcessGroupContext group;

  /** In the installed process group ({@link ProcessGroupContext#current()}). */
  public ContrastivePretraining(ClipModel model, Tensor images, Tensor tokens) {
    this(model, images, tokens, ProcessGroupContext.current());
  }

  public ContrastivePretraining(ClipModel model, Tensor images, Tensor tokens, ProcessGroupContext group) {
    if (images.size(0) != tokens.size(0)) {
      throw new IllegalArgumentException(images.size(0) + " images but " + tokens.size(0) + " captions");
    }
    this.model = model;
    this.images = images;
    this.tokens = tokens;
    this.group = group;
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

  @Override
  public Tensor loss(int[] shard, int[] globalBatch, long epoch) {
    if (!group.distributed()) return loss(shard, epoch);
    clampLogitScale();
    long[] ids = new long[shard.length];
    for (int i = 0; i < shard.length; i++) ids[i] = shard[i];
    Tensor idx = Tensor.create(ids, ids.length);
    Tensor img = model.encodeImage(images.index_select(0, idx));
    Tensor txt = model.encodeText(tokens.index_select(0, idx));
    Tensor allImg = withLiveRows(group.allgather(img.detach().contiguous(), "all-gather of image features"), img);
    Tensor allTxt = withLiveRows(group.allgather(txt.detach().contiguous(), "all-gather of text features"), txt);
    Scalar w = new Scalar((double) group.worldSize());
    Tensor s = model.logitScaleExp();
    Tensor sShared = s.detach().add(s.sub(s.detach()).div(w));  // value s, gradient 1/W of s's
    Tensor logits = ClipModel.normalize(allImg).matmul(ClipModel.normalize(allTxt).t()).mul(sShared);
    Tensor l = ContrastiveLoss.symmetric(logits);
    Tensor scaled = l.mul(w);
    return scaled.sub(scaled.sub(l).detach());  // value l, gradient W·∇l
  }

  /** The gathered rows [W·b, D] with this rank's block replaced by {@code live} (which carries the gradient). */
  private Tensor withLiveRows(Tensor gathered, Tensor live) {
    long b = live.size(0);
    long r = group.rank();
    java.util.List<Tensor> parts = new java.util.ArrayList<>();
    if (r > 0) parts.add(gathered.narrow(0, 0, r * b));
    parts.add(live);
    long after = gathered.size(0) - (r + 1) * b;
    if (after > 0) parts.add(gathered.narrow(0, (r + 1) * b, after));
    return torch.cat(new TensorVector(parts.toArray(new Tensor[0])));
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
