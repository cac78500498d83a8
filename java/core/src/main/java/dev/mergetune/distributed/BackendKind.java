package dev.mergetune.distributed;

import java.util.Locale;

/**
 * Which c10d backend carries the collectives: Gloo (CPU tensors, any machine) or NCCL (CUDA tensors, the GPU build
 * of the preset only). {@link #AUTO} picks NCCL when the training tensors are CUDA tensors and Gloo otherwise.
 */
public enum BackendKind {
  AUTO, GLOO, NCCL;

  /** "auto", "gloo" or "nccl" (any case); anything else is an error naming the accepted values. */
  public static BackendKind parse(String s, String where) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + " must be auto, gloo or nccl, got '" + s + "'");
    }
  }

  /** The concrete backend for tensors on CUDA ({@code cuda}) or on the CPU. */
  public BackendKind resolve(boolean cuda) {
    if (this != AUTO) return this;
    return cuda ? NCCL : GLOO;
  }

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }
}
