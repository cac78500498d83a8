package dev.mergetune.distributed;

import java.util.Arrays;

/**
 * Which items of a global batch this rank trains on: the global batch is the one a single process would take (the
 * training loop's seeded {@code EpochOrder}, in order), cut into {@code world} consecutive, disjoint shards of B/W
 * items, rank r taking shard r. The shards together are the global batch and are equally large, so the mean of the
 * ranks' shard-mean gradients is the gradient of the global batch's mean loss. A batch that W does not divide is
 * refused: unequal shards would need every loss term weighted by its shard's size, which MergeTune's inner
 * backward passes and CLIP's gathered contrastive loss do not allow.
 */
public final class DistributedSampler {
  private final int rank;
  private final int world;

  public DistributedSampler(int rank, int world) {
    if (world < 1 || rank < 0 || rank >= world) throw new IllegalArgumentException("rank " + rank + " of " + world);
    this.rank = rank;
    this.world = world;
  }

  /** This rank's shard of {@code globalBatch}. */
  public int[] shard(int[] globalBatch) {
    int b = globalBatch.length;
    if (b % world != 0) {
      throw new IllegalArgumentException("a batch of " + b + " item" + (b == 1 ? "" : "s") + " cannot be split evenly"
          + " over " + world + " ranks: choose a batch size (--batch, the global batch) that the world size divides"
          + " (with fewer training items than the batch size, the batch is all of them)");
    }
    int per = b / world;
    return Arrays.copyOfRange(globalBatch, rank * per, (rank + 1) * per);
  }

  /** Items [start(n, p), start(n, p + 1)) of n belong to part p of {@code world} (⌊n/W⌋ each, the first n mod W one more). */
  public int start(int n, int part) {
    int base = n / world;
    int extra = n % world;
    return part * base + Math.min(part, extra);
  }

  public int rank() {
    return rank;
  }

  public int world() {
    return world;
  }
}
