package dev.mergetune.distributed;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad rendezvous settings end in an error that names what to check, within the timeout, never in a hang. */
class RendezvousErrorsTest {
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static DistributedConfig config(int rank, int world, int port) {
    return new DistributedConfig(rank, world, rank, "127.0.0.1", port, BackendKind.GLOO, TIMEOUT,
        GradientSyncMode.OVERLAP);
  }

  @Test
  void rankZeroAloneGivesUpAfterTheTimeout() throws Exception {
    long t0 = System.nanoTime();
    DistributedException e = assertThrows(DistributedException.class,
        () -> C10dProcessGroup.join(config(0, 2, Jobs.freePort()), "test", false));
    double s = (System.nanoTime() - t0) / 1e9;
    assertTrue(e.getMessage().contains("not every rank joined within 2 s"), e.getMessage());
    assertTrue(s < 15, s + " s");
  }

  @Test
  void aRankWithNobodyAtTheAddressGivesUpAfterTheTimeout() throws Exception {
    long t0 = System.nanoTime();
    DistributedException e = assertThrows(DistributedException.class,
        () -> C10dProcessGroup.join(config(1, 2, Jobs.freePort()), "test", false));
    double s = (System.nanoTime() - t0) / 1e9;
    assertTrue(e.getMessage().contains("rank 1 could not reach rank 0's store at 127.0.0.1:"), e.getMessage());
    assertTrue(e.getMessage().contains("MASTER_ADDR"), e.getMessage());
    assertTrue(s < 15, s + " s");
  }

  @Test
  void aPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      DistributedException e = assertThrows(DistributedException.class,
          () -> C10dProcessGroup.join(config(0, 2, taken.getLocalPort()), "test", false));
      assertTrue(e.getMessage().contains("cannot listen on port " + taken.getLocalPort()), e.getMessage());
    }
  }

  @Test
  void aRankOfAnotherJobIsRefusedAndRankZeroDoesNotHang() throws Exception {
    int port = Jobs.freePort();
    java.util.concurrent.CompletableFuture<String> zero = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        C10dProcessGroup.join(config(0, 2, port), "train --out a", false).close();
        return "joined";
      } catch (DistributedException e) {
        return e.getMessage();
      }
    });
    Thread.sleep(300);
    DistributedException e = assertThrows(DistributedException.class,
        () -> C10dProcessGroup.join(config(1, 2, port), "train --out b", false));
    assertTrue(e.getMessage().contains("rank 1 is not part of rank 0's job: rank 0 has 2 ranks running: train --out a;"
        + " this rank has 2 ranks running: train --out b"), e.getMessage());
    String r0 = zero.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(r0.contains("rank 0: the Gloo process group could not connect to its peers within 2 s"), r0);
  }

  @Test
  void badSettingsAreNamed() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> config(2, 2, 1234)).getMessage()
        .contains("rank 2 is outside the world of 2 ranks"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DistributedConfig.fromEnvironment(
        Map.of("RANK", "0", "WORLD_SIZE", "2"))).getMessage().contains("MASTER_ADDR is not set"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DistributedConfig.fromEnvironment(
        Map.of("RANK", "0", "WORLD_SIZE", "two", "MASTER_ADDR", "x"))).getMessage()
        .contains("WORLD_SIZE must be an integer, got 'two'"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DistributedConfig.fromEnvironment(
        Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "x", "MERGETUNE_BACKEND", "mpi"))).getMessage()
        .contains("MERGETUNE_BACKEND must be auto, gloo or nccl"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(0, 2).shard(new int[3]))
        .getMessage().contains("cannot be split evenly over 2 ranks"));
  }

  @Test
  void ncclOnTheCpuBuildSaysWhatItNeeds() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse("gpu".equals(NativeRuntime.torchNativeFlavour()));
    DistributedConfig c = new DistributedConfig(0, 1, 0, "127.0.0.1", Jobs.freePort(), BackendKind.NCCL, TIMEOUT,
        GradientSyncMode.OVERLAP);
    DistributedException e = assertThrows(DistributedException.class, () -> C10dProcessGroup.join(c, "test", false));
    assertTrue(e.getMessage().contains("the NCCL backend needs the GPU build of LibTorch"), e.getMessage());
  }
}
