package dev.mergetune.clip.nn;

import dev.mergetune.clip.ClipTower;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * OpenAI's VisionTransformer: patch convolution {@code conv1} (no bias), {@code class_embedding} prepended,
 * {@code positional_embedding} added, {@code ln_pre}, the transformer, {@code ln_post} of the class token, and the
 * projection {@code proj} [width, embed].
 */
public final class VisionTransformer extends Module {
  private final long width;
  private final long patch;
  private final Tensor conv1;
  private final Tensor classEmbedding;
  private final Tensor positionalEmbedding;
  private final LayerNorm lnPre;
  private final Transformer transformer;
  private final LayerNorm lnPost;
  private final Tensor proj;

  public VisionTransformer(int resolution, int patch, ClipTower tower, int embedDim) {
    int width = tower.width();
    this.width = width;
    this.patch = patch;
    long grid = resolution / patch;
    Module conv = register_module("conv1", new Module());
    conv1 = Params.register(conv, "weight", Params.empty(width, 3, patch, patch));
    classEmbedding = Params.register(this, "class_embedding", Params.empty(width));
    positionalEmbedding = Params.register(this, "positional_embedding", Params.empty(grid * grid + 1, width));
    lnPre = register_module("ln_pre", new LayerNorm(width, tower.layerNormEps()));
    transformer = register_module("transformer", new Transformer(tower));
    lnPost = register_module("ln_post", new LayerNorm(width, tower.layerNormEps()));
    proj = Params.register(this, "proj", Params.empty(width, embedDim));
  }

  /** images [B, 3, R, R], normalised → features [B, embed] (not normalised). */
  public Tensor forward(Tensor images) {
    long b = images.size(0);
    Tensor x = torch.conv2d(images, conv1, new TensorOptional(), new long[] {patch, patch}, new long[] {0, 0},
        new long[] {1, 1}, 1);                                   // [B, w, g, g]
    x = x.reshape(b, width, -1).permute(0, 2, 1);                // [B, g², w]
    TensorVector parts = new TensorVector(classEmbedding.expand(b, 1, width), x);
    x = torch.cat(parts, 1).add(positionalEmbedding);            // [B, g² + 1, w]
    x = transformer.forward(lnPre.forward(x), false);
    return lnPost.forward(x.select(1, 0)).matmul(proj);
  }

  /** The vision blocks ({@code transformer}). */
  public Transformer transformer() {
    return transformer;
  }
}
