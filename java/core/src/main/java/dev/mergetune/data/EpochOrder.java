package dev.mergetune.data;

/**
 * The order in which a loader visits a dataset's samples in one epoch: the identity, or a permutation drawn from the
 * seed and the epoch alone (a Fisher–Yates shuffle, from the last position down, on a {@link SplitMix64} stream seeded
 * by {@code SplitMix64.derive(tag, seed, epoch)}). The same (n, seed, epoch) gives the same permutation on every
 * machine and JVM, so a resumed run visits the samples in the order the interrupted one would have; it is not the
 * order torch's {@code RandomSampler} ({@code torch.randperm} on a global generator) would give.
 */
public final class EpochOrder {
  /** Separates these streams from every other use of the same seed ("shuffle1"). */
  static final long STREAM_TAG = 0x73687566666C6531L;

  private EpochOrder() {}

  /** 0, 1, …, n − 1. */
  public static int[] sequential(int n) {
    if (n < 0) throw new IllegalArgumentException("negative size " + n);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) order[i] = i;
    return order;
  }

  /** A permutation of 0 … n − 1 that depends on (n, seed, epoch) only. */
  public static int[] shuffled(int n, long seed, long epoch) {
    int[] order = sequential(n);
    SplitMix64 rng = new SplitMix64(SplitMix64.derive(STREAM_TAG, seed, epoch));
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
