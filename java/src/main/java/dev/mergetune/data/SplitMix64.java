package dev.mergetune.data;

/**
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): the state
 * advances by the golden gamma {@code 0x9E3779B97F4A7C15} and each output is {@link #mix64} of the new state. Written
 * out here, rather than taken from {@link java.util.SplittableRandom}, so that the stream is fixed by this code and not
 * by a JDK version: the same seed gives the same numbers on every machine and JVM.
 */
final class SplitMix64 {
  static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private long state;

  SplitMix64(long seed) {
    state = seed;
  }

  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += GOLDEN_GAMMA;
    return mix64(state);
  }

  /**
   * Uniform in {@code [0, bound)}, without bias: the top 63 bits of {@link #nextLong} reduced modulo {@code bound},
   * redrawing the values in the incomplete last block (the rejection rule of {@code SplittableRandom.nextInt(bound)}).
   */
  int nextInt(int bound) {
    if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
    long m = bound;
    long u = nextLong() >>> 1;
    long r;
    while (u - (r = u % m) + (m - 1) < 0) u = nextLong() >>> 1;
    return (int) r;
  }
}
