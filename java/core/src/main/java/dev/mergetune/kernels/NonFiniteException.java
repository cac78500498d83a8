package dev.mergetune.kernels;

/**
 * A NaN or Inf was met: in an input (named by {@link #input()}, e.g. "model 2") or produced from finite inputs
 * (input "result", an fp32 overflow). Merges refuse to write such results instead of merging them silently.
 */
public final class NonFiniteException extends KernelException {
  private final String input;
  private final String tensor;
  private final long element;

  public NonFiniteException(String input, String tensor, long element, String message) {
    super(Status.NON_FINITE, message);
    this.input = input;
    this.tensor = tensor;
    this.element = element;
  }

  /** "base", "model i" or "result". */
  public String input() {
    return input;
  }

  /** Name of the tensor (segment) holding the value. */
  public String tensor() {
    return tensor;
  }

  /** Flat element index inside that tensor. */
  public long element() {
    return element;
  }
}
