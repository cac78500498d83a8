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
  static String loss(double v) {
    return new BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
  }

  /** An α: six significant digits, trailing zeros dropped ({@code 0.1}, {@code 1}, {@code -0.25}). */
  static String alpha(double v) {
    return new BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
  }
}
