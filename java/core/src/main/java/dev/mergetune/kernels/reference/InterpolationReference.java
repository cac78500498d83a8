package dev.mergetune.kernels.reference;

/**
 * Double-precision reference of K4a, independent of the native code:
 *
 * <pre>
 *   exact[j] = base[j] + Σ_i λ_i·(m_i[j] − base[j])          (double)
 *   scale[j] = |base[j]| + Σ_i |λ_i·(m_i[j] − base[j])|
 * </pre>
 *
 * An fp32 result is judged by max_j |out[j] − exact[j]| / scale[j], the error relative to the magnitude of the
 * terms summed (a plain relative error is meaningless where the terms cancel to nearly 0).
 */
public final class InterpolationReference {
  /** Tolerance on the scaled error: covers the (n + 2)·2⁻²⁴ fp32 bound for up to 14 models. */
  public static final double TOLERANCE = 1e-6;

  private static final double TINY = 1e-30;

  private InterpolationReference() {}

  public static double[] exact(float[] base, float[][] models, float[] lambdas) {
    double[] e = new double[base.length];
    for (int j = 0; j < base.length; j++) {
      double b = base[j];
      double acc = b;
      for (int i = 0; i < models.length; i++) acc += (double) lambdas[i] * ((double) models[i][j] - b);
      e[j] = acc;
    }
    return e;
  }

  public static double[] scale(float[] base, float[][] models, float[] lambdas) {
    double[] s = new double[base.length];
    for (int j = 0; j < base.length; j++) {
      double b = base[j];
      double acc = Math.abs(b);
      for (int i = 0; i < models.length; i++) acc += Math.abs((double) lambdas[i] * ((double) models[i][j] - b));
      s[j] = acc;
    }
    return s;
  }

  /** max_j |out − exact| / (scale + tiny); +Infinity when any result is NaN. */
  public static double maxScaledError(float[] out, float[] base, float[][] models, float[] lambdas) {
    if (out.length != base.length) {
      throw new IllegalArgumentException("out has " + out.length + " elements, base " + base.length);
    }
    double[] e = exact(base, models, lambdas);
    double[] s = scale(base, models, lambdas);
    double worst = 0;
    for (int j = 0; j < out.length; j++) {
      double err = Math.abs(out[j] - e[j]) / (s[j] + TINY);
      if (Double.isNaN(err)) return Double.POSITIVE_INFINITY;
      worst = Math.max(worst, err);
    }
    return worst;
  }
}
