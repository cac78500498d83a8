package dev.mergetune.world;

/**
 * Whether a point lies inside a shape, in the shape's own unit frame: (u, v) relative to its centre, divided by its
 * radius, after undoing its rotation (v points down, as image rows do). Every shape fits in the unit disc.
 */
final class ShapeGeometry {
  private ShapeGeometry() {}

  private static final double[][] TRIANGLE = regular(3, 1.0, -Math.PI / 2);
  private static final double[][] DIAMOND = regular(4, 1.0, -Math.PI / 2);
  private static final double[][] STAR = star(5, 1.0, 0.42);

  static boolean inside(String shape, double u, double v) {
    switch (shape) {
      case "circle":
        return u * u + v * v <= 0.85 * 0.85;
      case "square":
        return Math.abs(u) <= 0.68 && Math.abs(v) <= 0.68;
      case "triangle":
        return inPolygon(TRIANGLE, u, v + 0.15);  // centred on the triangle's middle, not its circumcentre
      case "star":
        return inPolygon(STAR, u, v);
      case "cross":
        return (Math.abs(u) <= 0.28 && Math.abs(v) <= 0.92) || (Math.abs(v) <= 0.28 && Math.abs(u) <= 0.92);
      case "ring": {
        double r2 = u * u + v * v;
        return r2 <= 0.9 * 0.9 && r2 >= 0.55 * 0.55;
      }
      case "diamond":
        return inPolygon(DIAMOND, u * 1.25, v);  // a rhombus, narrower than tall, unlike a rotated square
      case "moon": {  // a crescent: a disc with an offset disc cut out
        double du = u - 0.38;
        double dv = v + 0.12;
        return u * u + v * v <= 0.88 * 0.88 && du * du + dv * dv > 0.68 * 0.68;
      }
      default:
        throw new IllegalArgumentException("unknown shape '" + shape + "'");
    }
  }

  private static double[][] regular(int n, double r, double start) {
    double[][] p = new double[n][];
    for (int i = 0; i < n; i++) {
      double a = start + 2 * Math.PI * i / n;
      p[i] = new double[] {r * Math.cos(a), r * Math.sin(a)};
    }
    return p;
  }

  private static double[][] star(int points, double outer, double inner) {
    double[][] p = new double[2 * points][];
    for (int i = 0; i < 2 * points; i++) {
      double a = -Math.PI / 2 + Math.PI * i / points;
      double r = i % 2 == 0 ? outer : inner;
      p[i] = new double[] {r * Math.cos(a), r * Math.sin(a)};
    }
    return p;
  }

  /** Even-odd rule (crossings of a ray towards +u). */
  private static boolean inPolygon(double[][] poly, double u, double v) {
    boolean in = false;
    for (int i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      double ui = poly[i][0], vi = poly[i][1], uj = poly[j][0], vj = poly[j][1];
      if ((vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui) in = !in;
    }
    return in;
  }
}
