package dev.mergetune.clip.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** LayerNorm over the last dimension with the tower's ε, parameters {@code weight} and {@code bias} (OpenAI's names). */
public final class LayerNorm extends Module {
  private final long width;
  private final double eps;
  private final Tensor weight;
  private final Tensor bias;

  public LayerNorm(long width, double eps) {
    this.width = width;
    this.eps = eps;
    weight = Params.register(this, "weight", torch.ones(width));
    bias = Params.register(this, "bias", torch.zeros(width));
  }

  public Tensor forward(Tensor x) {
    return torch.layer_norm(x, new long[] {width}, new TensorOptional(weight), new TensorOptional(bias), eps, true);
  }
}
