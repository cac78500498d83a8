package dev.mergetune.condu;

/**
 * Logits [B, C] of one model on the current batch, over the evaluated dataset's classes: θ0 ({@link #THETA0}) or
 * expert {@code t}. {@link SemanticAggregation} asks for each model at most once per batch and only for the experts
 * some image selected, so a caller can decouple expert t into one reusable buffer right here and run it.
 */
@FunctionalInterface
public interface ExpertLogits {
  /** The index that stands for the zero-shot model θ0. */
  int THETA0 = -1;

  float[][] logits(int model);
}
