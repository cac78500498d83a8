package dev.mergetune.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rank SIGKILLed in the middle of a 3-rank job (after the checkpoint of step 6) makes every other rank exit with an
 * error naming it, well before the job's collective timeout; the same job started again resumes from rank 0's
 * checkpoint and ends with the trained state of an uninterrupted single-process run (within the equality test's
 * tolerance).
 */
class KilledRankTest {
  @Test
  void theOthersNameTheKilledRankAndTheResumedJobFinishes(@TempDir Path tmp) throws Exception {
    Path work = Files.createDirectories(tmp.resolve("dp"));
    Jobs.Job job = Jobs.start("coop", work, 3, Map.of("CHECKPOINTS", "1", "HANG_RANK", "2", "HANG_AT_CALL", "7"));
    Path marker = work.resolve("hanging");
    long deadline = System.nanoTime() + 90_000_000_000L;
    while (!Files.exists(marker) && System.nanoTime() < deadline && job.ranks().get(2).isAlive()) Thread.sleep(20);
    assertTrue(Files.exists(marker), "rank 2 never reached its 7th step:\n" + job.logs());
    long killed = System.nanoTime();
    job.ranks().get(2).destroyForcibly();  // SIGKILL
    int[] codes = job.await(Jobs.TIMEOUT_SECONDS + 30);
    double seconds = (System.nanoTime() - killed) / 1e9;
    for (int r = 0; r < 2; r++) {
      assertNotEquals(0, codes[r], "rank " + r + " should have failed:\n" + job.logs());
      assertNotEquals(-1, codes[r], "rank " + r + " hung:\n" + job.logs());
      String log = job.log(r);
      assertTrue(log.contains("rank 2 has stopped"), "rank " + r + " does not name rank 2:\n" + log);
    }
    assertTrue(seconds < Jobs.TIMEOUT_SECONDS, "the others took " + seconds + " s to stop (timeout "
        + Jobs.TIMEOUT_SECONDS + " s)");
    assertTrue(Files.isRegularFile(work.resolve("checkpoints").resolve("training-state.json")));

    Jobs.Job again = Jobs.start("coop", work, 3, Map.of("CHECKPOINTS", "1"));
    Path single = Files.createDirectories(tmp.resolve("single"));
    NativeRuntime.ensureTorch();
    int threads = torch.get_num_threads();
    torch.set_num_threads(1);
    try {
      Scenarios.run("coop", single, false, DataParallel.single(), 0);
    } finally {
      torch.set_num_threads(threads);
    }
    assertArrayEquals(new int[3], again.await(120), again.logs());
    assertTrue(Scenarios.JSON.readTree(work.resolve("result-rank0.json").toFile()).get("resumed").asBoolean());
    Map<String, float[]> want = DataParallelEqualityTest.read(single.resolve("out-rank0.safetensors"));
    for (int r = 0; r < 3; r++) {
      Map<String, float[]> got = DataParallelEqualityTest.read(work.resolve("out-rank" + r + ".safetensors"));
      for (String k : want.keySet()) {
        float[] a = want.get(k);
        float[] b = got.get(k);
        for (int i = 0; i < a.length; i++) {
          assertEquals(a[i], b[i], DataParallelEqualityTest.ATOL + DataParallelEqualityTest.RTOL * Math.abs(a[i]),
              "rank " + r + " '" + k + "'[" + i + "]");
        }
      }
    }
    System.out.printf("killed rank 2: ranks 0 and 1 stopped %.1f s later; rank 0 said: %s%n", seconds,
        job.log(0).lines().filter(l -> l.contains("rank 2 has stopped")).findFirst().orElse(""));
  }
}
