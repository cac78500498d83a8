package dev.mergetune.kernels.reference;

/**
 * Plain reference of K3 (sign-consistent max, ConDU/EMR) over one segment, written per element from the
 * specification, independent of the native code:
 *
 * <pre>
 *   flag_j = +1 if Σ_i δ^i_j > 0 else −1   (sum in double, task order; exact tie → −1)
 *   M^i_j  = [δ^i_j · flag_j > 0]
 *   U_j    = flag_j · max_i |δ^i_j · M^i_j|
 * </pre>
 */
public final class SignMaxReference {
  private SignMaxReference() {}

  /** U of one segment; deltas[i] is task i's delta. */
  public static float[] unified(float[][] deltas) {
    int n = deltas[0].length;
    float[] u = new float[n];
    for (int j = 0; j < n; j++) {
      double sum = 0;
      for (float[] d : deltas) sum += d[j];
      float flag = sum > 0 ? 1f : -1f;
      float best = 0f;
      for (float[] d : deltas) {
        if (d[j] * flag > 0) best = Math.max(best, Math.abs(d[j]));
      }
      u[j] = flag * best;
    }
    return u;
  }

  /** M^task of one segment as booleans. */
  public static boolean[] mask(float[][] deltas, int task) {
    int n = deltas[0].length;
    boolean[] m = new boolean[n];
    for (int j = 0; j < n; j++) {
      double sum = 0;
      for (float[] d : deltas) sum += d[j];
      float flag = sum > 0 ? 1f : -1f;
      m[j] = deltas[task][j] * flag > 0;
    }
    return m;
  }
}
