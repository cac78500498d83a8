package dev.mergetune.clip.nn;

import dev.mergetune.clip.ClipTower;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * OpenAI's / open_clip's ResidualAttentionBlock:
 *
 * <pre>  h = x + ls_1 ⊙ attn(ln_1(x));   y = h + ls_2 ⊙ c_proj(act(c_fc(ln_2(h))))</pre>
 *
 * with the tower's activation (QuickGELU x·σ(1.702x) or exact GELU), MLP width and LayerNorm ε; the LayerScale
 * vectors {@code ls_1.gamma}, {@code ls_2.gamma} exist only when the tower has LayerScale (otherwise ls = 1).
 */
public final class ResidualBlock extends Module {
  private final ClipTower tower;
  private final Attention attn;
  private final LayerNorm ln1;
  private final Linear fc;
  private final Linear proj;
  private final LayerNorm ln2;
  private final Tensor ls1;
  private final Tensor ls2;

  public ResidualBlock(ClipTower tower) {
    this.tower = tower;
    long width = tower.width();
    attn = register_module("attn", new Attention(width, tower.heads()));
    ln1 = register_module("ln_1", new LayerNorm(width, tower.layerNormEps()));
    Mlp mlp = register_module("mlp", new Mlp(width, tower.mlpWidth()));
    fc = mlp.fc;
    proj = mlp.proj;
    ln2 = register_module("ln_2", new LayerNorm(width, tower.layerNormEps()));
    if (tower.layerScale()) {
      ls1 = Params.register(register_module("ls_1", new Module()), "gamma", torch.ones(width));
      ls2 = Params.register(register_module("ls_2", new Module()), "gamma", torch.ones(width));
    } else {
      ls1 = null;
      ls2 = null;
    }
  }

  public Tensor forward(Tensor x, boolean causal) {
    Tensor a = attn.forward(ln1.forward(x), causal);
    Tensor h = x.add(ls1 == null ? a : a.mul(ls1));
    Tensor m = proj.forward(tower.activation().apply(fc.forward(ln2.forward(h))));
    return h.add(ls2 == null ? m : m.mul(ls2));
  }

  /** The MLP's input layer {@code mlp.c_fc} [mlp, w]. */
  public Linear mlpFc() {
    return fc;
  }

  /** The MLP's output layer {@code mlp.c_proj} [w, mlp]. */
  public Linear mlpProj() {
    return proj;
  }

  /** The MLP's two layers under OpenAI's names {@code c_fc} and {@code c_proj}. */
  static final class Mlp extends Module {
    final Linear fc;
    final Linear proj;

    Mlp(long width, long hidden) {
      fc = register_module("c_fc", new Linear(width, hidden));
      proj = register_module("c_proj", new Linear(hidden, width));
    }
  }
}
