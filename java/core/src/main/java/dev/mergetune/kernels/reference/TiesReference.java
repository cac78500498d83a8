package dev.mergetune.kernels.reference;

import dev.mergetune.kernels.Ties;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A plain double-precision TIES, written from the reference implementations' code rather than from our kernels:
 * the TIES repository's {@code topk_values_mask} (kthvalue of |τ| at n − int(n·K), clamped to ≥ 1 as FusionBench
 * does, then {@code |τ| >= kth}), {@code resolve_sign} with {@code resolve_zero_signs("majority")} and
 * {@code disjoint_merge}; and mergekit's {@code magnitude} (exactly int(density·n) by a sort, lower index first
 * among equals), {@code get_mask} and the weighted divisor. For tests; a whole parameter set in memory.
 *
 * <p>τ is computed in fp32 (m − b, as the kernels and the reference tools do, so trim decisions are exact); the
 * rest is double.
 */
public final class TiesReference {
  private TiesReference() {}

  /**
   * @param base the flattened base parameters, tensor after tensor
   * @param models the models, flattened the same way
   * @param tensorLengths the tensors' element counts, in order (they tile the flat arrays)
   * @return the merged parameters
   */
  public static double[] merge(float[] base, float[][] models, float[] weights, int[] tensorLengths, Ties.Options o) {
    int n = base.length, t = models.length;
    float[][] tau = new float[t][n];
    for (int i = 0; i < t; i++) {
      for (int j = 0; j < n; j++) tau[i][j] = models[i][j] - base[j];
    }
    List<int[]> groups = new ArrayList<>();  // [start, length] of each trim / majority scope
    if (o.scope() == Ties.Scope.GLOBAL) {
      groups.add(new int[] {0, n});
    } else {
      int at = 0;
      for (int len : tensorLengths) {
        groups.add(new int[] {at, len});
        at += len;
      }
    }
    boolean[][] kept = new boolean[t][n];
    for (int i = 0; i < t; i++) {
      for (int[] g : groups) trim(tau[i], g[0], g[1], o, kept[i]);
    }
    double[] v = new double[t];
    double[] out = new double[n];
    double[] score = new double[n];
    for (int j = 0; j < n; j++) {
      double mass = 0, votes = 0;
      for (int i = 0; i < t; i++) {
        v[i] = kept[i][j] ? (double) weights[i] * tau[i][j] : 0.0;
        mass += v[i];
        votes += Math.signum(v[i]);
      }
      score[j] = o.election() == Ties.Election.MASS ? mass : votes;
    }
    for (int[] g : groups) {
      // resolve_zero_signs("majority"): the sign of the sum of the elected signs over the scope.
      double majority = 0;
      for (int j = g[0]; j < g[0] + g[1]; j++) majority += Math.signum(score[j]);
      double zero = o.zeroSign() == Ties.ZeroSign.POSITIVE ? 1.0 : Math.signum(majority);
      for (int j = g[0]; j < g[0] + g[1]; j++) {
        double sign = score[j] != 0 ? Math.signum(score[j]) : zero;
        double sum = 0, den = 0, biggest = 0;
        for (int i = 0; i < t; i++) {
          double vi = kept[i][j] ? (double) weights[i] * tau[i][j] : 0.0;
          boolean agrees = sign > 0 ? vi > 0 : vi < 0;  // torch.where(sign > 0, τ > 0, τ < 0)
          if (agrees) {
            sum += vi;
            den += weights[i];
            biggest = Math.max(biggest, Math.abs(vi));
          }
        }
        double agg = switch (o.aggregate()) {
          case DISJOINT_MEAN -> sum / (den == 0 ? 1.0 : den);
          case DISJOINT_SUM -> sum;
          case DISJOINT_MAX -> sign * biggest;  // dis-max: |selected|.max() · sign
        };
        out[j] = base[j] + (double) o.lambda() * agg;
      }
    }
    return out;
  }

  /** Marks the kept entries of τ[start, start + len). */
  private static void trim(float[] tau, int start, int len, Ties.Options o, boolean[] kept) {
    if (len == 0) return;
    if (o.density() >= 1.0) {
      Arrays.fill(kept, start, start + len, true);
      return;
    }
    if (o.selection() == Ties.Selection.KTHVALUE) {
      int k = (int) Math.floor(len * o.density());
      int kSmall = Math.max(1, len - k);  // k = d - k; kthvalue(k) with FusionBench's k <= 0 guard
      float[] mags = new float[len];
      for (int j = 0; j < len; j++) mags[j] = Math.abs(tau[start + j]);
      float[] sorted = mags.clone();
      Arrays.sort(sorted);
      float kth = sorted[kSmall - 1];
      for (int j = 0; j < len; j++) kept[start + j] = mags[j] >= kth;
    } else {
      int k = (int) Math.floor(len * o.density());
      Integer[] order = new Integer[len];
      for (int j = 0; j < len; j++) order[j] = j;
      Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -Math.abs(tau[start + j])).thenComparingInt(j -> j));
      for (int r = 0; r < k; r++) kept[start + order[r]] = true;
    }
  }
}
