package dev.mergetune.tune;

import org.bytedeco.pytorch.Tensor;

/**
 * MergeTune's feature-space path term for a batch (methods.md §1.2), as a differentiable scalar:
 *
 * <pre>
 *   P(F) = Σ_k ω_k · CE_ε( s · v̂ · normalize(g + α_k (F − g))ᵀ , y )
 * </pre>
 *
 * with v̂ [B, D] the normalised image features (constant), F [C, D] the learned class text features before
 * normalisation (autograd), g [C, D] the stage-1 features F(ŵ2) (constant), s = exp(logit_scale). The
 * implementations differ only in how they compute it: {@link NaivePathLoss} evaluates the K classifiers one by one
 * with LibTorch ops (as the reference code does); the fused one evaluates all K in one kernel pass.
 */
public interface PathLoss {
  /**
   * @param vhat [B, D] normalised image features (no gradient)
   * @param f [C, D] learned text features, part of an autograd graph
   * @param g [C, D] stage-1 text features (no gradient)
   * @param labels [B] int64
   * @param scale s
   * @param alphas α_k
   * @param weights ω_k
   * @param smoothing ε of the cross-entropy
   * @return P as a 0-dim tensor whose gradient with respect to {@code f} is dP/dF
   */
  Tensor loss(Tensor vhat, Tensor f, Tensor g, Tensor labels, double scale, double[] alphas, double[] weights,
      double smoothing);

  /** The per-α losses CE_k of the last call (for logs), or null if not kept. */
  default double[] lastPerAlpha() {
    return null;
  }
}
