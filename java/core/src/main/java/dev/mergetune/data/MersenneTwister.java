package dev.mergetune.data;

/**
 * MT19937, the 32-bit Mersenne Twister of Matsumoto and Nishimura (1998), seeded with {@code init_genrand}: the engine
 * behind {@code std::mt19937} and LibTorch's CPU generator ({@code at::mt19937}, which keeps only the low 32 bits of a
 * {@code manual_seed}). Python's {@code random} and NumPy's {@code RandomState} seed it differently
 * ({@code init_by_array}), so their streams are not this one.
 */
final class MersenneTwister {
  private static final int N = 624, M = 397;
  private final int[] mt = new int[N];
  private int index;

  MersenneTwister(long seed) {
    mt[0] = (int) seed;
    for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
    index = N;
  }

  /** The next output, an unsigned 32-bit value. */
  long nextUnsigned() {
    if (index >= N) twist();
    int y = mt[index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y & 0xFFFFFFFFL;
  }

  private void twist() {
    for (int i = 0; i < N; i++) {
      int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      int next = mt[(i + M) % N] ^ (y >>> 1);
      if ((y & 1) != 0) next ^= 0x9908b0df;
      mt[i] = next;
    }
    index = 0;
  }
}
