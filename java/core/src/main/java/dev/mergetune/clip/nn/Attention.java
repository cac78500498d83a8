package dev.mergetune.clip.nn;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Multi-head self-attention with nn.MultiheadAttention's parameters — {@code in_proj_weight} [3w, w],
 * {@code in_proj_bias} [3w], {@code out_proj.weight/bias} — computed batch-first:
 *
 * <pre>  q, k, v = split(x·W_inᵀ + b_in);  heads of w/h;  o = softmax(q·kᵀ/√(w/h) [+ causal mask])·v;  out_proj(o)</pre>
 */
public final class Attention extends Module {
  private final long width;
  private final long heads;
  private final Tensor inProjWeight;
  private final Tensor inProjBias;
  private final Linear outProj;

  public Attention(long width, long heads) {
    this.width = width;
    this.heads = heads;
    inProjWeight = Params.register(this, "in_proj_weight", Params.empty(3 * width, width));
    inProjBias = Params.register(this, "in_proj_bias", Params.empty(3 * width));
    outProj = register_module("out_proj", new Linear(width, width));
  }

  /** x: [B, L, w]; causal masks every position after the query (the text tower). */
  public Tensor forward(Tensor x, boolean causal) {
    long b = x.size(0);
    long l = x.size(1);
    long d = width / heads;
    Tensor qkv = torch.linear(x, inProjWeight, inProjBias).view(b, l, 3, heads, d).permute(2, 0, 3, 1, 4);
    TensorVector parts = qkv.unbind(0);  // q, k, v: [B, h, L, d]
    Tensor o = torch.scaled_dot_product_attention(parts.get(0), parts.get(1), parts.get(2), new TensorOptional(), 0.0,
        causal, new DoubleOptional(), false);
    return outProj.forward(o.transpose(1, 2).reshape(b, l, width));
  }
}
