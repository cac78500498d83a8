package dev.mergetune.train;

/**
 * A learning rate as a pure function of a counter (an optimizer step or an epoch, as each schedule says): no state, so
 * resuming a run needs only the counter. LibTorch's C++ API has no cosine or warm-up scheduler; the training loop
 * asks the schedule for the rate and sets it on each parameter group with {@link Optimizers#setLearningRate}.
 */
public interface LrSchedule {
  /** The learning rate to use for step (or epoch) {@code t}, counted from 0. */
  double lr(long t);

  /** A constant rate. */
  record Constant(double base) implements LrSchedule {
    @Override
    public double lr(long t) {
      if (t < 0) throw new IllegalArgumentException("step must be non-negative, got " + t);
      return base;
    }
  }
}
