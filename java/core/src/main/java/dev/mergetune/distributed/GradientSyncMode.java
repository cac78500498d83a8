package dev.mergetune.distributed;

import java.util.Locale;

/**
 * How gradients are averaged across ranks: {@link #OVERLAP} hands the parameters to c10d's {@code Reducer} (the C++
 * engine behind DistributedDataParallel), whose autograd hooks all-reduce each bucket as soon as its gradients are
 * ready, during the backward pass; {@link #AFTER_BACKWARD} all-reduces the same buckets once backward has returned.
 * Both average (sum, then divide by the world size) in buckets of at most 25 MiB (the first 1 MiB), as DDP does.
 */
public enum GradientSyncMode {
  OVERLAP, AFTER_BACKWARD;

  public static GradientSyncMode parse(String s, String where) {
    return switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "overlap" -> OVERLAP;
      case "after-backward" -> AFTER_BACKWARD;
      default -> throw new IllegalArgumentException(where + " must be overlap or after-backward, got '" + s + "'");
    };
  }

  public String key() {
    return this == OVERLAP ? "overlap" : "after-backward";
  }
}
