package dev.mergetune.condu;

/**
 * Logits [B, C] of one model on the current batch, over the evaluated dataset's classes: θ0 ({@link #THETA0}) or
 * expert {@code t}. {@link SemanticAggregation} asks for each model at most once per batch and only for the experts
 * some image selected, so a caller can decouple expert t into one reusable buffer right here and run it on the
 * images that selected it ({@code rows}) alone.
 */
@FunctionalInterface
public interface ExpertLogits {
  /** The index that stands for the zero-shot model θ0. */
  int THETA0 = -1;

  /**
   * @param rows the batch indices (ascending) whose logits are read: every image for θ0, the images that selected
   *     the expert otherwise
   * @return B rows; a row not in {@code rows} may be null
   */
  float[][] logits(int model, int[] rows);
}
