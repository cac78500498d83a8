package dev.mergetune.merge.svd;

/**
 * TSV-M, Iso-C and Iso-CTS for one m×n layer in double precision on {@link JacobiSvd}, written from the papers'
 * definitions in the form that needs no zero padding: the concatenated bases hold only the chosen columns
 * (T·k for TSV-M; r for Iso-CTS), so the polar factors are of full-rank matrices and unique. Each call also
 * records the smallest relative singular-value gap at a truncation point (σ_k − σ_{k+1})/σ_1, which bounds how
 * far a float32 SVD's choice of subspace can move.
 */
final class SpectralReference {
  double minGap = Double.POSITIVE_INFINITY;

  /** Δ of TSV-M: polar([U_i[:, :k]]) · diag([S_i[:k]]) · polar([Vt_i[:k, :]]), k = ⌊r/T⌋ (0: Δ = 0). */
  double[][] tsvM(double[][][] taus) {
    int t = taus.length, m = taus[0].length, n = taus[0][0].length, r = Math.min(m, n), k = r / t;
    if (k == 0) return new double[m][n];
    double[][] bu = new double[m][t * k];
    double[] s = new double[t * k];
    double[][] bv = new double[t * k][n];
    for (int i = 0; i < t; i++) {
      JacobiSvd d = JacobiSvd.of(taus[i]);
      gap(d.s, k);
      for (int j = 0; j < k; j++) {
        for (int a = 0; a < m; a++) bu[a][i * k + j] = d.u[a][j];
        s[i * k + j] = d.s[j];
        bv[i * k + j] = d.vt[j].clone();
      }
    }
    return scaledProduct(JacobiSvd.polar(bu), s, wide(bv));
  }

  /** Δ of Iso-C: mean(σ(Σ τ_i)) · U·Vt of svd(Σ τ_i). */
  double[][] isoC(double[][][] taus) {
    JacobiSvd d = JacobiSvd.of(sum(taus));
    double mean = 0;
    for (double x : d.s) mean += x / d.s.length;
    double[] s = new double[d.s.length];
    java.util.Arrays.fill(s, mean);
    return scaledProduct(d.u, s, d.vt);
  }

  /** Δ of Iso-CTS with common subspace c and d = (r − c)/T directions per task. */
  double[][] isoCts(double[][][] taus, int c) {
    int t = taus.length, m = taus[0].length, n = taus[0][0].length, r = Math.min(m, n), dd = (r - c) / t;
    JacobiSvd common = JacobiSvd.of(sum(taus));
    if (c < r) gap(common.s, c);
    double[][] uc = new double[m][c];
    for (int a = 0; a < m; a++) for (int j = 0; j < c; j++) uc[a][j] = common.u[a][j];
    double[][] projector = JacobiSvd.mul(uc, JacobiSvd.transpose(uc));
    double[][] bu = new double[m][r];
    double[] s = new double[r];
    double[][] bv = new double[r][];
    for (int i = 0; i < t; i++) {
      double[][] p = JacobiSvd.mul(projector, taus[i]);
      double[][] specific = new double[m][n];
      for (int a = 0; a < m; a++) for (int b = 0; b < n; b++) specific[a][b] = taus[i][a][b] - p[a][b];
      JacobiSvd d = JacobiSvd.of(specific);
      if (dd > 0) gap(d.s, dd);
      for (int j = 0; j < dd; j++) {
        for (int a = 0; a < m; a++) bu[a][i * dd + j] = d.u[a][j];
        s[i * dd + j] = d.s[j];
        bv[i * dd + j] = d.vt[j].clone();
      }
    }
    for (int j = 0; j < c; j++) {
      for (int a = 0; a < m; a++) bu[a][t * dd + j] = common.u[a][j];
      s[t * dd + j] = common.s[j];
      bv[t * dd + j] = common.vt[j].clone();
    }
    double mean = 0;
    for (double x : s) mean += x / r;
    java.util.Arrays.fill(s, mean);
    return scaledProduct(JacobiSvd.polar(bu), s, wide(bv));
  }

  /** polar of a wide matrix (rows orthonormalised): polar(Aᵀ)ᵀ. */
  private static double[][] wide(double[][] a) {
    return JacobiSvd.transpose(JacobiSvd.polar(JacobiSvd.transpose(a)));
  }

  private void gap(double[] s, int k) {
    if (k < s.length) minGap = Math.min(minGap, (s[k - 1] - s[k]) / s[0]);
  }

  static double[][] sum(double[][][] taus) {
    int m = taus[0].length, n = taus[0][0].length;
    double[][] out = new double[m][n];
    for (double[][] tau : taus) for (int a = 0; a < m; a++) for (int b = 0; b < n; b++) out[a][b] += tau[a][b];
    return out;
  }

  private static double[][] scaledProduct(double[][] u, double[] s, double[][] vt) {
    double[][] us = new double[u.length][s.length];
    for (int a = 0; a < u.length; a++) for (int j = 0; j < s.length; j++) us[a][j] = u[a][j] * s[j];
    return JacobiSvd.mul(us, vt);
  }
}
