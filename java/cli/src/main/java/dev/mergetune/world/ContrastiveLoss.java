package dev.mergetune.world;

import dev.mergetune.train.Losses;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * CLIP's contrastive objective over a batch of matching (image, text) pairs: with logits_per_image L [B, B]
 * (pair i's image against every text), the mean of the cross-entropy of L with targets 0 … B−1 (image → text) and
 * of Lᵀ with the same targets (text → image).
 */
public final class ContrastiveLoss {
  private ContrastiveLoss() {}

  public static Tensor symmetric(Tensor logitsPerImage) {
    long b = logitsPerImage.size(0);
    if (logitsPerImage.dim() != 2 || logitsPerImage.size(1) != b) {
      throw new IllegalArgumentException("logits must be a square [B, B] matrix of matching pairs");
    }
    Tensor targets = torch.arange(new Scalar(b));  // int64
    Tensor i2t = Losses.crossEntropy(logitsPerImage, targets, 0.0);
    Tensor t2i = Losses.crossEntropy(logitsPerImage.t(), targets, 0.0);
    return i2t.add(t2i).div(new Scalar(2.0));
  }
}
