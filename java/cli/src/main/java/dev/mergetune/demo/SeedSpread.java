package dev.mergetune.demo;

import dev.mergetune.eval.Decimals;
import java.util.Locale;

/**
 * The demo's numbers over several seeds: mean and spread of one quantity, and whether a claimed effect (a > b) held.
 * The spread is the sample standard deviation over the seeds (n − 1; 0 for one seed). An effect holds when the mean
 * difference exceeds the run-to-run spread of both quantities compared — {@code mean(a) − mean(b) > max(sd(a), sd(b))}
 * — so an effect the seeds' noise could produce is reported as not holding, whatever its sign.
 */
public final class SeedSpread {
  private SeedSpread() {}

  /** Mean, sample standard deviation, minimum and maximum of one quantity over the seeds. */
  public record Stat(double mean, double sd, double min, double max) {
    public static Stat of(double[] v) {
      if (v.length == 0) throw new IllegalArgumentException("no seeds");
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (double x : v) {
        sum += x;
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
      double mean = sum / v.length;
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      double sd = v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0;
      return new Stat(mean, sd, min, max);
    }

    /** "64.1 ± 1.2". */
    public String text() {
      return Decimals.one(mean) + " ± " + Decimals.one(sd);
    }
  }

  /**
   * A claimed effect {@code a > b} over the seeds: both quantities, their per-seed difference, in how many seeds the
   * difference was positive, and whether the mean difference exceeded the larger of the two spreads.
   */
  public record Effect(String claim, String aName, String bName, Stat a, Stat b, Stat difference, int seedsAhead,
      int seeds, boolean holds) {
    public static Effect of(String claim, String aName, double[] a, String bName, double[] b) {
      if (a.length != b.length) throw new IllegalArgumentException(claim + ": " + a.length + " vs " + b.length + " seeds");
      double[] d = new double[a.length];
      int ahead = 0;
      for (int i = 0; i < a.length; i++) {
        d[i] = a[i] - b[i];
        if (d[i] > 0) ahead++;
      }
      Stat sa = Stat.of(a);
      Stat sb = Stat.of(b);
      Stat sd = Stat.of(d);
      boolean holds = sd.mean() > 0 && sd.mean() > Math.max(sa.sd(), sb.sd());
      return new Effect(claim, aName, bName, sa, sb, sd, ahead, a.length, holds);
    }

    /** The larger of the two quantities' spreads: what the mean difference must exceed. */
    public double spread() {
      return Math.max(a.sd(), b.sd());
    }

    /** One line: claim, both sides, the difference, the seeds ahead and the verdict. */
    public String line() {
      return String.format(Locale.ROOT, "%s: %s %s vs %s %s (difference %s%s, spread %s; ahead in %d of %d seeds): %s",
          claim, aName, a.text(), bName, b.text(), difference.mean() >= 0 ? "+" : "", Decimals.one(difference.mean()),
          Decimals.one(spread()), seedsAhead, seeds, holds ? "holds" : "DOES NOT HOLD");
    }
  }
}
