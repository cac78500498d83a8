package dev.mergetune.merge;

/**
 * What a streaming merge does to one floating tensor: read n float32 values at native addresses (the base, when
 * the method has one, and each model) and write each output's n values (one output per sweep point).
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
}
