package dev.mergetune.eval;

import java.util.List;

/**
 * The colour scale of MTIL heat maps, [lo, hi]: the smallest and largest entry of the matrices rounded outwards to
 * integers. One report gives all its heat maps the scale covering all of them, so that maps shown side by side
 * (ConDU beside sequential fine-tuning) read the same colour as the same accuracy. No XChart here (see ReportPlots).
 */
final class HeatMapScale {
  private HeatMapScale() {}

  static double[] covering(List<AccuracyMatrix> matrices) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (AccuracyMatrix m : matrices) {
      for (int s = 0; s < m.size(); s++) {
        for (int d = 0; d < m.size(); d++) {
          min = Math.min(min, m.get(s, d));
          max = Math.max(max, m.get(s, d));
        }
      }
    }
    double lo = Math.floor(min);
    double hi = Math.ceil(max);
    return new double[] {lo, hi <= lo ? lo + 1 : hi};
  }
}
