package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The passes of a TIES merge (kernel K4c), for a parameter set seen whole or one tensor at a time (a streaming
 * merge shows it every tensor in each pass, in the same order).
 *
 * <p>A GLOBAL trim needs statistics over the whole set before anything is written: {@link Pass#HISTOGRAM_HIGH} and
 * {@link Pass#HISTOGRAM_LOW} select each model's threshold exactly (radix selection over the bit patterns of |τ|),
 * {@link Pass#TIE_COUNTS} (TOPK only) counts the elements equal to it tensor by tensor so that exactly k are kept in
 * tensor order, and {@link Pass#CENSUS} (MAJORITY only) counts the elected signs for the zero-sign rule. A PER_TENSOR
 * trim needs none: {@link #plan} selects, and takes the census, on the tensor it is given.
 *
 * <p>Tables passed to one planner must use tensor names consistently (they key the per-tensor statistics).
 */
public final class TiesPlanner {
  /** A statistics pass over the whole parameter set. */
  public enum Pass {
    HISTOGRAM_HIGH,
    HISTOGRAM_LOW,
    TIE_COUNTS,
    CENSUS
  }

  /** What the merge kernel needs for one table: per (model, segment) thresholds and cutoffs, per segment zero signs. */
  public record Plan(int[] thresholds, long[] cutoffs, float[] zeroSigns) {}

  private static final int NONE = MergetuneNative.MT_TIES_KEEP_NONE;

  private final Ties.Options options;
  private final float[] weights;
  private final int models;
  private long total;
  private final long[] high;
  private final long[] low;
  private final long[] rank;
  private final int[] prefix;
  private final int[] threshold;
  private final long[] tiesWanted;
  private final Map<String, long[]> tieCounts = new LinkedHashMap<>();
  private final Map<String, long[]> tiesInTensor = new LinkedHashMap<>();
  private long census;
  private float globalZero = Float.NaN;

  public TiesPlanner(Ties.Options options, float[] weights, int models) {
    this.options = Objects.requireNonNull(options, "options");
    Objects.requireNonNull(weights, "weights");
    if (models < 1) throw new IllegalArgumentException("TIES needs at least one model");
    if (weights.length != models) throw new IllegalArgumentException(weights.length + " weights for " + models + " models");
    for (int i = 0; i < weights.length; i++) {
      if (!Float.isFinite(weights[i])) throw new IllegalArgumentException("weights[" + i + "] is " + weights[i]);
    }
    this.weights = weights.clone();
    this.models = models;
    boolean global = options.scope() == Ties.Scope.GLOBAL;
    high = global ? new long[models * MergetuneNative.MT_TIES_LEVEL0_BINS] : null;
    low = global ? new long[models * MergetuneNative.MT_TIES_LEVEL1_BINS] : null;
    rank = new long[models];
    prefix = new int[models];
    threshold = new int[models];
    tiesWanted = new long[models];
    Arrays.fill(prefix, NONE);
  }

  /** The statistics passes this configuration needs, in order (none for a PER_TENSOR trim). */
  public List<Pass> passes() {
    List<Pass> p = new ArrayList<>();
    if (options.scope() == Ties.Scope.GLOBAL) {
      p.add(Pass.HISTOGRAM_HIGH);
      p.add(Pass.HISTOGRAM_LOW);
      if (options.selection() == Ties.Selection.TOPK) p.add(Pass.TIE_COUNTS);
      if (options.zeroSign() == Ties.ZeroSign.MAJORITY) p.add(Pass.CENSUS);
    }
    return p;
  }

  /** Feeds one table (the whole set, or some of its tensors) to a statistics pass. */
  public void observe(Pass pass, SegmentTable base, List<SegmentTable> modelTables) {
    long[] models = modelAddresses(base, modelTables);
    switch (pass) {
      case HISTOGRAM_HIGH -> {
        total += base.totalElements();
        check(MergetuneNative.mt_ties_histogram_f32(device(base), stream(base), base.size(), base.lengthsArray(),
            base.addressesArray(), this.models, models, 0, null, high, MergetuneNative.MT_CHECK_FINITE), base);
      }
      case HISTOGRAM_LOW -> check(MergetuneNative.mt_ties_histogram_f32(device(base), stream(base), base.size(),
          base.lengthsArray(), base.addressesArray(), this.models, models, 1, prefix, low,
          MergetuneNative.MT_CHECK_FINITE), base);
      case TIE_COUNTS -> {
        int s = base.size();
        long[] counts = new long[this.models * s];
        check(MergetuneNative.mt_ties_tie_cutoffs_f32(device(base), stream(base), s, base.lengthsArray(),
            base.addressesArray(), this.models, models, globalThresholds(s), new long[this.models * s], counts,
            new long[this.models * s], MergetuneNative.MT_CHECK_FINITE), base);
        for (int seg = 0; seg < s; seg++) {
          long[] perModel = new long[this.models];
          for (int i = 0; i < this.models; i++) perModel[i] = counts[i * s + seg];
          if (tieCounts.put(base.name(seg), perModel) != null) {
            throw new IllegalArgumentException("tensor '" + base.name(seg) + "' was shown twice in one TIES pass");
          }
        }
      }
      case CENSUS -> {
        Plan plan = plan(base, modelTables);
        long[] sums = new long[base.size()];
        check(MergetuneNative.mt_ties_sign_census_f32(device(base), stream(base), base.size(), base.lengthsArray(),
            base.addressesArray(), this.models, models, plan.thresholds(), plan.cutoffs(), weights,
            election(), sums, MergetuneNative.MT_CHECK_FINITE), base);
        for (long v : sums) census += v;
      }
    }
  }

  /** Closes a statistics pass (every tensor has been observed). */
  public void endPass(Pass pass) {
    switch (pass) {
      case HISTOGRAM_HIGH -> {
        long k = Ties.keepCount(total, options.density(), options.selection());
        for (int i = 0; i < models; i++) {
          rank[i] = k;
          if (k == 0) {
            threshold[i] = NONE;
          } else if (k >= total) {
            threshold[i] = 0;
          } else {
            long[] hist = Arrays.copyOfRange(high, i * MergetuneNative.MT_TIES_LEVEL0_BINS,
                (i + 1) * MergetuneNative.MT_TIES_LEVEL0_BINS);
            long[] picked = pick(hist, k);
            prefix[i] = (int) picked[0];
            rank[i] = picked[1];
          }
        }
      }
      case HISTOGRAM_LOW -> {
        for (int i = 0; i < models; i++) {
          if (prefix[i] == NONE) continue;
          long[] hist = Arrays.copyOfRange(low, i * MergetuneNative.MT_TIES_LEVEL1_BINS,
              (i + 1) * MergetuneNative.MT_TIES_LEVEL1_BINS);
          long[] picked = pick(hist, rank[i]);
          threshold[i] = (prefix[i] << 16) | (int) picked[0];
          tiesWanted[i] = picked[1];
        }
      }
      case TIE_COUNTS -> {
        // Keep the first tiesWanted[i] elements equal to the threshold in tensor order, then element order.
        long[] remaining = tiesWanted.clone();
        for (Map.Entry<String, long[]> e : tieCounts.entrySet()) {
          long[] want = new long[models];
          for (int i = 0; i < models; i++) {
            want[i] = Math.min(remaining[i], e.getValue()[i]);
            remaining[i] -= want[i];
          }
          tiesInTensor.put(e.getKey(), want);
        }
      }
      case CENSUS -> globalZero = Long.signum(census);
    }
  }

  /** Thresholds, cutoffs and zero signs for one table (after the statistics passes, for GLOBAL). */
  public Plan plan(SegmentTable base, List<SegmentTable> modelTables) {
    long[] models = modelAddresses(base, modelTables);
    int s = base.size();
    long[] lengths = base.lengthsArray();
    int[] thresholds;
    long[] cutoffs = new long[this.models * s];
    if (options.scope() == Ties.Scope.GLOBAL) {
      thresholds = globalThresholds(s);
      boolean partial = false;
      long[] wanted = new long[this.models * s];
      for (int i = 0; i < this.models; i++) {
        for (int seg = 0; seg < s; seg++) {
          int q = i * s + seg;
          cutoffs[q] = thresholds[q] == NONE ? 0 : lengths[seg];
          if (options.selection() == Ties.Selection.TOPK && prefix[i] != NONE) {
            long[] want = tiesInTensor.get(base.name(seg));
            long[] have = tieCounts.get(base.name(seg));
            if (want == null) throw new IllegalStateException("tensor '" + base.name(seg) + "' was not in the tie-count pass");
            wanted[q] = want[i];
            partial |= want[i] < have[i];
          } else {
            wanted[q] = Long.MAX_VALUE;
          }
        }
      }
      if (partial) {
        check(MergetuneNative.mt_ties_tie_cutoffs_f32(device(base), stream(base), s, lengths, base.addressesArray(),
            this.models, models, thresholds, wanted, new long[this.models * s], cutoffs,
            MergetuneNative.MT_CHECK_FINITE), base);
      }
    } else {
      thresholds = new int[this.models * s];
      long[] keep = new long[this.models * s];
      for (int i = 0; i < this.models; i++) {
        for (int seg = 0; seg < s; seg++) keep[i * s + seg] = Ties.keepCount(lengths[seg], options.density(), options.selection());
      }
      int rule = options.selection() == Ties.Selection.TOPK ? MergetuneNative.MT_TIES_TIES_EXACT
          : MergetuneNative.MT_TIES_TIES_KEEP_ALL;
      check(MergetuneNative.mt_ties_trim_per_segment_f32(device(base), stream(base), s, lengths, base.addressesArray(),
          this.models, models, keep, rule, thresholds, cutoffs, MergetuneNative.MT_CHECK_FINITE), base);
    }
    float[] zero = new float[s];
    if (options.zeroSign() == Ties.ZeroSign.POSITIVE) {
      Arrays.fill(zero, 1f);
    } else if (options.scope() == Ties.Scope.GLOBAL) {
      Arrays.fill(zero, Float.isNaN(globalZero) ? 0f : globalZero);  // NaN only during the census pass itself
    } else {
      long[] sums = new long[s];
      check(MergetuneNative.mt_ties_sign_census_f32(device(base), stream(base), s, lengths, base.addressesArray(),
          this.models, models, thresholds, cutoffs, weights, election(), sums, MergetuneNative.MT_CHECK_FINITE), base);
      for (int seg = 0; seg < s; seg++) zero[seg] = Long.signum(sums[seg]);
    }
    return new Plan(thresholds, cutoffs, zero);
  }

  /** out = base + λ·TIES(models − base) under a plan from {@link #plan} for the same table. */
  public void apply(SegmentTable out, SegmentTable base, List<SegmentTable> modelTables, Plan plan, float lambda) {
    if (!Float.isFinite(lambda)) throw new IllegalArgumentException("lambda is " + lambda);
    out.requireSameLayout(base, "out", "base");
    long[] models = modelAddresses(base, modelTables);
    int agg = switch (options.aggregate()) {
      case DISJOINT_MEAN -> MergetuneNative.MT_TIES_DISJOINT_MEAN;
      case DISJOINT_SUM -> MergetuneNative.MT_TIES_DISJOINT_SUM;
      case DISJOINT_MAX -> MergetuneNative.MT_TIES_DISJOINT_MAX;
    };
    check(MergetuneNative.mt_ties_merge_f32(device(base), stream(base), base.size(), base.lengthsArray(),
        out.addressesArray(), base.addressesArray(), this.models, models, plan.thresholds(), plan.cutoffs(), weights,
        election(), plan.zeroSigns(), agg, lambda, MergetuneNative.MT_CHECK_FINITE), base);
  }

  private int[] globalThresholds(int segments) {
    int[] t = new int[models * segments];
    for (int i = 0; i < models; i++) Arrays.fill(t, i * segments, (i + 1) * segments, threshold[i]);
    return t;
  }

  private int election() {
    return options.election() == Ties.Election.COUNT ? MergetuneNative.MT_TIES_ELECT_COUNT
        : MergetuneNative.MT_TIES_ELECT_MASS;
  }

  /** {bin, rank inside it} of the rank-th largest element of a histogram. */
  private static long[] pick(long[] hist, long rank) {
    int[] bin = new int[1];
    long[] inBin = new long[1];
    int status = MergetuneNative.mt_ties_pick_bin(hist, hist.length, rank, bin, inBin);
    if (status != MergetuneNative.MT_OK) {
      throw new IllegalStateException("TIES selection: " + MergetuneNative.mt_last_error());
    }
    return new long[] {bin[0], inBin[0]};
  }

  private long[] modelAddresses(SegmentTable base, List<SegmentTable> modelTables) {
    Objects.requireNonNull(base, "base");
    if (modelTables.size() != models) {
      throw new IllegalArgumentException(modelTables.size() + " model tables for a TIES planner of " + models + " models");
    }
    int s = base.size();
    long[] out = new long[models * s];
    for (int i = 0; i < models; i++) {
      modelTables.get(i).requireSameLayout(base, "model " + i, "base");
      System.arraycopy(modelTables.get(i).addressesArray(), 0, out, i * s, s);
    }
    NativeRuntime.ensureLoaded();
    return out;
  }

  private static int device(SegmentTable t) {
    return t.device().code();
  }

  private static long stream(SegmentTable t) {
    return t.device() == DeviceKind.CUDA && t.tensorBacked() ? CudaStreams.current(t.deviceIndex()) : 0L;
  }

  private static void check(int status, SegmentTable layout) {
    KernelErrors.throwOnFailure(status, layout, "model", "base");
  }
}
