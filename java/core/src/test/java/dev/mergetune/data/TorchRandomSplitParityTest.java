package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java randperm against LibTorch's own (the code PyTorch's {@code torch.randperm} runs on the CPU), through the
 * JavaCPP preset: same generator seeding as {@code torch.Generator().manual_seed(seed)}.
 */
class TorchRandomSplitParityTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static int[] libtorch(int n, long seed) {
    Generator g = torch.make_generator_cpu();
    g.set_current_seed(seed);
    Tensor t = torch.randperm(n, new GeneratorOptional(g)).contiguous();
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = (int) t.get(i).item_long();
    return out;
  }

  @Test
  void randpermEqualsLibTorchs() {
    for (long seed : new long[] {42, 0, 7, (1L << 32) + 42}) {
      for (int n : new int[] {1, 2, 3, 10, 97, 1000, 8677}) {
        assertArrayEquals(libtorch(n, seed), TorchRandomSplit.randperm(n, seed), "n=" + n + " seed=" + seed);
      }
    }
  }
}
