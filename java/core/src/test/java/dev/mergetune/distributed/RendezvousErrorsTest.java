package dev.mergetune.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad rendezvous settings end in an error that names what to check, within the timeout (2 s here), never in a hang.
 * The failing joins run in their own JVMs ({@link RendezvousProbe}).
 */
class RendezvousErrorsTest {
  static final List<String> CASES = List.of("alone", "unreachable", "port-in-use", "other-job", "nccl");
  @TempDir static Path work;
  static List<String> output;

  /** A case's messages and its seconds to the error. */
  record Outcome(List<String> messages, double seconds) {}

  @BeforeAll
  static void runProbe() throws Exception {
    NativeRuntime.ensureTorch();
    List<String> cases = new java.util.ArrayList<>(CASES);
    if ("gpu".equals(NativeRuntime.torchNativeFlavour())) cases.remove("nccl");
    Jobs.Job job = Jobs.start(RendezvousProbe.class, cases, work, 1, Map.of());
    assertEquals(0, job.await(120)[0], job.logs());
    output = job.log(0).lines().toList();
  }

  static Outcome probe(String scenario) {
    List<String> messages = output.stream().filter(l -> l.startsWith("MESSAGE " + scenario + " "))
        .map(l -> l.substring(("MESSAGE " + scenario + " ").length())).toList();
    double s = output.stream().filter(l -> l.startsWith("CASE " + scenario + " SECONDS "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElseThrow(
            () -> new AssertionError("no outcome for " + scenario + ":\n" + String.join("\n", output)));
    return new Outcome(messages, s);
  }

  @Test
  void rankZeroAloneGivesUpAfterTheTimeout() throws Exception {
    Outcome o = probe("alone");
    assertTrue(o.messages().get(0).contains("rendezvous at 127.0.0.1:"), o.messages().toString());
    assertTrue(o.messages().get(0).contains("not every rank joined within 2 s"), o.messages().toString());
    assertTrue(o.seconds() < 15, o.seconds() + " s");
  }

  @Test
  void aRankWithNobodyAtTheAddressGivesUpAfterTheTimeout() throws Exception {
    Outcome o = probe("unreachable");
    String m = o.messages().get(0);
    assertTrue(m.contains("rank 1 could not reach rank 0's store at 127.0.0.1:"), m);
    assertTrue(m.contains("MASTER_ADDR"), m);
    assertTrue(o.seconds() < 15, o.seconds() + " s");
  }

  @Test
  void aPortInUseIsNamed() throws Exception {
    String m = probe("port-in-use").messages().get(0);
    assertTrue(m.contains("rank 0 cannot listen on port") && m.contains("choose another MASTER_PORT"), m);
  }

  @Test
  void aRankOfAnotherJobIsRefusedAndRankZeroDoesNotHang() throws Exception {
    Outcome o = probe("other-job");
    assertTrue(o.messages().get(0).contains("rank 1 is not part of rank 0's job: rank 0 has 2 ranks running: train"
        + " --out a; this rank has 2 ranks running: train --out b"), o.messages().toString());
    assertTrue(o.messages().get(1).contains("rank 0: the Gloo process group could not connect to its peers within"
        + " 2 s"), o.messages().toString());
    assertTrue(o.seconds() < 20, o.seconds() + " s");
  }

  @Test
  void ncclOnTheCpuBuildSaysWhatItNeeds() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse("gpu".equals(NativeRuntime.torchNativeFlavour()));
    String m = probe("nccl").messages().get(0);
    assertTrue(m.contains("the NCCL backend needs the GPU build of LibTorch"), m);
  }

  @Test
  void badSettingsAreNamed() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RendezvousProbe.config(2, 2, 1234,
        BackendKind.GLOO)).getMessage().contains("rank 2 is outside the world of 2 ranks"));
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
}
