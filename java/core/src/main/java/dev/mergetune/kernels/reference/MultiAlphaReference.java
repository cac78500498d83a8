package dev.mergetune.kernels.reference;

/**
 * A plain double-precision K1 (multi-α loss), written from the definitions in multialpha.h, not from the kernels:
 * for each α separately the mixed logits {@code z = s·(A + α·D)·q^(-1/2)}, {@code q = n0 + 2α·n1 + α²·n2} (1 in
 * plain mode), a max-shifted log-softmax, CE with label smoothing or KL to P, batch means; gradients by the chain rule
 * through the logits ({@code ∂ℓ/∂z = p·Σq − q}). For the self-check; small problems.
 */
public final class MultiAlphaReference {
  private MultiAlphaReference() {}

  /** Per-α losses, total, and gradients (gradN* null in plain mode); maxAbsLogit is the error scale of multialpha.h. */
  public record Result(double[] losses, double total, double[] gradA, double[] gradD, double[] gradN0, double[] gradN1,
      double[] gradN2, double maxAbsLogit) {}

  /**
   * @param n0 null in plain mode (then n1, n2 too)
   * @param labels the CE labels, or null with {@code targets} P [B·C] for KL
   */
  public static Result compute(int rows, int classes, float[] a, float[] d, float[] n0, float[] n1, float[] n2,
      int[] labels, float smoothing, float[] targets, float[] alphas, float[] weights, float scale) {
    int bc = rows * classes;
    boolean renorm = n0 != null;
    double[] losses = new double[alphas.length];
    double[] ga = new double[bc];
    double[] gd = new double[bc];
    double[] g0 = renorm ? new double[classes] : null;
    double[] g1 = renorm ? new double[classes] : null;
    double[] g2 = renorm ? new double[classes] : null;
    double total = 0;
    double maxZ = 0;
    double[] z = new double[classes];
    double[] t = new double[classes];
    for (int k = 0; k < alphas.length; k++) {
      double al = alphas[k];
      double sum = 0;
      for (int b = 0; b < rows; b++) {
        double tsum = 0;
        for (int c = 0; c < classes; c++) {
          t[c] = targets != null ? targets[b * classes + c]
              : smoothing / (double) classes + (c == labels[b] ? 1 - (double) smoothing : 0);
          tsum += t[c];
          double q = renorm ? n0[c] + 2 * al * n1[c] + al * al * n2[c] : 1;
          z[c] = scale * (a[b * classes + c] + al * d[b * classes + c]) / Math.sqrt(q);
          maxZ = Math.max(maxZ, Math.abs(z[c]));
        }
        double m = Double.NEGATIVE_INFINITY;
        for (double v : z) m = Math.max(m, v);
        double se = 0;
        for (double v : z) se += Math.exp(v - m);
        double lse = m + Math.log(se);
        double l = 0;
        for (int c = 0; c < classes; c++) {
          double logp = z[c] - lse;
          l += targets != null ? (t[c] > 0 ? t[c] * (Math.log(t[c]) - logp) : 0) : -t[c] * logp;
          double dz = weights[k] / (double) rows * (Math.exp(logp) * tsum - t[c]);
          double q = renorm ? n0[c] + 2 * al * n1[c] + al * al * n2[c] : 1;
          ga[b * classes + c] += dz * scale / Math.sqrt(q);
          gd[b * classes + c] += dz * scale * al / Math.sqrt(q);
          if (renorm) {
            double dq = dz * -0.5 * scale * (a[b * classes + c] + al * d[b * classes + c]) * Math.pow(q, -1.5);
            g0[c] += dq;
            g1[c] += dq * 2 * al;
            g2[c] += dq * al * al;
          }
        }
        sum += l;
      }
      losses[k] = sum / rows;
      total += weights[k] * losses[k];
    }
    return new Result(losses, total, ga, gd, g0, g1, g2, maxZ);
  }
}
