package dev.mergetune.tune;

import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.WeightInterpolation;
import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.TrainableMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MergeTune's paper form in weight space (methods.md §1.1), around any {@link TrainableMethod} whose trainable tensors
 * are the weights w (a linear probe's head, every parameter of an end-to-end fine-tuned CLIP):
 *
 * <pre>
 *   L(w) = L2(w) + β · Σ_k ω_k · L2(ŵ2 + α_k (w − ŵ2))        (+ the anchor (λ/2)‖w − ŵ1‖², in the optimizer step)
 * </pre>
 *
 * For each α_k the weights are moved in place to the interpolated point by the K5 kernel, the inner loss is run
 * forward and backward there, and K5 adds α_k·ω_k times that gradient into an accumulator; then w is put back, the
 * accumulator becomes w's gradient and the inner loss at w is returned, so the loop's backward pass adds ∇L2(w) on
 * top. The returned loss's value is L2(w) plus the path term (a constant shift). The anchor is folded into the
 * optimizer step by {@link AnchoredOptimizer} (kernel K2). Memory: two copies of w (the saved w and the
 * accumulator) besides ŵ2.
 *
 * <p>Two estimators of the path term ({@link Estimator}): {@code EXACT} evaluates every α_k on the whole batch
 * B (N_α + 1 forward/backward passes of the model per step); {@code BATCH_SPLIT} gives each α_k its own slice S_k of
 * a random partition of B into N_α near-equal disjoint slices and evaluates L2(ŵ2 + α_k(w − ŵ2); S_k) there, so the
 * path term costs one pass over B in total (two per step). Because L2 is a mean over the batch's items and S_k is a
 * uniformly random subset of B of its size, E_partition[L2(w_k; S_k)] = L2(w_k; B): the estimator is unbiased for
 * the exact per-point objective (value and gradient), at a variance that grows as the slices shrink. The partition
 * is drawn from (epoch, batch) alone, so a resumed run draws the same; it needs B ≥ N_α, and a single process (the
 * slices of a data-parallel shard would not partition the global batch).
 */
public final class WeightSpaceMergeTune implements TrainableMethod, ShardedValidation {
  private static final Logger LOG = LoggerFactory.getLogger(WeightSpaceMergeTune.class);

  private final TrainableMethod inner;
  private final List<String> names;
  private final List<Tensor> params;
  private final SegmentTable paramTable;
  private final List<Tensor> w2Tensors;
  private final SegmentTable w2Table;
  private final List<Tensor> saved;
  private final SegmentTable savedTable;
  private final List<Tensor> accumulator;
  private final SegmentTable accumulatorTable;
  private final double beta;
  private final AlphaPoints alphas;
  private final Estimator estimator;
  private double lastPath;

  /** How the path term's expectation over α is estimated at each step. */
  public enum Estimator {
    /** Every α point on the whole batch: N_α + 1 passes per step. */
    EXACT("exact"),
    /** Each α point on its own disjoint slice of the batch: 2 passes per step, unbiased for EXACT. */
    BATCH_SPLIT("batch-split");

    private final String id;

    Estimator(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }

    /** The estimator named {@code id} ("exact" | "batch-split"), else an error listing both. */
    public static Estimator of(String id) {
      for (Estimator e : values()) if (e.id.equals(id)) return e;
      throw new IllegalArgumentException("unknown path estimator '" + id + "' (exact, batch-split)");
    }
  }

  /** @param w2 ŵ2, by the inner method's trainable names (copied) */
  public WeightSpaceMergeTune(TrainableMethod inner, Map<String, Tensor> w2, double beta, AlphaPoints alphas) {
    this(inner, w2, beta, alphas, Estimator.EXACT);
  }

  /** @param w2 ŵ2, by the inner method's trainable names (copied) */
  public WeightSpaceMergeTune(TrainableMethod inner, Map<String, Tensor> w2, double beta, AlphaPoints alphas,
      Estimator estimator) {
    if (!(beta >= 0)) throw new IllegalArgumentException("beta must be non-negative, got " + beta);
    this.inner = inner;
    this.names = new ArrayList<>(inner.trainable().keySet());
    this.params = new ArrayList<>(inner.trainable().values());
    if (!w2.keySet().equals(inner.trainable().keySet())) {
      throw new IllegalArgumentException("the fine-tuned weights hold " + w2.keySet() + ", the method trains " + names);
    }
    this.paramTable = SegmentTable.ofTensors(names, params);
    List<Tensor> w2copy = new ArrayList<>();
    this.saved = new ArrayList<>();
    this.accumulator = new ArrayList<>();
    try (NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < names.size(); i++) {
        Tensor p = params.get(i);
        Tensor t = w2.get(names.get(i));
        if (!java.util.Arrays.equals(t.sizes().vec().get(), p.sizes().vec().get())) {
          throw new IllegalArgumentException("'" + names.get(i) + "': fine-tuned shape differs from the method's");
        }
        w2copy.add(t.detach().to(torch.ScalarType.Float).contiguous().clone());
        saved.add(torch.empty_like(p));
        accumulator.add(torch.zeros_like(p));
      }
    }
    this.w2Tensors = w2copy;
    this.w2Table = SegmentTable.ofTensors(names, w2copy);
    this.savedTable = SegmentTable.ofTensors(names, saved);
    this.accumulatorTable = SegmentTable.ofTensors(names, accumulator);
    this.beta = beta;
    this.alphas = alphas;
    this.estimator = estimator;
    LOG.debug("MergeTune (weight space): beta {}, alpha {}, {} estimator, over {} tensors", beta, alphas,
        estimator.id(), names.size());
  }

  /** w = (1 − τ)·ŵ1 + τ·ŵ2, in place (the paper's start; τ = 1 starts at the fine-tuned weights). */
  public void startAt(Map<String, Tensor> w1, double tau) {
    if (!(tau >= 0 && tau <= 1)) throw new IllegalArgumentException("tau must be in [0, 1], got " + tau);
    try (NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < names.size(); i++) {
        Tensor a = w1.get(names.get(i));
        if (a == null) throw new IllegalArgumentException("the zero-shot weights lack '" + names.get(i) + "'");
        params.get(i).copy_(a.mul(new Scalar(1 - tau)).add(w2Tensors.get(i).mul(new Scalar(tau))));
      }
    }
  }

  public TrainableMethod inner() {
    return inner;
  }

  /** The path term of the last loss (β Σ ω_k L2 at the interpolated points). */
  public double lastPathTerm() {
    return lastPath;
  }

  @Override
  public Map<String, Tensor> trainable() {
    return inner.trainable();
  }

  @Override
  public int trainSize() {
    return inner.trainSize();
  }

  @Override
  public Tensor loss(int[] batch, long epoch) {
    return loss(batch, batch, epoch);
  }

  /**
   * The α points are drawn from the global batch (the same on every rank); the inner losses are over the shard. The
   * inner backward passes at the α points are local: the gradient averaged across ranks is the parameters' whole
   * gradient after the loop's backward of the returned loss.
   */
  @Override
  public Tensor loss(int[] batch, int[] globalBatch, long epoch) {
    if (beta == 0) return inner.loss(batch, globalBatch, epoch);
    double[] a = alphas.alphas(epoch, globalBatch);
    int[][] slices = null;
    if (estimator == Estimator.BATCH_SPLIT) {
      if (!java.util.Arrays.equals(batch, globalBatch)) {
        throw new IllegalStateException("the batch-split path estimator runs in one process only; use the exact one"
            + " with data parallelism");
      }
      slices = slices(batch, a.length, epoch);
    }
    return lossWithSlices(batch, globalBatch, epoch, a, slices);
  }

  /**
   * A random partition of {@code batch} into {@code n} disjoint slices of near-equal sizes (the first B mod n
   * one larger), from a Fisher–Yates shuffle seeded by (epoch, batch): every ordered partition with those sizes is
   * equally likely.
   */
  static int[][] slices(int[] batch, int n, long epoch) {
    if (batch.length < n) {
      throw new IllegalArgumentException("the batch-split path estimator needs a batch of at least N_alpha = " + n
          + " items, got " + batch.length + " (raise --batch or use --path-estimator exact)");
    }
    int[] perm = batch.clone();
    dev.mergetune.data.SplitMix64 rng = new dev.mergetune.data.SplitMix64(
        0x5851F42D4C957F2DL ^ (epoch * 0x9E3779B97F4A7C15L) ^ java.util.Arrays.hashCode(batch) * 0xC2B2AE3D27D4EB4FL);
    for (int i = perm.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[][] out = new int[n][];
    int from = 0;
    for (int k = 0; k < n; k++) {
      int size = batch.length / n + (k < batch.length % n ? 1 : 0);
      out[k] = java.util.Arrays.copyOfRange(perm, from, from + size);
      from += size;
    }
    return out;
  }

  /** The loss with α point k on {@code slices[k]} (null: every point on the whole batch). */
  Tensor lossWithSlices(int[] batch, int[] globalBatch, long epoch, double[] a, int[][] slices) {
    double[] om = alphas.weights();
    try (NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < params.size(); i++) {
        saved.get(i).copy_(params.get(i));
        accumulator.get(i).zero_();
      }
    }
    double path = 0;
    try {
      for (int k = 0; k < a.length; k++) {
        WeightInterpolation.interpolate(savedTable, w2Table, (float) a[k], paramTable);
        for (Tensor p : params) clearGrad(p);
        Tensor lk = slices == null ? inner.loss(batch, globalBatch, epoch) : inner.loss(slices[k], slices[k], epoch);
        lk.backward();
        path += beta * om[k] * lk.item_double();
        WeightInterpolation.accumulateGradient(accumulatorTable, gradients(), (float) a[k], (float) (beta * om[k]));
      }
    } finally {
      try (NoGradGuard g = new NoGradGuard()) {
        for (int i = 0; i < params.size(); i++) params.get(i).copy_(saved.get(i));
      }
    }
    try (NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < params.size(); i++) params.get(i).grad().copy_(accumulator.get(i));
    }
    lastPath = path;
    return inner.loss(batch, globalBatch, epoch).add(new Scalar(path));
  }

  private SegmentTable gradients() {
    List<Tensor> grads = new ArrayList<>(params.size());
    for (int i = 0; i < params.size(); i++) {
      Tensor gr = params.get(i).grad();
      if (!gr.defined()) throw new IllegalStateException("'" + names.get(i) + "' got no gradient from the loss");
      grads.add(gr);
    }
    return SegmentTable.ofTensors(names, grads);
  }

  private static void clearGrad(Tensor p) {
    Tensor gr = p.grad();
    if (gr.defined()) {
      try (NoGradGuard g = new NoGradGuard()) {
        gr.zero_();
      }
    }
  }

  @Override
  public double evaluate() {
    return inner.evaluate();
  }

  @Override
  public int validationSize() {
    return inner instanceof ShardedValidation v ? v.validationSize() : 0;
  }

  @Override
  public long correct(int from, int to) {
    return ((ShardedValidation) inner).correct(from, to);
  }

  @Override
  public int validationBatch() {
    return ((ShardedValidation) inner).validationBatch();
  }
}
