package dev.mergetune.distributed;

import dev.mergetune.kernels.NativeRuntime;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A failed rendezvous of {@link RendezvousErrorsTest}, in a JVM of its own (a failed join leaves c10d's native
 * objects to the garbage collector, and the test JVM should not carry them — a clean-clone CI run once aborted the
 * surefire JVM with {@code free(): corrupted unsorted chunks} after in-process failed joins had run in it, which a loop
 * of failed joins under GC pressure did not reproduce).
 */
public final class RendezvousProbe {
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  private RendezvousProbe() {}

  static DistributedConfig config(int rank, int world, int port, BackendKind backend) {
    return new DistributedConfig(rank, world, rank, "127.0.0.1", port, backend, TIMEOUT, GradientSyncMode.OVERLAP);
  }

  static String fail(DistributedConfig c, String tag) {
    try {
      C10dProcessGroup.join(c, tag, false).close();
      return "joined";
    } catch (DistributedException e) {
      return e.getMessage();
    }
  }

  /** Runs every case named in {@code args}, in order: {@code CASE name SECONDS s} then its {@code MESSAGE} lines. */
  public static void main(String[] args) throws Exception {
    NativeRuntime.ensureTorch();
    for (String scenario : args) {
      long t0 = System.nanoTime();
      java.util.List<String> messages = run(scenario);
      System.out.println("CASE " + scenario + " SECONDS " + (System.nanoTime() - t0) / 1e9);
      for (String m : messages) System.out.println("MESSAGE " + scenario + " " + m);
    }
    System.exit(0);
  }

  private static java.util.List<String> run(String scenario) throws Exception {
    int port = Jobs.freePort();
    return switch (scenario) {
      case "alone" -> java.util.List.of(fail(config(0, 2, port, BackendKind.GLOO), "test"));
      case "unreachable" -> java.util.List.of(fail(config(1, 2, port, BackendKind.GLOO), "test"));
      case "port-in-use" -> {
        try (ServerSocket taken = new ServerSocket(port)) {
          yield java.util.List.of(fail(config(0, 2, port, BackendKind.GLOO), "test"));
        }
      }
      case "other-job" -> {
        CompletableFuture<String> zero = CompletableFuture.supplyAsync(
            () -> fail(config(0, 2, port, BackendKind.GLOO), "train --out a"));
        Thread.sleep(300);
        String one = fail(config(1, 2, port, BackendKind.GLOO), "train --out b");
        yield java.util.List.of(one, zero.get(30, TimeUnit.SECONDS));
      }
      case "nccl" -> java.util.List.of(fail(config(0, 1, port, BackendKind.NCCL), "test"));
      default -> throw new IllegalArgumentException(scenario);
    };
  }
}
