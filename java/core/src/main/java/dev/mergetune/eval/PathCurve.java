package dev.mergetune.eval;

import java.util.List;

/**
 * One named curve along the straight path between two parameter sets, θ(α) = (1 − α)·θa + α·θb: a value (a loss, or
 * an accuracy in percent) at each α. The α values must be finite and strictly increasing (they need not lie in
 * [0, 1]: extrapolation is allowed), at least two; the values finite, one per α.
 */
public record PathCurve(String name, Quantity quantity, double[] alphas, double[] values) {
  /** What a curve measures, which decides its axis in the path plot. */
  public enum Quantity {
    LOSS("loss"),
    ACCURACY("accuracy (%)");

    private final String axisTitle;

    Quantity(String axisTitle) {
      this.axisTitle = axisTitle;
    }

    public String axisTitle() {
      return axisTitle;
    }
  }

  public PathCurve {
    if (name == null || name.isBlank()) throw new IllegalArgumentException("a path curve needs a name");
    name = name.strip();
    if (quantity == null) throw new IllegalArgumentException(name + ": the quantity (loss or accuracy) is required");
    if (alphas.length != values.length) {
      throw new IllegalArgumentException(name + ": " + alphas.length + " alphas but " + values.length + " values");
    }
    if (alphas.length < 2) throw new IllegalArgumentException(name + ": a path needs at least 2 points");
    alphas = alphas.clone();
    values = values.clone();
    for (int i = 0; i < alphas.length; i++) {
      if (!Double.isFinite(alphas[i])) throw new IllegalArgumentException(name + ": alpha " + i + " is " + alphas[i]);
      if (!Double.isFinite(values[i])) {
        throw new IllegalArgumentException(name + ": the value at alpha " + alphas[i] + " is " + values[i]);
      }
      if (i > 0 && alphas[i] <= alphas[i - 1]) {
        throw new IllegalArgumentException(name + ": alphas must increase strictly, but " + alphas[i] + " follows "
            + alphas[i - 1]);
      }
    }
  }

  /** A curve from lists, as a caller that swept α collects them. */
  public static PathCurve of(String name, Quantity quantity, List<Double> alphas, List<Double> values) {
    return new PathCurve(name, quantity, alphas.stream().mapToDouble(Double::doubleValue).toArray(),
        values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  @Override
  public double[] alphas() {
    return alphas.clone();
  }

  @Override
  public double[] values() {
    return values.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PathCurve p && name.equals(p.name) && quantity == p.quantity
        && java.util.Arrays.equals(alphas, p.alphas) && java.util.Arrays.equals(values, p.values);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(name, quantity, java.util.Arrays.hashCode(alphas), java.util.Arrays.hashCode(values));
  }

  @Override
  public String toString() {
    return "PathCurve[" + name + ", " + quantity + ", " + alphas.length + " points]";
  }
}
