package dev.mergetune.tune;

import dev.mergetune.kernels.MultiAlphaLoss;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * MergeTune's path term for text-side adapters (the MMA reference code, methods.md §1.3): the path runs from the
 * learned text features f_w to the <b>zero-shot</b> text features z, not to a stage-1 solution,
 *
 * <pre>
 *   P = Σ_k ω_k · CE_ε( s · v̂_w · normalize((1 − t_k)·f_w + t_k·z)ᵀ , y )
 * </pre>
 *
 * with f_w NOT normalised before mixing and z normalised, as the reference code does (the mixture is re-normalised
 * after). Both f_w and the image features v̂_w may carry gradients (adapters on either tower): the mixture is
 * m = f_w + t·(z − f_w), so K1's re-normalised mode applies with g = f_w, F − g = z − f_w, and every input A, D, n0,
 * n1, n2 is differentiable; the kernel's gradients are spliced back through all of them in one backward pass.
 * MMA's recipe: β = 10, N = 5 (ω_k = β/N on the grid {@link AlphaPoints#grid}).
 */
public final class AdapterPathLoss {
  private AdapterPathLoss() {}

  /**
   * @param vhat [B, D] normalised image features (may require grad)
   * @param fw [C, D] learned text features, not normalised (may require grad)
   * @param z [C, D] normalised zero-shot text features (constant)
   */
  public static Tensor loss(Tensor vhat, Tensor fw, Tensor z, Tensor labels, double scale, double[] t,
      double[] weights, double smoothing) {
    Tensor delta = z.detach().sub(fw);
    MultiAlphaLoss.Inputs in = MultiAlphaLoss.Inputs.renormalised(vhat.matmul(fw.t()), vhat.matmul(delta.t()),
        rowSum(fw.mul(fw)), rowSum(fw.mul(delta)), rowSum(delta.mul(delta)));
    return MultiAlphaLoss.crossEntropyLoss(in, labels, (float) smoothing, points(t, weights), (float) scale);
  }

  /** The same with K mixed classifiers of LibTorch ops (the reference code's loop), for tests and benchmarks. */
  public static Tensor naive(Tensor vhat, Tensor fw, Tensor z, Tensor labels, double scale, double[] t,
      double[] weights, double smoothing) {
    Tensor total = null;
    for (int k = 0; k < t.length; k++) {
      Tensor mixed = fw.mul(new Scalar(1 - t[k])).add(z.detach().mul(new Scalar(t[k])));
      Tensor logits = vhat.matmul(dev.mergetune.clip.ClipModel.normalize(mixed).t()).mul(new Scalar(scale));
      Tensor term = dev.mergetune.train.Losses.crossEntropy(logits, labels, smoothing).mul(new Scalar(weights[k]));
      total = total == null ? term : total.add(term);
    }
    return total;
  }

  static MultiAlphaLoss.Points points(double[] t, double[] weights) {
    float[] a = new float[t.length];
    float[] w = new float[weights.length];
    for (int k = 0; k < a.length; k++) a[k] = (float) t[k];
    for (int k = 0; k < w.length; k++) w[k] = (float) weights[k];
    return new MultiAlphaLoss.Points(a, w);
  }

  static Tensor rowSum(Tensor x) {
    return x.sum(new long[] {1}, false, new ScalarTypeOptional());
  }
}
