package dev.mergetune.kernels.reference;

import java.util.Arrays;
import java.util.Comparator;

/**
 * A plain double-precision mergekit GTA merge of one tensor, written from mergekit's
 * generalized_task_arithmetic.py and sparsify.py (arcee-ai/mergekit: read, not copied) rather than from our
 * kernels: masks by a full stable sort (lower index first among equal |δ|, where torch.argsort leaves the order
 * open), DARE's and DELLA's Bernoulli draws from its own Philox4x32-10 (Salmon et al., SC'11) with DARE's counter
 * layout (j/4, model, key lo, key hi) and key = seed, then the weighted, sign-elected, normalised sum. δ is formed
 * in fp32 (as mergekit does in the tensors' dtype, and as our kernels do), everything after it in double.
 */
public final class GtaReference {
  private GtaReference() {}

  public enum Sparsify { NONE, MAGNITUDE, OUTLIERS, RANDOM, DELLA }

  /** consensus: 0 none, 1 sum (mass), 2 count. The result and the scale of its fp32 rounding error. */
  public record Result(double[] out, double[] scale, boolean[] ambiguous) {}

  /**
   * @param base null for no base (linear)
   * @param shape the tensor's shape (DELLA ranks along dimension 1; 0-/1-D: one row)
   * @param params per model: gamma (OUTLIERS) or epsilon (DELLA)
   */
  public static Result merge(float[] base, float[][] models, long[] shape, Sparsify method, double[] weights,
      double[] densities, double[] params, boolean rescale, int consensus, boolean normalize, double lambda,
      long seed, long tensorKey) {
    int n = models[0].length, t = models.length;
    double[][] wd = new double[t][n];
    for (int i = 0; i < t; i++) {
      float[] delta = new float[n];
      for (int j = 0; j < n; j++) delta[j] = base == null ? models[i][j] : models[i][j] - base[j];
      boolean[] keep = new boolean[n];
      Arrays.fill(keep, true);
      double r = 1;
      if (method != Sparsify.NONE && densities[i] < 1) {
        keep = mask(delta, shape, method, densities[i], params[i], seed, tensorKey, i);
        if (rescale) {
          double before = 0, after = 0;
          for (int j = 0; j < n; j++) {
            before += Math.abs(delta[j]);
            if (keep[j]) after += Math.abs(delta[j]);
          }
          if (before >= 1e-7 && after >= 1e-7) r = before / after;
        }
      }
      for (int j = 0; j < n; j++) wd[i][j] = keep[j] ? weights[i] * r * delta[j] : 0;
    }
    double wsum = 0;
    for (double w : weights) wsum += w;
    if (Math.abs(wsum) < 1e-8) wsum = 1;
    double[] out = new double[n], scale = new double[n];
    boolean[] ambiguous = new boolean[n];
    for (int j = 0; j < n; j++) {
      double b = base == null ? 0 : base[j];
      double mixed = 0, d = wsum, abs = 0;
      for (int i = 0; i < t; i++) abs += Math.abs(wd[i][j]);
      if (consensus == 0) {
        for (int i = 0; i < t; i++) mixed += wd[i][j];
      } else {
        double total = 0;
        for (int i = 0; i < t; i++) total += consensus == 1 ? wd[i][j] : Math.signum(wd[i][j]);
        ambiguous[j] = consensus == 1 && abs > 0 && Math.abs(total) <= 1e-5 * abs;
        double s = total >= 0 ? 1 : -1;
        d = 0;
        for (int i = 0; i < t; i++) {
          if (Math.signum(wd[i][j]) == s) {
            mixed += wd[i][j];
            d += weights[i];
          }
        }
        if (d == 0) d = 1;
      }
      out[j] = b + lambda * (normalize ? mixed / d : mixed);
      scale[j] = Math.abs(b) + Math.abs(lambda) * abs / (normalize ? Math.abs(d) : 1);
    }
    return new Result(out, scale, ambiguous);
  }

  static boolean[] mask(float[] delta, long[] shape, Sparsify method, double density, double param, long seed,
      long key, int model) {
    int n = delta.length;
    boolean[] keep = new boolean[n];
    switch (method) {
      case MAGNITUDE, OUTLIERS -> {
        Integer[] order = ascending(delta, 0, n, 1);
        int target = (int) (density * n), lo, hi;
        if (method == Sparsify.MAGNITUDE) {
          lo = n - target;
          hi = n;
        } else {
          int top = (int) (param * n), bot = n - target - top;
          if (bot < 0) {
            top += bot;
            bot = 0;
          }
          lo = bot;
          hi = n - top;
        }
        for (int r = lo; r < hi; r++) keep[order[r]] = true;
      }
      case RANDOM -> {
        float drop = 1f - (float) density;
        for (int j = 0; j < n; j++) keep[j] = uniform(seed, model, key, j) >= drop;
      }
      case DELLA -> {
        int outer = shape.length >= 2 ? (int) shape[0] : 1;
        int len = shape.length >= 2 ? (int) shape[1] : n;
        int inner = n / (outer * len);
        double[] p = new double[n];
        for (int a = 0; a < outer; a++) {
          for (int c = 0; c < inner; c++) {
            Integer[] order = ascending(delta, a * len * inner + c, len, inner);
            for (int rank = 0; rank < len; rank++) {
              double norm = len == 1 ? 0 : (double) rank / (len - 1);
              p[a * len * inner + c + order[rank] * inner] = (density - param) + norm * 2 * param;
            }
          }
        }
        // the kernels form p in fp32; u is a multiple of 2^-24
        for (int j = 0; j < n; j++) keep[j] = uniform(seed, model, key, j) < (float) p[j];
      }
      default -> Arrays.fill(keep, true);
    }
    return keep;
  }

  /** Positions 0..len-1 of the strided row start, start + stride, …, ordered by |δ| ascending, stably. */
  private static Integer[] ascending(float[] delta, int start, int len, int stride) {
    Integer[] idx = new Integer[len];
    for (int r = 0; r < len; r++) idx[r] = r;
    Arrays.sort(idx, Comparator.comparingDouble(r -> Math.abs(delta[start + r * stride])));
    return idx;
  }

  /** u = (w >> 8)·2^-24 of DARE's Philox word for element j. */
  static double uniform(long seed, int model, long key, long j) {
    int[] x = {(int) (j / 4), model, (int) key, (int) (key >>> 32)};
    int k0 = (int) seed, k1 = (int) (seed >>> 32);
    for (int r = 0; r < 10; r++) {
      long p0 = 0xD2511F53L * (x[0] & 0xffffffffL);
      long p1 = 0xCD9E8D57L * (x[2] & 0xffffffffL);
      int y0 = (int) (p1 >>> 32) ^ x[1] ^ k0, y1 = (int) p1, y2 = (int) (p0 >>> 32) ^ x[3] ^ k1, y3 = (int) p0;
      x[0] = y0;
      x[1] = y1;
      x[2] = y2;
      x[3] = y3;
      k0 += 0x9E3779B9;
      k1 += 0xBB67AE85;
    }
    return (x[(int) (j % 4)] >>> 8) * 0x1p-24;
  }
}
