package dev.mergetune.data;

/**
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): the state
 * advances by the golden gamma {@code 0x9E3779B97F4A7C15} and each output is {@link #mix64} of the new state. Written
 * out here, rather than taken from {@link java.util.SplittableRandom}, so that the stream is fixed by this code and not
 * by a JDK version: the same seed gives the same numbers on every machine and JVM.
 *
 * <p>Not thread-safe; give each thread (or each sample, through {@link #derive}) its own generator.
 */
public final class SplitMix64 {
  /** The increment of the state, 2^64 / φ rounded to an odd number. */
  public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private long state;

  public SplitMix64(long seed) {
    state = seed;
  }

  /** The output function: a bijection of 64-bit integers (Stafford's variant 13 of MurmurHash3's finaliser). */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * A seed for an independent stream identified by {@code parts} (a purpose tag, a seed, an epoch, an index, ...):
   * starting from a fixed constant, each part is folded in as {@code h = mix64(h ^ mix64(part + GOLDEN_GAMMA))}, one
   * after the other, so the result depends on every part and on their order, and is the same on every machine and in
   * every thread.
   */
  public static long derive(long... parts) {
    long h = 0x6A09E667F3BCC909L;  // frac(sqrt(2)), an arbitrary non-zero start
    for (long p : parts) h = mix64(h ^ mix64(p + GOLDEN_GAMMA));
    return h;
  }

  /** The current state: {@code new SplitMix64(state())} continues this stream exactly (for checkpoints). */
  public long state() {
    return state;
  }

  public long nextLong() {
    state += GOLDEN_GAMMA;
    return mix64(state);
  }

  /** Uniform in [0, 1): the top 53 bits of {@link #nextLong} times 2^−53 (every value a multiple of 2^−53). */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /**
   * Uniform in {@code [0, bound)}, without bias: the top 63 bits of {@link #nextLong} reduced modulo {@code bound},
   * redrawing the values in the incomplete last block (the rejection rule of {@code SplittableRandom.nextInt(bound)}).
   */
  public int nextInt(int bound) {
    if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
    long m = bound;
    long u = nextLong() >>> 1;
    long r;
    while (u - (r = u % m) + (m - 1) < 0) u = nextLong() >>> 1;
    return (int) r;
  }
}
