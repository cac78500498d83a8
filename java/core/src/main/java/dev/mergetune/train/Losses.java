package dev.mergetune.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Training losses built from LibTorch ops, so autograd differentiates them. */
public final class Losses {
  private Losses() {}

  /**
   * Mean cross-entropy with label smoothing ε, PyTorch's definition ({@code F.cross_entropy(..., label_smoothing=ε)}):
   * the target is {@code (1 − ε)·onehot(y) + ε/C}, so per sample
   * {@code −(1 − ε)·log p[y] − (ε/C)·Σ_c log p[c]} with {@code log p = log_softmax(logits)}, averaged over the batch.
   *
   * @param logits float [B, C]
   * @param labels int64 [B], each in [0, C)
   * @param smoothing ε in [0, 1]
   */
  public static Tensor crossEntropy(Tensor logits, Tensor labels, double smoothing) {
    if (logits.dim() != 2) throw new IllegalArgumentException("logits must be [B, C], got " + logits.dim() + " dims");
    if (labels.dim() != 1 || labels.size(0) != logits.size(0)) {
      throw new IllegalArgumentException("labels must be [B] with B = " + logits.size(0));
    }
    if (!(smoothing >= 0 && smoothing <= 1)) throw new IllegalArgumentException("smoothing must be in [0, 1], got " + smoothing);
    Tensor logp = torch.log_softmax(logits, 1);
    Tensor picked = logp.gather(1, labels.unsqueeze(1)).squeeze(1);   // log p[y], [B]
    Tensor perSample = picked.mul(new Scalar(-(1 - smoothing)));
    if (smoothing != 0) {
      Tensor meanLogp = logp.mean(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());  // (1/C)Σ log p
      perSample = perSample.sub(meanLogp.mul(new Scalar(smoothing)));
    }
    return perSample.mean();
  }
}
