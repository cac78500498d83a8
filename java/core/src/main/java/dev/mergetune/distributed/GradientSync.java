package dev.mergetune.distributed;

import org.bytedeco.pytorch.Tensor;

/** Averages this step's gradients over the ranks, around the training loop's backward pass. */
public interface GradientSync extends AutoCloseable {
  /** Called with the loss, just before {@code loss.backward()}. */
  void beforeBackward(Tensor loss);

  /** Called once backward has returned; afterwards every parameter's gradient is the ranks' mean. */
  void afterBackward(String where);

  /** "overlap", "after-backward" or "none". */
  String mode();

  @Override
  default void close() {}

  /** A single process: gradients are already the batch's. */
  static GradientSync none() {
    return new GradientSync() {
      @Override
      public void beforeBackward(Tensor loss) {}

      @Override
      public void afterBackward(String where) {}

      @Override
      public String mode() {
        return "none";
      }
    };
  }
}
