package dev.mergetune.merge.svd;

/**
 * A double-precision thin SVD by one-sided (Hestenes) Jacobi rotations, for test references only: for A (m×n,
 * m ≥ n; a wide A goes through Aᵀ), rotate column pairs of W = A·V until every pair is orthogonal to 1e-15; then
 * σ_j = ‖W_j‖, U_j = W_j/σ_j (0 where σ_j = 0), sorted by σ descending. A = U·diag(σ)·Vt with r = min(m, n).
 */
final class JacobiSvd {
  final double[][] u;   // m × r
  final double[] s;     // r
  final double[][] vt;  // r × n

  private JacobiSvd(double[][] u, double[] s, double[][] vt) {
    this.u = u;
    this.s = s;
    this.vt = vt;
  }

  static JacobiSvd of(double[][] a) {
    int m = a.length, n = a[0].length;
    if (m < n) {
      JacobiSvd t = of(transpose(a));
      return new JacobiSvd(transpose(t.vt), t.s, transpose(t.u));
    }
    double[][] w = new double[m][];
    for (int i = 0; i < m; i++) w[i] = a[i].clone();
    double[][] v = new double[n][n];
    for (int i = 0; i < n; i++) v[i][i] = 1;
    for (int sweep = 0; sweep < 100; sweep++) {
      boolean rotated = false;
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          double alpha = 0, beta = 0, gamma = 0;
          for (int i = 0; i < m; i++) {
            alpha += w[i][p] * w[i][p];
            beta += w[i][q] * w[i][q];
            gamma += w[i][p] * w[i][q];
          }
          if (gamma == 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
          rotated = true;
          double zeta = (beta - alpha) / (2 * gamma);
          double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          if (zeta == 0) t = 1;
          double c = 1 / Math.sqrt(1 + t * t), sn = c * t;
          for (int i = 0; i < m; i++) {
            double wp = w[i][p], wq = w[i][q];
            w[i][p] = c * wp - sn * wq;
            w[i][q] = sn * wp + c * wq;
          }
          for (int i = 0; i < n; i++) {
            double vp = v[i][p], vq = v[i][q];
            v[i][p] = c * vp - sn * vq;
            v[i][q] = sn * vp + c * vq;
          }
        }
      }
      if (!rotated) break;
    }
    double[] sigma = new double[n];
    for (int j = 0; j < n; j++) {
      double s2 = 0;
      for (int i = 0; i < m; i++) s2 += w[i][j] * w[i][j];
      sigma[j] = Math.sqrt(s2);
    }
    Integer[] order = new Integer[n];
    for (int j = 0; j < n; j++) order[j] = j;
    java.util.Arrays.sort(order, (x, y) -> Double.compare(sigma[y], sigma[x]));
    double[][] u = new double[m][n];
    double[] s = new double[n];
    double[][] vt = new double[n][n];
    for (int k = 0; k < n; k++) {
      int j = order[k];
      s[k] = sigma[j];
      for (int i = 0; i < m; i++) u[i][k] = sigma[j] == 0 ? 0 : w[i][j] / sigma[j];
      for (int i = 0; i < n; i++) vt[k][i] = v[i][j];
    }
    return new JacobiSvd(u, s, vt);
  }

  /** U·Vt of a matrix of full rank min(m, n): its polar (orthogonal) factor. */
  static double[][] polar(double[][] a) {
    JacobiSvd d = of(a);
    for (double x : d.s) if (!(x > 1e-12 * d.s[0])) throw new IllegalArgumentException("rank-deficient: " + x);
    return mul(d.u, d.vt);
  }

  static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) t[j][i] = a[i][j];
    return t;
  }

  static double[][] mul(double[][] a, double[][] b) {
    int m = a.length, k = b.length, n = b[0].length;
    double[][] c = new double[m][n];
    for (int i = 0; i < m; i++) {
      for (int l = 0; l < k; l++) {
        double x = a[i][l];
        if (x == 0) continue;
        for (int j = 0; j < n; j++) c[i][j] += x * b[l][j];
      }
    }
    return c;
  }
}
