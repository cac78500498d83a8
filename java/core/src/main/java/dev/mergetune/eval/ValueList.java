package dev.mergetune.eval;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The one syntax for a list of numbers, wherever a command or config takes several values (α points, λ sweeps,
 * weights): comma-separated items, each a number or a range {@code start:stop:step} whose stop is included when
 * start + k·step reaches it. Ranges are stepped in exact decimal arithmetic, so {@code 0:1:0.1} is the 11 values
 * 0, 0.1, …, 1 (not 0.30000000000000004); {@code 0.1:0.9:0.2,1} is 0.1, 0.3, 0.5, 0.7, 0.9, 1.
 */
public final class ValueList {
  /** Ranges longer than this are refused (a typo such as {@code 0:1:0.00001} should not run for hours). */
  public static final int MAX_VALUES = 10_000;

  private ValueList() {}

  /**
   * The values of {@code spec}; {@code what} names the option or key in messages ("--alpha", "alphas").
   *
   * @throws IllegalArgumentException naming {@code what} and the item for anything that is not a finite number or a
   *     valid range
   */
  public static double[] parse(String spec, String what) {
    if (spec == null || spec.isBlank()) throw new IllegalArgumentException(what + ": no values given");
    List<Double> out = new ArrayList<>();
    for (String raw : spec.split(",", -1)) {
      String item = raw.strip();
      if (item.isEmpty()) throw new IllegalArgumentException(what + " '" + spec + "': an empty item");
      try {
        if (item.contains(":")) {
          range(item, what, spec, out);
        } else {
          out.add(finite(new BigDecimal(item).doubleValue(), item, what));
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + " '" + spec + "': '" + item
            + "' is not a number or a start:stop:step range");
      }
      if (out.size() > MAX_VALUES) {
        throw new IllegalArgumentException(what + " '" + spec + "': more than " + MAX_VALUES + " values");
      }
    }
    double[] a = new double[out.size()];
    for (int i = 0; i < a.length; i++) a[i] = out.get(i);
    return a;
  }

  /** {@link #parse} of several option occurrences ({@code --alpha 0.1 --alpha 0.5:0.9:0.2}), in order. */
  public static double[] parse(List<String> specs, String what) {
    List<Double> all = new ArrayList<>();
    for (String s : specs) for (double v : parse(s, what)) all.add(v);
    if (all.size() > MAX_VALUES) throw new IllegalArgumentException(what + ": more than " + MAX_VALUES + " values");
    double[] a = new double[all.size()];
    for (int i = 0; i < a.length; i++) a[i] = all.get(i);
    return a;
  }

  private static void range(String item, String what, String spec, List<Double> out) {
    String[] p = item.split(":", -1);
    if (p.length != 3) {
      throw new IllegalArgumentException(what + " '" + spec + "': '" + item + "' is not start:stop:step");
    }
    BigDecimal start = new BigDecimal(p[0].strip());
    BigDecimal stop = new BigDecimal(p[1].strip());
    BigDecimal step = new BigDecimal(p[2].strip());
    if (step.signum() <= 0) throw new IllegalArgumentException(what + " '" + spec + "': the step of " + item + " must be > 0");
    if (stop.compareTo(start) < 0) {
      throw new IllegalArgumentException(what + " '" + spec + "': the stop of " + item + " is below its start");
    }
    BigDecimal count = stop.subtract(start).divide(step, MathContext.DECIMAL64);
    if (count.compareTo(BigDecimal.valueOf(MAX_VALUES)) >= 0) {
      throw new IllegalArgumentException(what + " '" + spec + "': " + item + " has more than " + MAX_VALUES + " values");
    }
    for (BigDecimal a = start; a.compareTo(stop) <= 0; a = a.add(step)) out.add(finite(a.doubleValue(), item, what));
  }

  private static double finite(double v, String item, String what) {
    if (!Double.isFinite(v)) throw new IllegalArgumentException(what + ": " + item + " is not a finite number");
    return v;
  }
}
