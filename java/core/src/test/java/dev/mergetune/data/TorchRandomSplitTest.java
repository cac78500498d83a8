package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TorchRandomSplitTest {
  @Test
  void mersenneTwisterMatchesTheCxxStandardsCheckValue() {
    // [rand.predef]: the 10000th consecutive output of a default-constructed std::mt19937 (seed 5489) is 4123659995.
    MersenneTwister mt = new MersenneTwister(5489);
    long first = mt.nextUnsigned();
    long v = first;
    for (int i = 2; i <= 10000; i++) v = mt.nextUnsigned();
    assertEquals(3499211612L, first);
    assertEquals(4123659995L, v);
    // manual_seed keeps the low 32 bits of the seed
    assertEquals(new MersenneTwister(42).nextUnsigned(), new MersenneTwister((1L << 32) + 42).nextUnsigned());
  }

  @Test
  void randpermIsAPermutationAndSplitCutsIt() {
    int[] p = TorchRandomSplit.randperm(1000, 42);
    int[] sorted = p.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) assertEquals(i, sorted[i]);
    assertArrayEquals(new int[0], TorchRandomSplit.randperm(0, 42));
    assertArrayEquals(new int[] {0}, TorchRandomSplit.randperm(1, 42));
    List<int[]> parts = TorchRandomSplit.trainTest(1000, 0.8, 42);
    assertEquals(800, parts.get(0).length);
    assertEquals(200, parts.get(1).length);
    assertArrayEquals(Arrays.copyOfRange(p, 0, 800), parts.get(0));
    assertArrayEquals(Arrays.copyOfRange(p, 800, 1000), parts.get(1));
    // int(0.8 * n) truncates the double product, as Python does
    assertEquals(6941, TorchRandomSplit.trainTest(8677, 0.8, 42).get(0).length);
    assertThrows(IllegalArgumentException.class, () -> TorchRandomSplit.split(10, new int[] {3, 3}, 1));
  }
}
