package dev.mergetune.data;

import java.util.ArrayList;
import java.util.List;

/**
 * PyTorch's {@code torch.randperm(n, generator=g)} on the CPU and {@code torch.utils.data.random_split}, for a
 * generator made by {@code torch.Generator().manual_seed(seed)}: {@link MersenneTwister} seeded with {@code seed}
 * drives the loop of ATen's {@code randperm_cpu} ({@code aten/src/ATen/native/TensorFactories.cpp}): start from the
 * identity, and for {@code i = 0 .. n-2} swap element {@code i} with element {@code i + (r % (n - i))}, {@code r} the
 * next 32-bit output. {@code random_split} then cuts that permutation into consecutive pieces of the given lengths.
 * The same code is in LibTorch 2.x up to at least 2.10, which {@code TorchRandomSplitParityTest} calls to compare.
 */
public final class TorchRandomSplit {
  private TorchRandomSplit() {}

  /** {@code torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()}. */
  public static int[] randperm(int n, long seed) {
    if (n < 0) throw new IllegalArgumentException("n must be non-negative, got " + n);
    int[] r = new int[n];
    for (int i = 0; i < n; i++) r[i] = i;
    MersenneTwister g = new MersenneTwister(seed);
    for (int i = 0; i < n - 1; i++) {
      int z = (int) (g.nextUnsigned() % (n - i));
      int t = r[i];
      r[i] = r[i + z];
      r[i + z] = t;
    }
    return r;
  }

  /**
   * The index lists of {@code torch.utils.data.random_split(range(n), lengths,
   * generator=torch.Generator().manual_seed(seed))}.
   */
  public static List<int[]> split(int n, int[] lengths, long seed) {
    long sum = 0;
    for (int l : lengths) {
      if (l < 0) throw new IllegalArgumentException("negative length " + l);
      sum += l;
    }
    if (sum != n) throw new IllegalArgumentException("the lengths add up to " + sum + ", not to the " + n + " items");
    int[] perm = randperm(n, seed);
    List<int[]> out = new ArrayList<>(lengths.length);
    int offset = 0;
    for (int l : lengths) {
      int[] part = new int[l];
      System.arraycopy(perm, offset, part, 0, l);
      out.add(part);
      offset += l;
    }
    return out;
  }

  /**
   * ZSCL/ConDU's {@code split_dataset(dataset, ratio=0.8)}: {@code train_size = int(ratio * len(dataset))} (the double
   * product truncated, as Python's {@code int} does), the rest test, {@code random_split} with generator seed 42.
   * Returns {train indices, test indices}.
   */
  public static List<int[]> trainTest(int n, double ratio, long seed) {
    int train = (int) (ratio * n);
    return split(n, new int[] {train, n - train}, seed);
  }
}
