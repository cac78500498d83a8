package dev.mergetune.tune;

import dev.mergetune.data.SplitMix64;
import java.util.Arrays;

/**
 * The interpolation points α_k and weights ω_k of MergeTune's path term {@code (1/N) Σ_k L(ŵ2 + α_k(w − ŵ2))}.
 *
 * <ul>
 *   <li>{@link #grid}: the reference code's fixed grid {@code numpy.arange(0.1, 1.01, 1/N)} — N = 5 gives
 *       {0.1, 0.3, 0.5, 0.7, 0.9}, N = 10 gives {0.1, …, 1.0}; α weights the learned end (methods.md §1.2);
 *   <li>{@link #sampled}: N points drawn uniformly from [0, 1) anew for every step (the paper's expectation over α),
 *       from (seed, epoch, batch) only, so a resumed run draws the same points.
 * </ul>
 * Every weight is 1/N.
 */
public final class AlphaPoints {
  private final int n;
  private final double[] grid;  // null: sampled
  private final long seed;

  private AlphaPoints(int n, double[] grid, long seed) {
    if (n < 1) throw new IllegalArgumentException("N_alpha must be at least 1, got " + n);
    this.n = n;
    this.grid = grid;
    this.seed = seed;
  }

  /** numpy's {@code arange(0.1, 1.01, 1/n)}: length ⌈(1.01 − 0.1)·n⌉, values 0.1 + i/n (in double). */
  public static AlphaPoints grid(int n) {
    if (n < 1) throw new IllegalArgumentException("N_alpha must be at least 1, got " + n);
    double step = 1.0 / n;
    int len = (int) Math.ceil((1.01 - 0.1) / step);
    double[] a = new double[len];
    for (int i = 0; i < len; i++) a[i] = 0.1 + i * step;
    return new AlphaPoints(len, a, 0);
  }

  /** {@code n} points uniform in [0, 1) per step. */
  public static AlphaPoints sampled(int n, long seed) {
    return new AlphaPoints(n, null, seed);
  }

  public int count() {
    return n;
  }

  public boolean isGrid() {
    return grid != null;
  }

  /** The points of the step that trains on {@code batch} in epoch {@code epoch}. */
  public double[] alphas(long epoch, int[] batch) {
    if (grid != null) return grid.clone();
    long h = seed ^ (epoch * 0x9E3779B97F4A7C15L) ^ Arrays.hashCode(batch) * 0xC2B2AE3D27D4EB4FL;
    SplitMix64 rng = new SplitMix64(h);
    double[] a = new double[n];
    for (int i = 0; i < n; i++) a[i] = rng.nextDouble();
    return a;
  }

  /** ω_k = 1/N. */
  public double[] weights() {
    double[] w = new double[n];
    Arrays.fill(w, 1.0 / n);
    return w;
  }

  @Override
  public String toString() {
    if (grid == null) return n + " sampled per step (seed " + seed + ")";
    StringBuilder b = new StringBuilder("grid [");
    for (int i = 0; i < grid.length; i++) b.append(i == 0 ? "" : ", ").append(dev.mergetune.eval.Decimals.number(grid[i]));
    return b.append(']').toString();
  }
}
