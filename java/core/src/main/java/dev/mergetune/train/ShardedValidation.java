package dev.mergetune.train;

/**
 * A {@link TrainableMethod} whose validation can be split across data-parallel ranks: each rank counts the correct
 * predictions over its part of the validation items, and the counts are summed, so the accuracy is exactly the one
 * a single process computes over all items (a ratio of integers).
 */
public interface ShardedValidation {
  /** The number of validation items (0 without validation). */
  int validationSize();

  /**
   * The correct top-1 predictions among validation items [from, to), in the order {@link TrainableMethod#evaluate}
   * visits them (called without gradients). A method that evaluates in batches counts whole batches of
   * {@link #validationBatch} items, so that a part computes exactly what the whole evaluation does there.
   */
  long correct(int from, int to);

  /** The batch the evaluation runs in (parts start at multiples of it); the whole set for one matrix product. */
  default int validationBatch() {
    return Math.max(1, validationSize());
  }
}
