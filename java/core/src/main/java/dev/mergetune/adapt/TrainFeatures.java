package dev.mergetune.adapt;

import org.bytedeco.pytorch.Tensor;

/**
 * The L2-normalised image features a frozen-encoder method trains on, batch by batch: {@link CachedFeatures}
 * (computed once, per pre-drawn view) or {@link FreshViewFeatures} (computed at every step from newly augmented
 * images). Either way, the features of item {@code i} in epoch {@code e} are those of the augmentation the random
 * transform draws from (its seed, e, i).
 */
public interface TrainFeatures {
  /** The number of training items. */
  int size();

  /** The features [b, D] of the items {@code batch} as epoch {@code epoch} sees them. */
  Tensor batch(int[] batch, long epoch);

  /** The labels [b] int64 of the items {@code batch}. */
  Tensor batchLabels(int[] batch);

  /** What the features are, for logs ("10 cached views", "fresh augmentation every step"). */
  String describe();
}
