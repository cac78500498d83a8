package dev.mergetune.distributed;

import java.time.Duration;
import java.util.Map;

/**
 * Where a worker stands in a data-parallel job and how it meets the others: its global {@code rank} in
 * [0, worldSize), its {@code localRank} on its machine (the CUDA device it would use), the rendezvous address
 * ({@code masterAddr:masterPort}, where rank 0 serves c10d's {@code TCPStore}), the backend, the timeout that bounds
 * the rendezvous and every collective, and how gradients are averaged.
 *
 * <p>{@link #fromEnvironment} reads torchrun's variables — {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code MASTER_ADDR}, {@code MASTER_PORT} — plus {@code MERGETUNE_BACKEND} (auto | gloo | nccl),
 * {@code MERGETUNE_DIST_TIMEOUT} (seconds) and {@code MERGETUNE_GRAD_SYNC} (overlap | after-backward).
 */
public record DistributedConfig(int rank, int worldSize, int localRank, String masterAddr, int masterPort,
    BackendKind backend, Duration timeout, GradientSyncMode gradientSync) {
  public static final int DEFAULT_PORT = 29500;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);

  public DistributedConfig {
    if (worldSize < 1) throw new IllegalArgumentException("the world size must be at least 1, got " + worldSize);
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank " + rank + " is outside the world of " + worldSize + " ranks (0 … "
          + (worldSize - 1) + ")");
    }
    if (localRank < 0) throw new IllegalArgumentException("the local rank must be non-negative, got " + localRank);
    if (masterAddr == null || masterAddr.isBlank()) {
      throw new IllegalArgumentException("no rendezvous address: set MASTER_ADDR (or --master-addr) to the host of"
          + " rank 0");
    }
    if (masterPort < 1 || masterPort > 65535) {
      throw new IllegalArgumentException("the rendezvous port must be in 1 … 65535, got " + masterPort);
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the distributed timeout must be positive, got " + timeout);
    }
    if (backend == null || gradientSync == null) throw new IllegalArgumentException("backend and gradient sync needed");
  }

  /** The configuration the variables of {@code env} describe; a missing or malformed one is named in the error. */
  public static DistributedConfig fromEnvironment(Map<String, String> env) {
    int world = intVar(env, "WORLD_SIZE", null);
    int rank = intVar(env, "RANK", null);
    int local = intVar(env, "LOCAL_RANK", rank);
    String addr = env.get("MASTER_ADDR");
    if (addr == null || addr.isBlank()) {
      throw new IllegalArgumentException("MASTER_ADDR is not set: it must name the host of rank 0 (127.0.0.1 on one"
          + " machine)");
    }
    int port = intVar(env, "MASTER_PORT", DEFAULT_PORT);
    BackendKind backend = BackendKind.parse(env.getOrDefault("MERGETUNE_BACKEND", "auto"), "MERGETUNE_BACKEND");
    int seconds = intVar(env, "MERGETUNE_DIST_TIMEOUT", (int) DEFAULT_TIMEOUT.toSeconds());
    GradientSyncMode sync = GradientSyncMode.parse(env.getOrDefault("MERGETUNE_GRAD_SYNC", "overlap"),
        "MERGETUNE_GRAD_SYNC");
    return new DistributedConfig(rank, world, local, addr, port, backend, Duration.ofSeconds(seconds), sync);
  }

  /** Whether {@code env} describes a worker of a job (WORLD_SIZE and RANK set). */
  public static boolean presentIn(Map<String, String> env) {
    return env.containsKey("WORLD_SIZE") && env.containsKey("RANK");
  }

  /** The variables a worker of this configuration is started with (the inverse of {@link #fromEnvironment}). */
  public Map<String, String> environment() {
    return Map.of("RANK", Integer.toString(rank), "WORLD_SIZE", Integer.toString(worldSize), "LOCAL_RANK",
        Integer.toString(localRank), "MASTER_ADDR", masterAddr, "MASTER_PORT", Integer.toString(masterPort),
        "MERGETUNE_BACKEND", backend.key(), "MERGETUNE_DIST_TIMEOUT", Long.toString(timeout.toSeconds()),
        "MERGETUNE_GRAD_SYNC", gradientSync.key());
  }

  public DistributedConfig withRank(int r, int local) {
    return new DistributedConfig(r, worldSize, local, masterAddr, masterPort, backend, timeout, gradientSync);
  }

  private static int intVar(Map<String, String> env, String name, Integer fallback) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      if (fallback == null) throw new IllegalArgumentException(name + " is not set");
      return fallback;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
    }
  }
}
