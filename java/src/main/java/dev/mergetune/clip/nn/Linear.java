package dev.mergetune.clip.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** y = x·Wᵀ + b with parameters {@code weight} [out, in] and {@code bias} [out]. */
public final class Linear extends Module {
  private final Tensor weight;
  private final Tensor bias;

  public Linear(long in, long out) {
    weight = Params.register(this, "weight", Params.empty(out, in));
    bias = Params.register(this, "bias", Params.empty(out));
  }

  public Tensor forward(Tensor x) {
    return torch.linear(x, weight, bias);
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }
}
