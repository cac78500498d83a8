package dev.mergetune.clip.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * OpenAI's ResidualAttentionBlock: x + attn(ln_1(x)), then + mlp(ln_2(x)) with mlp = c_proj(QuickGELU(c_fc(·))),
 * QuickGELU(x) = x·σ(1.702·x).
 */
public final class ResidualBlock extends Module {
  private static final Scalar QUICK_GELU = new Scalar(1.702);
  private final Attention attn;
  private final LayerNorm ln1;
  private final Linear fc;
  private final Linear proj;
  private final LayerNorm ln2;

  public ResidualBlock(long width, long heads) {
    attn = register_module("attn", new Attention(width, heads));
    ln1 = register_module("ln_1", new LayerNorm(width));
    Mlp mlp = register_module("mlp", new Mlp(width));
    fc = mlp.fc;
    proj = mlp.proj;
    ln2 = register_module("ln_2", new LayerNorm(width));
  }

  public Tensor forward(Tensor x, boolean causal) {
    Tensor h = x.add(attn.forward(ln1.forward(x), causal));
    Tensor a = fc.forward(ln2.forward(h));
    return h.add(proj.forward(a.mul(torch.sigmoid(a.mul(QUICK_GELU)))));
  }

  /** The MLP's input layer {@code mlp.c_fc} [4w, w]. */
  public Linear mlpFc() {
    return fc;
  }

  /** The MLP's output layer {@code mlp.c_proj} [w, 4w]. */
  public Linear mlpProj() {
    return proj;
  }

  /** The MLP's two layers under OpenAI's names {@code c_fc} and {@code c_proj}. */
  static final class Mlp extends Module {
    final Linear fc;
    final Linear proj;

    Mlp(long width) {
      fc = register_module("c_fc", new Linear(width, 4 * width));
      proj = register_module("c_proj", new Linear(4 * width, width));
    }
  }
}
