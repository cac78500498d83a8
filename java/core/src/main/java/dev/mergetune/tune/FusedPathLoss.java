package dev.mergetune.tune;

import dev.mergetune.kernels.MultiAlphaLoss;
import org.bytedeco.pytorch.Tensor;

/**
 * The path term through the fused K1 kernel ({@link MultiAlphaLoss#coopPathTerm}): two B×C×D products and one native
 * pass over the logits for all K points, its gradient spliced into autograd — instead of K mixed classifiers.
 */
public final class FusedPathLoss implements PathLoss {
  private double[] last;

  @Override
  public Tensor loss(Tensor vhat, Tensor f, Tensor g, Tensor labels, double scale, double[] alphas, double[] weights,
      double smoothing) {
    MultiAlphaLoss.PathTerm t = MultiAlphaLoss.coopPathTerm(vhat, f, g, labels, scale, alphas, weights, smoothing);
    float[] p = t.perAlpha();
    last = new double[p.length];
    for (int k = 0; k < p.length; k++) last[k] = p[k];
    return t.loss();
  }

  @Override
  public double[] lastPerAlpha() {
    return last == null ? null : last.clone();
  }
}
