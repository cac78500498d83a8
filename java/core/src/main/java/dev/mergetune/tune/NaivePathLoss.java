package dev.mergetune.tune;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.train.Losses;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The path term as the reference code computes it: for each α_k, mix the class features, re-normalise, build the
 * logits and take the cross-entropy, all with LibTorch ops under autograd — K mixed classifiers, K softmaxes and K
 * backward passes through them. The reference implementation for the fused kernel and for the benchmarks.
 */
public final class NaivePathLoss implements PathLoss {
  private double[] last;

  @Override
  public Tensor loss(Tensor vhat, Tensor f, Tensor g, Tensor labels, double scale, double[] alphas, double[] weights,
      double smoothing) {
    if (alphas.length != weights.length || alphas.length == 0) throw new IllegalArgumentException("alphas and weights");
    Tensor diff = f.sub(g);
    Tensor total = null;
    last = new double[alphas.length];
    for (int k = 0; k < alphas.length; k++) {
      Tensor mixed = ClipModel.normalize(g.add(diff.mul(new Scalar(alphas[k]))));
      Tensor ce = Losses.crossEntropy(vhat.matmul(mixed.t()).mul(new Scalar(scale)), labels, smoothing);
      last[k] = ce.item_double();
      Tensor term = ce.mul(new Scalar(weights[k]));
      total = total == null ? term : total.add(term);
    }
    return total;
  }

  @Override
  public double[] lastPerAlpha() {
    return last == null ? null : last.clone();
  }
}
