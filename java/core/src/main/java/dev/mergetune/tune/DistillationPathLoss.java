package dev.mergetune.tune;

import dev.mergetune.kernels.MultiAlphaLoss;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * MergeTune's path term for distillation students (the PromptKD reference code, methods.md §1.3): the student's
 * image features are mixed between the stage-1 student ŵ2 and the current one, NOT re-normalised, and each mixed
 * student is pulled to the teacher by KL,
 *
 * <pre>
 *   P = Σ_k ω_k · KL( p_teacher ‖ softmax( s · ((1 − α_k)·u_ŵ2 + α_k·u_w) · Wᵀ ) )      (batch mean)
 * </pre>
 *
 * with W [C, D] the class text features the student classifies against (the teacher's, constant in PromptKD). The
 * logits are A + α·D with A = s·u_ŵ2·Wᵀ and D = s·(u_w − u_ŵ2)·Wᵀ: K1's plain mode (r ≡ 1) with KL to soft
 * targets. PromptKD's recipe: N = 10 points including α = 1 ({@link AlphaPoints#grid}(10)), β = 50.
 */
public final class DistillationPathLoss {
  private DistillationPathLoss() {}

  /**
   * @param u2 [B, D] stage-1 student image features (constant)
   * @param uw [B, D] current student image features (autograd)
   * @param w [C, D] class features (constant, or trainable)
   * @param teacher [B, C] the teacher's probabilities
   */
  public static Tensor loss(Tensor u2, Tensor uw, Tensor w, Tensor teacher, double scale, double[] alphas,
      double[] weights) {
    Tensor a = u2.detach().matmul(w.t());
    Tensor d = uw.sub(u2.detach()).matmul(w.t());
    return MultiAlphaLoss.klDivLoss(MultiAlphaLoss.Inputs.plain(a, d), teacher,
        AdapterPathLoss.points(alphas, weights), (float) scale);
  }

  /** The same with K mixed students of LibTorch ops, for tests and benchmarks. */
  public static Tensor naive(Tensor u2, Tensor uw, Tensor w, Tensor teacher, double scale, double[] alphas,
      double[] weights) {
    Tensor total = null;
    for (int k = 0; k < alphas.length; k++) {
      Tensor mixed = u2.detach().mul(new Scalar(1 - alphas[k])).add(uw.mul(new Scalar(alphas[k])));
      Tensor logp = torch.log_softmax(mixed.matmul(w.t()).mul(new Scalar(scale)), 1);
      // KL(P ‖ q) = Σ P (log P − log q), batch mean; 0·log 0 = 0
      Tensor plogp = torch.xlogy(teacher, teacher);
      Tensor kl = plogp.sub(teacher.mul(logp)).sum().div(new Scalar((double) teacher.size(0)));
      Tensor term = kl.mul(new Scalar(weights[k]));
      total = total == null ? term : total.add(term);
    }
    return total;
  }
}
