package dev.mergetune.merge;

/**
 * What a streaming merge does to one floating tensor: read n float32 values at native addresses (the base, when
 * the method has one, and each model) and write each output's n values (one output per sweep point).
 *
 * <p>A method that needs statistics over the whole parameter set first (global TIES) asks for statistics passes:
 * the executor shows it every merged tensor in order through {@link #observe}, once per pass, closing each pass
 * with {@link #endPass}, before the first {@link #apply}. Memory stays bounded: one tensor at a time.
 */
public interface TensorOp {
  /** Whether the method reads a base (θ0) checkpoint. */
  boolean needsBase();

  /** Number of outputs (sweep points) it writes per tensor. */
  int outputs();

  /** Parameters of output k, for its file's metadata (e.g. "scale" → "0.3"). */
  java.util.Map<String, String> parameters(int output);

  /** The method's name, for metadata. */
  String method();

  void apply(String tensor, long n, long base, long[] models, long[] outs);

  /** Statistics passes over every merged tensor needed before {@link #apply} (0 for elementwise methods). */
  default int statisticsPasses() {
    return 0;
  }

  /** Shows one tensor to statistics pass {@code pass}. */
  default void observe(int pass, String tensor, long n, long base, long[] models) {}

  /** Every tensor has been shown to pass {@code pass}. */
  default void endPass(int pass) {}
}
