package dev.mergetune.clip;

import org.bytedeco.pytorch.Tensor;

/** Model inputs that come in batches: images [n, 3, R, R] or token rows [n, context]. */
public interface BatchSource {
  /** How many items there are. */
  long size();

  /** Items [start, start + count) as one tensor (owned by the caller, inside its PointerScope). */
  Tensor batch(long start, int count);

  /** What the items are, for a feature cache key (file names and sizes, a content hash…). */
  String identity();
}
