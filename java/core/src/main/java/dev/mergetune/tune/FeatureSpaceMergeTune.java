package dev.mergetune.tune;

import dev.mergetune.adapt.CachedCoopMethod;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.TrainFeatures;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.ZeroShotAnchor;
import dev.mergetune.train.Losses;
import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.TrainableMethod;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MergeTune's reference-code form for CoOp and KgCoOp (methods.md §1.2) as a {@link TrainableMethod}: the prompt
 * context w continues from the stage-1 context ŵ2 (τ = 1) with
 *
 * <pre>
 *   L = CE_ε(s·v̂·normalize(F(w))ᵀ, y)  +  λ·[1 − (1/C) Σ_c cos(F_c(w), z_c)]  +  β·Σ_k ω_k CE_ε(s·v̂·normalize(g + α_k(F(w) − g))ᵀ, y)
 * </pre>
 *
 * on image features v̂ of the frozen encoder ({@link TrainFeatures}: cached views, or fresh crops encoded once per step
 * without autograd — never N + 1 times per step as the reference code does), with
 * g = F(ŵ2) and z (the normalised template features) computed once, and F(w) computed by one text-encoder pass per
 * step (the reference code runs it three times). The path term is a {@link PathLoss}: {@link NaivePathLoss} (and
 * the anchor in LibTorch ops) or {@link FusedPathLoss}, the K1 kernel (and the anchor by K2's feature-space kernel).
 */
public final class FeatureSpaceMergeTune implements TrainableMethod, ShardedValidation {
  private static final Logger LOG = LoggerFactory.getLogger(FeatureSpaceMergeTune.class);

  private final CoopPromptLearner learner;
  private final TrainFeatures train;
  private final CachedFeatures validation;
  private final Tensor g;  // [C, D] F(ŵ2), unnormalised
  private final Tensor z;  // [C, D] normalised template features
  private final double lambda;
  private final double beta;
  private final AlphaPoints alphas;
  private final PathLoss path;
  private final double smoothing;
  private double[] lastTerms = new double[3];

  /**
   * @param learner its context is w, already set to its starting value; g is computed from it here (so build this
   *     method while the context still holds ŵ2, then set τ with {@link #startAt})
   * @param z the normalised template features [C, D] (e.g. {@code CachedCoopMethod.templateFeatures})
   */
  public FeatureSpaceMergeTune(CoopPromptLearner learner, Tensor z, TrainFeatures train, CachedFeatures validation,
      double lambda, double beta, AlphaPoints alphas, PathLoss path, double smoothing) {
    if (!(lambda >= 0) || !(beta >= 0)) throw new IllegalArgumentException("lambda and beta must be non-negative");
    if (z.size(0) != learner.classCount()) throw new IllegalArgumentException("one template feature per class needed");
    this.learner = learner;
    this.train = train;
    this.validation = validation;
    try (NoGradGuard ng = new NoGradGuard()) {
      this.g = learner.textFeatures().detach().clone();
    }
    this.z = z;
    this.lambda = lambda;
    this.beta = beta;
    this.alphas = alphas;
    this.path = path;
    this.smoothing = smoothing;
    LOG.debug("MergeTune (feature space): lambda {}, beta {}, alpha {}, path term {}, on {}", lambda, beta, alphas,
        path.getClass().getSimpleName(), train.describe());
  }

  /** w = (1 − τ)·start + τ·ŵ2, with ŵ2 the context the learner held when this method was built. */
  public void startAt(Tensor start, double tau) {
    try (NoGradGuard ng = new NoGradGuard()) {
      Tensor w2 = learner.context().detach().clone();
      learner.context().copy_(start.mul(new Scalar(1 - tau)).add(w2.mul(new Scalar(tau))));
    }
  }

  public CoopPromptLearner learner() {
    return learner;
  }

  /** The three terms (CE, λ-anchor, β-path) of the last loss, for logs. */
  public double[] lastTerms() {
    return lastTerms.clone();
  }

  @Override
  public Map<String, Tensor> trainable() {
    return Map.of(CoopPromptLearner.CTX_NAME, learner.context());
  }

  @Override
  public int trainSize() {
    return train.size();
  }

  @Override
  public Tensor loss(int[] batch, long epoch) {
    return loss(batch, batch, epoch);
  }

  /** The α points are drawn from the global batch (every rank draws the same), the loss is over the shard. */
  @Override
  public Tensor loss(int[] batch, int[] globalBatch, long epoch) {
    Tensor vhat = train.batch(batch, epoch);
    Tensor y = train.batchLabels(batch);
    Tensor f = learner.textFeatures();
    Tensor fhat = ClipModel.normalize(f);
    double s = learner.model().logitScaleExp().item_double();
    Tensor ce = Losses.crossEntropy(vhat.matmul(fhat.t()).mul(new Scalar(s)), y, smoothing);
    Tensor total = ce;
    Tensor anchor = null;
    if (lambda != 0) {
      if (path instanceof FusedPathLoss) {
        // K2's feature-space anchor: value and dR/dF in one pass, spliced like K1 (S − S.detach() + R, S = Σ F ⊙ dF)
        ZeroShotAnchor.FeatureResult r = ZeroShotAnchor.featureSpace(f.detach(), z, (float) lambda);
        Tensor sur = f.mul(r.gradFeatures()).sum();
        anchor = sur.sub(sur.detach()).add(new Scalar(r.value()));
      } else {
        anchor = CachedCoopMethod.oneMinusMeanCos(fhat, z).mul(new Scalar(lambda));
      }
      total = total.add(anchor);
    }
    Tensor p = null;
    if (beta != 0) {
      double[] w = alphas.weights();
      for (int k = 0; k < w.length; k++) w[k] *= beta;
      p = path.loss(vhat, f, g, y, s, alphas.alphas(epoch, globalBatch), w, smoothing);
      total = total.add(p);
    }
    lastTerms = new double[] {ce.item_double(), anchor == null ? 0 : anchor.item_double(),
        p == null ? 0 : p.item_double()};
    return total;
  }

  @Override
  public double evaluate() {
    if (validation == null) return Double.NaN;
    try (NoGradGuard ng = new NoGradGuard()) {
      return validation.accuracy(learner.logits(validation.view(0)));
    }
  }

  @Override
  public int validationSize() {
    return validation == null ? 0 : validation.size();
  }

  @Override
  public long correct(int from, int to) {
    try (NoGradGuard ng = new NoGradGuard()) {
      return validation.correct(learner.logits(validation.rows(0, from, to)), from, to);
    }
  }
}
