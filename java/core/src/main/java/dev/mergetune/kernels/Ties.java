package dev.mergetune.kernels;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * K4c: TIES merging — trim each task vector to its largest-magnitude entries, elect a sign per element, and average
 * (or sum) the entries that agree with it:
 *
 * <pre>  out = base + λ · disjoint_agg{ w_i·τ̂_i : sign(w_i·τ̂_i) = elected sign }</pre>
 *
 * Three incompatible variants are in circulation; each is a named preset of {@link Options}:
 *
 * <ul>
 *   <li>{@link Options#paper()} — the official TIES-Merging code: trim <b>globally</b> per model, threshold from
 *       {@code kthvalue(n − int(n·density))} with every element at or above it kept (so int(n·density)+1 or more
 *       elements survive, ties included), sign by mass, a zero mass takes the majority elected sign of the whole
 *       parameter set, disjoint <b>mean</b>, λ = 1 (the paper tunes λ in 0.8–2.5; density 0.2).
 *   <li>{@link Options#fusionbench()} — FusionBench's CLIP numbers: the same trim and election, disjoint
 *       <b>sum</b>, λ = 0.3, density 0.2.
 *   <li>{@link Options#mergekit()} — mergekit's {@code ties}: trim <b>per tensor</b> keeping exactly
 *       int(n·density) (lower indices first among equal magnitudes; mergekit's order there is torch.topk's,
 *       unspecified, and it refuses a tensor where that count is 0 — here such a tensor keeps nothing), sign
 *       elected on the weighted deltas with zero → +1, Σ w_i m_i τ̂_i / Σ w_i m_i, λ = 1.
 * </ul>
 *
 * The default of {@code mergetune merge --method ties} is {@code paper}. Weights multiply the trimmed deltas before
 * the election (mergekit's rule; the paper has none, i.e. all 1), and the disjoint mean divides by the sum of the
 * agreeing models' weights (their count when the weights are 1).
 */
public final class Ties {
  private Ties() {}

  /** Over what the top-density fraction is counted: each model's whole parameter set, or each tensor. */
  public enum Scope {
    GLOBAL,
    PER_TENSOR
  }

  /** How the kept count and ties at the threshold are decided. */
  public enum Selection {
    /** The TIES reference: keep |x| ≥ kthvalue(n − int(n·d)) (clamped to ≥ 1), every tie at the threshold kept. */
    KTHVALUE,
    /** mergekit: keep exactly int(n·d), lower indices first among equal magnitudes. */
    TOPK
  }

  public enum Election {
    /** Sign of Σ w_i τ̂_i. */
    MASS,
    /** Sign of Σ sign(w_i τ̂_i). */
    COUNT
  }

  /** The sign of an element whose election score is exactly 0. */
  public enum ZeroSign {
    /**
     * The majority elected sign over the trim scope (the whole parameter set for GLOBAL, the tensor for
     * PER_TENSOR), as the reference's {@code resolve_zero_signs(…, "majority")}; where that majority is itself 0,
     * the negative entries are taken (the reference's {@code torch.where(sign > 0, τ > 0, τ < 0)}).
     */
    MAJORITY,
    /** +1 (mergekit: {@code sign_weight >= 0}). */
    POSITIVE
  }

  public enum Aggregate {
    /** Σ of the agreeing entries / Σ of their weights (their count with unit weights). */
    DISJOINT_MEAN,
    /** Σ of the agreeing entries. */
    DISJOINT_SUM,
    /**
     * The elected sign times the largest magnitude among the agreeing entries: the official TIES code's
     * {@code dis-max} ({@code src/utils/merge_utils.py}, {@code disjoint_merge}); 0 where none agrees, and 0 where
     * the elected sign is itself 0 (a zero majority), as that code multiplies by it.
     */
    DISJOINT_MAX
  }

  /** An immutable TIES configuration; start from a preset and change what differs with the {@code with…} methods. */
  public record Options(String preset, double density, Scope scope, Selection selection, Election election,
      ZeroSign zeroSign, Aggregate aggregate, float lambda) {
    public Options {
      Objects.requireNonNull(preset, "preset");
      Objects.requireNonNull(scope, "scope");
      Objects.requireNonNull(selection, "selection");
      Objects.requireNonNull(election, "election");
      Objects.requireNonNull(zeroSign, "zeroSign");
      Objects.requireNonNull(aggregate, "aggregate");
      if (!(density >= 0.0 && density <= 1.0)) {
        throw new IllegalArgumentException("TIES density (fraction of each task vector kept) must be in [0, 1], got " + density);
      }
      if (!Float.isFinite(lambda)) throw new IllegalArgumentException("TIES lambda must be finite, got " + lambda);
    }

    public static Options paper() {
      return new Options("paper", 0.2, Scope.GLOBAL, Selection.KTHVALUE, Election.MASS, ZeroSign.MAJORITY,
          Aggregate.DISJOINT_MEAN, 1.0f);
    }

    public static Options fusionbench() {
      return new Options("fusionbench", 0.2, Scope.GLOBAL, Selection.KTHVALUE, Election.MASS, ZeroSign.MAJORITY,
          Aggregate.DISJOINT_SUM, 0.3f);
    }

    public static Options mergekit() {
      return new Options("mergekit", 0.2, Scope.PER_TENSOR, Selection.TOPK, Election.MASS, ZeroSign.POSITIVE,
          Aggregate.DISJOINT_MEAN, 1.0f);
    }

    /** {@code paper}, {@code fusionbench} or {@code mergekit}. */
    public static Options preset(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "paper" -> paper();
        case "fusionbench" -> fusionbench();
        case "mergekit" -> mergekit();
        default -> throw new IllegalArgumentException("unknown TIES preset '" + name + "' (paper, fusionbench, mergekit)");
      };
    }

    public Options withDensity(double d) {
      return new Options(preset, d, scope, selection, election, zeroSign, aggregate, lambda);
    }

    public Options withScope(Scope s) {
      return new Options(preset, density, s, selection, election, zeroSign, aggregate, lambda);
    }

    public Options withSelection(Selection s) {
      return new Options(preset, density, scope, s, election, zeroSign, aggregate, lambda);
    }

    public Options withElection(Election e) {
      return new Options(preset, density, scope, selection, e, zeroSign, aggregate, lambda);
    }

    public Options withZeroSign(ZeroSign z) {
      return new Options(preset, density, scope, selection, election, z, aggregate, lambda);
    }

    public Options withAggregate(Aggregate a) {
      return new Options(preset, density, scope, selection, election, zeroSign, a, lambda);
    }

    public Options withLambda(float l) {
      return new Options(preset, density, scope, selection, election, zeroSign, aggregate, l);
    }
  }

  /**
   * How many of n elements the trim keeps by rank (density ≥ 1 keeps all). KTHVALUE: the reference thresholds at
   * the (n − int(n·d))-th smallest, clamped to ≥ 1, i.e. the (int(n·d) + 1)-th largest, at most n; TOPK: int(n·d).
   * int() truncates, as Python's does for the positive product.
   */
  public static long keepCount(long n, double density, Selection selection) {
    if (n == 0) return 0;
    if (density >= 1.0) return n;
    long k = (long) Math.floor(n * density);
    return selection == Selection.KTHVALUE ? Math.min(n, k + 1) : k;
  }

  /**
   * TIES over a whole in-memory parameter set: out = base + λ·merge of (models − base). All tables on one device
   * with the same layout; out may be base itself. NaN/Inf anywhere is reported with the model and tensor.
   */
  public static void merge(SegmentTable out, SegmentTable base, List<SegmentTable> models, float[] weights,
      Options options) {
    Objects.requireNonNull(out, "out");
    TiesPlanner planner = new TiesPlanner(options, weights, models.size());
    for (TiesPlanner.Pass pass : planner.passes()) {
      planner.observe(pass, base, models);
      planner.endPass(pass);
    }
    planner.apply(out, base, models, planner.plan(base, models), options.lambda());
  }
}
