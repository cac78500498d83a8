package dev.mergetune.eval;

/**
 * Whether XChart, an optional dependency of mergetune-core, is on the class path. This class names no XChart type, so
 * {@link Report} can ask it safely; only then does it call {@link XChartPlots}, the one class that touches XChart
 * (loading a class that names XChart types fails its verification when XChart is absent).
 */
final class ReportPlots {
  private static final boolean AVAILABLE = probe();

  private ReportPlots() {}

  static boolean available() {
    return AVAILABLE;
  }

  private static boolean probe() {
    try {
      Class.forName("org.knowm.xchart.BitmapEncoder", false, ReportPlots.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
