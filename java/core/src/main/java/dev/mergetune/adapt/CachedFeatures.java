package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Image features of a training or validation set computed once by a frozen image encoder, L2-normalised, with their
 * labels — what the frozen-encoder methods (CoOp, KgCoOp, linear probe) train on instead of images.
 *
 * <p>{@code views} copies of the set: one for a deterministic transform; V for augmentations drawn in advance, view
 * {@code v} holding the features of epoch {@code v}'s draws of the random transform. Epoch {@code e} of training reads
 * view {@code e mod V}, so with V ≥ the number of epochs every epoch sees fresh augmentations, exactly those an
 * image-level run of the same seed would draw, at the cost of V encoder passes instead of one per epoch.
 */
public final class CachedFeatures implements TrainFeatures {
  private final Tensor features;  // [V, N, D] float32, unit rows
  private final Tensor labels;    // [N] int64
  private final long[] labelValues;

  private CachedFeatures(Tensor features, long[] labels) {
    this.features = features;
    this.labelValues = labels.clone();
    this.labels = Tensor.create(labelValues.clone(), labelValues.length);
  }

  /** One view: features [N, D] (normalised here). */
  public static CachedFeatures of(Tensor features, long[] labels) {
    return ofViews(new Tensor[] {features}, labels);
  }

  /** Several views, each [N, D] for the same N items in the same order (normalised here). */
  public static CachedFeatures ofViews(Tensor[] views, long[] labels) {
    if (views.length == 0) throw new IllegalArgumentException("no feature views");
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor[] normalised = new Tensor[views.length];
      for (int v = 0; v < views.length; v++) {
        Tensor f = views[v];
        if (f.dim() != 2 || f.size(0) != labels.length) {
          throw new IllegalArgumentException("feature view " + v + " has shape " + java.util.Arrays.toString(
              f.sizes().vec().get()) + ", expected [" + labels.length + ", D] for " + labels.length + " labels");
        }
        if (v > 0 && f.size(1) != views[0].size(1)) throw new IllegalArgumentException("feature views differ in width");
        normalised[v] = ClipModel.normalize(f.detach().to(torch.ScalarType.Float));
      }
      Tensor stacked = torch.stack(new org.bytedeco.pytorch.TensorVector(normalised)).contiguous();
      if (!torch.isfinite(stacked).all().item_bool()) throw new IllegalArgumentException("image features hold NaN or Inf");
      return new CachedFeatures(stacked, labels);
    }
  }

  /** Rows of float features, one view. */
  public static CachedFeatures of(float[][] rows, int[] labels) {
    return ofViews(new float[][][] {rows}, labels);
  }

  /** Views of float feature rows, {@code views[v][i]} the features of item i in view v. */
  public static CachedFeatures ofViews(float[][][] views, int[] labels) {
    Tensor[] t = new Tensor[views.length];
    for (int v = 0; v < views.length; v++) t[v] = matrix(views[v]);
    long[] l = new long[labels.length];
    for (int i = 0; i < l.length; i++) l[i] = labels[i];
    return ofViews(t, l);
  }

  static Tensor matrix(float[][] rows) {
    if (rows.length == 0) throw new IllegalArgumentException("no feature rows");
    int d = rows[0].length;
    float[] flat = new float[Math.multiplyExact(rows.length, d)];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != d) throw new IllegalArgumentException("ragged feature rows");
      System.arraycopy(rows[i], 0, flat, i * d, d);
    }
    return Tensor.create(flat, rows.length, d);
  }

  @Override
  public int size() {
    return labelValues.length;
  }

  @Override
  public String describe() {
    return views() == 1 ? "cached features (one view)" : "cached features (" + views() + " pre-drawn views)";
  }

  public int views() {
    return (int) features.size(0);
  }

  public int width() {
    return (int) features.size(2);
  }

  /** The label of every item (a copy). */
  public long[] labels() {
    return labelValues.clone();
  }

  /** All items of view {@code view} [N, D]. */
  public Tensor view(int view) {
    return features.select(0, view);
  }

  /** The labels [N] int64. */
  public Tensor labelTensor() {
    return labels;
  }

  /** The features [b, D] of the items {@code batch} as epoch {@code epoch} sees them (view epoch mod V). */
  @Override
  public Tensor batch(int[] batch, long epoch) {
    return view((int) Math.floorMod(epoch, (long) views())).index_select(0, index(batch));
  }

  /** The labels [b] of the items {@code batch}. */
  @Override
  public Tensor batchLabels(int[] batch) {
    return labels.index_select(0, index(batch));
  }

  /** Top-1 accuracy of {@code logits} [N, C] against the labels (first maximum wins). */
  public double accuracy(Tensor logits) {
    Tensor pred = logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false);
    return pred.eq(labels).to(torch.ScalarType.Double).mean().item_double();
  }

  /**
   * The correct top-1 predictions of {@code logits} [to − from, C] (first maximum wins) for items [from, to) — the
   * counts {@link #accuracy} divides, for validation split across ranks.
   */
  public long correct(Tensor logits, int from, int to) {
    Tensor pred = logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false);
    return pred.eq(labels.narrow(0, from, to - from)).sum().item_long();
  }

  /** Items [from, to) of view {@code view} [to − from, D]. */
  public Tensor rows(int view, int from, int to) {
    return view(view).narrow(0, from, to - from);
  }

  private static Tensor index(int[] batch) {
    long[] idx = new long[batch.length];
    for (int i = 0; i < batch.length; i++) idx[i] = batch[i];
    return Tensor.create(idx, idx.length);
  }
}
