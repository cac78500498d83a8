package dev.mergetune.clip.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * y = x·Wᵀ + b with parameters {@code weight} [out, in] and {@code bias} [out], plus an optional {@link Adapter}'s
 * term (LoRA) when one is attached. An adapter's tensors are not registered parameters of the layer.
 */
public final class Linear extends Module {
  /** A term added to the layer's output, computed from its input: y = x·Wᵀ + b + delta(x). */
  @FunctionalInterface
  public interface Adapter {
    Tensor delta(Tensor x);
  }

  private final Tensor weight;
  private final Tensor bias;
  private Adapter adapter;

  public Linear(long in, long out) {
    weight = Params.register(this, "weight", Params.empty(out, in));
    bias = Params.register(this, "bias", Params.empty(out));
  }

  public Tensor forward(Tensor x) {
    Tensor y = torch.linear(x, weight, bias);
    return adapter == null ? y : y.add(adapter.delta(x));
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  /** The attached adapter, or null. */
  public Adapter adapter() {
    return adapter;
  }

  /** Attaches {@code adapter} (null: removes it), replacing any other. */
  public void setAdapter(Adapter adapter) {
    this.adapter = adapter;
  }
}
