package dev.mergetune.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What 1.5.13's c10d does from Java, over Gloo on loopback with two worker JVMs ({@link CollectivesProbe}):
 * TCPStore rendezvous, all-reduce, broadcast, all-gather, barrier, rank 0's decisions and failures, file broadcast,
 * and gradient averaging by c10d's Reducer (overlapped) and by bucketed all-reduce after backward, each against
 * values derived from the rank numbers.
 */
class GlooCollectivesTest {
  @Test
  void everyCollectiveGivesTheExpectedValues(@TempDir Path work) throws Exception {
    Jobs.Job job = Jobs.start(CollectivesProbe.class, List.of(work.toString()), work, 2, Map.of());
    int[] codes = job.await(90);
    assertArrayEquals(new int[] {0, 0}, codes, job.logs());
    for (int r = 0; r < 2; r++) assertTrue(job.log(r).contains("rank " + r + ": all checks passed"), job.logs());
  }
}
