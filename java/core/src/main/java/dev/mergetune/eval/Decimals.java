package dev.mergetune.eval;

import java.math.BigDecimal;
import java.util.Locale;

/** Number formatting for reports: accuracies to one decimal as the papers print them, other values compactly. */
public final class Decimals {
  private Decimals() {}

  /** One decimal, rounding half up on the double's exact value ({@code %.1f}); "-0.0" is printed as "0.0". */
  public static String one(double v) {
    String s = String.format(Locale.ROOT, "%.1f", v);
    return s.equals("-0.0") ? "0.0" : s;
  }

  /** A loss: four significant digits. */
  public static String loss(double v) {
    return new BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
  }

  /** An α: six significant digits, trailing zeros dropped ({@code 0.1}, {@code 1}, {@code -0.25}). */
  public static String alpha(double v) {
    return number(v);
  }

  /**
   * A setting for people (λ, β, τ, a learning rate): six significant digits, trailing zeros dropped, plain
   * notation down to 1e-4 and scientific below ({@code 10}, {@code 0.3}, {@code 2e-05}); NaN and infinities as Java
   * prints them.
   */
  public static String number(double v) {
    if (!Double.isFinite(v)) return Double.toString(v);
    if (v == 0) return "0";
    if (Math.abs(v) < 1e-4) return String.format(Locale.ROOT, "%.5g", v).replaceAll("\\.?0+e", "e");
    return new BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
  }
}
