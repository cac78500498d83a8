package dev.mergetune.reproduce;

import java.util.List;

/** Mean and spread over seeds: the sample standard deviation (n − 1), NaN for a single seed. */
record Stats(double mean, double sd, int n) {
  static Stats of(List<Double> values) {
    int n = values.size();
    double m = 0;
    for (double v : values) m += v;
    m /= n;
    if (n < 2) return new Stats(m, Double.NaN, n);
    double ss = 0;
    for (double v : values) ss += (v - m) * (v - m);
    return new Stats(m, Math.sqrt(ss / (n - 1)), n);
  }

  String format() {
    return Double.isNaN(sd) ? String.format(java.util.Locale.ROOT, "%.2f", mean)
        : String.format(java.util.Locale.ROOT, "%.2f ± %.2f", mean, sd);
  }
}
