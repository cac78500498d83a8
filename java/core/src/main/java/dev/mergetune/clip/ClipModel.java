package dev.mergetune.clip;

import dev.mergetune.clip.nn.LayerNorm;
import dev.mergetune.clip.nn.Linear;
import dev.mergetune.clip.nn.Params;
import dev.mergetune.clip.nn.Transformer;
import dev.mergetune.clip.nn.VisionTransformer;
import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * CLIP ViT as LibTorch modules with OpenAI's architecture and parameter names, so {@code named_parameters()} are
 * exactly the keys of an OpenAI state dict ({@code visual.conv1.weight}, {@code transformer.resblocks.0.attn.in_proj_weight},
 * {@code logit_scale}, …) and a state dict loads one to one ({@link ClipLoader}).
 *
 * <p>Text tower: token and positional embeddings, causally masked blocks, {@code ln_final}, the features at each
 * text's end-of-text token (the largest id, as OpenAI's {@code text.argmax(-1)}), {@code text_projection}.
 * Parameters are float32 on the CPU until moved.
 *
 * <p>Ownership: a LibTorch module (a JavaCPP {@code Pointer}): {@link #close()} frees its parameters at once,
 * otherwise the GC does, late. Not thread-safe: confine a model to one thread (forward passes share its parameter
 * tensors and, in training, their gradients), or give each thread its own.
 */
public final class ClipModel extends Module {
  private final ClipConfig config;
  private final VisionTransformer visual;
  private final Transformer transformer;
  private final Tensor tokenEmbedding;
  private final Tensor positionalEmbedding;
  private final LayerNorm lnFinal;
  private final Tensor textProjection;
  private final Tensor logitScale;
  private String origin = "built in code";

  public ClipModel(ClipConfig c) {
    NativeRuntime.ensureTorch();
    this.config = c;
    visual = register_module("visual", new VisionTransformer(c.imageResolution(), c.visionPatchSize(), c.vision(),
        c.embedDim()));
    transformer = register_module("transformer", new Transformer(c.text()));
    Module tok = register_module("token_embedding", new Module());
    tokenEmbedding = Params.register(tok, "weight", torch.zeros(c.vocabSize(), c.textWidth()));
    positionalEmbedding = Params.register(this, "positional_embedding", torch.zeros(c.contextLength(), c.textWidth()));
    lnFinal = register_module("ln_final", new LayerNorm(c.textWidth(), c.text().layerNormEps()));
    textProjection = Params.register(this, "text_projection", torch.zeros(c.textWidth(), c.embedDim()));
    logitScale = Params.register(this, "logit_scale", torch.full(new long[] {}, new Scalar(Math.log(1 / 0.07))));
  }

  public ClipConfig config() {
    return config;
  }

  /**
   * Where the configuration came from, "family (source)" — set by {@link ClipLoader}, recorded by
   * {@link ClipCheckpoints#save} in {@value ClipConfigJson#ORIGIN_KEY}.
   */
  public String origin() {
    return origin;
  }

  /** Sets {@link #origin()} (a loader, or code that builds a model from a known configuration). */
  public ClipModel setOrigin(String origin) {
    this.origin = origin;
    return this;
  }

  /** Every parameter by its OpenAI name, in registration order (the handles share the model's storage). */
  public java.util.LinkedHashMap<String, Tensor> stateDict() {
    java.util.LinkedHashMap<String, Tensor> out = new java.util.LinkedHashMap<>();
    org.bytedeco.pytorch.StringTensorDict params = named_parameters(true);
    org.bytedeco.pytorch.StringVector keys = params.keys();
    for (long i = 0; i < keys.size(); i++) {
      String name = keys.get(i).getString();
      out.put(name, new Tensor(params.get(name)));  // an owned handle: valid after the dict is gone
    }
    return out;
  }

  /**
   * Random weights as OpenAI's {@code initialize_parameters} draws them for the text tower (token embedding σ 0.02,
   * positional σ 0.01, attention in-projection σ w^-½, output projections σ w^-½·(2L)^-½, MLP input σ (2w)^-½,
   * text projection σ w^-½) and its VisionTransformer (class/positional embeddings and projection σ w^-½), with the
   * same scheme for the vision blocks, the patch convolution σ (3p²)^-½, zero biases, unit LayerNorms and
   * logit scale log(1/0.07). Deterministic in {@code seed} (LibTorch's CPU generator is seeded globally).
   */
  public ClipModel initialize(long seed) {
    torch.manual_seed(seed);
    try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
      for (java.util.Map.Entry<String, Tensor> e : stateDict().entrySet()) {
        String n = e.getKey();
        Tensor t = e.getValue();
        boolean vision = n.startsWith("visual.");
        double w = vision ? config.visionWidth() : config.textWidth();
        int layers = vision ? config.visionLayers() : config.textLayers();
        double std;
        if (n.endsWith(".bias") || n.endsWith("_bias")) {
          t.zero_();
          continue;
        } else if (n.contains("ln_") && n.endsWith(".weight")) {
          t.fill_(new Scalar(1.0));
          continue;
        } else if (n.endsWith(".gamma")) {  // LayerScale: 1 (the identity; open_clip's ls_init_value is not recorded)
          t.fill_(new Scalar(1.0));
          continue;
        } else if (n.equals("logit_scale")) {
          t.fill_(new Scalar(Math.log(1 / 0.07)));
          continue;
        } else if (n.equals("token_embedding.weight")) {
          std = 0.02;
        } else if (n.equals("positional_embedding")) {
          std = 0.01;
        } else if (n.endsWith("attn.in_proj_weight")) {
          std = Math.pow(w, -0.5);
        } else if (n.endsWith("attn.out_proj.weight") || n.endsWith("mlp.c_proj.weight")) {
          std = Math.pow(w, -0.5) * Math.pow(2.0 * layers, -0.5);
        } else if (n.endsWith("mlp.c_fc.weight")) {
          std = Math.pow(2 * w, -0.5);
        } else if (n.equals("visual.conv1.weight")) {
          std = Math.pow(3.0 * config.visionPatchSize() * config.visionPatchSize(), -0.5);
        } else {
          std = Math.pow(w, -0.5);  // text_projection, visual.class_embedding / positional_embedding / proj
        }
        t.normal_(0.0, std, new org.bytedeco.pytorch.GeneratorOptional());
      }
    }
    return this;
  }

  /** images [B, 3, R, R] (normalised) → image features [B, embed], not normalised. */
  public Tensor encodeImage(Tensor images) {
    long[] s = images.sizes().vec().get();
    if (s.length != 4 || s[1] != 3 || s[2] != config.imageResolution() || s[3] != config.imageResolution()) {
      throw new IllegalArgumentException("images must be [B, 3, " + config.imageResolution() + ", "
          + config.imageResolution() + "], got " + java.util.Arrays.toString(s));
    }
    return visual.forward(images);
  }

  /** tokens [B, context] int64 (start, ids, end, zero padding) → text features [B, embed], not normalised. */
  public Tensor encodeText(Tensor tokens) {
    long[] s = tokens.sizes().vec().get();
    if (s.length != 2 || s[1] != config.contextLength()) {
      throw new IllegalArgumentException("tokens must be [B, " + config.contextLength() + "], got " + java.util.Arrays.toString(s));
    }
    Tensor eot = tokens.argmax(new org.bytedeco.pytorch.LongOptional(-1), false);          // [B]
    return encodeTextEmbeddings(tokenEmbedding(tokens), eot);
  }

  /** The token-embedding lookup: int64 ids of any shape → their rows of {@code token_embedding.weight}, shape + [w]. */
  public Tensor tokenEmbedding(Tensor tokens) {
    return torch.embedding(tokenEmbedding, tokens);
  }

  /**
   * The text tower from token embeddings on (CoOp's {@code TextEncoder}): adds the positional embedding, runs the
   * causally masked transformer and {@code ln_final}, takes each row's features at {@code eotIndex} and applies
   * {@code text_projection}. Differentiable in {@code embeddings}.
   *
   * @param embeddings float [B, context, w]
   * @param eotIndex int64 [B], the end-of-text position of each row
   * @return text features [B, embed], not normalised
   */
  public Tensor encodeTextEmbeddings(Tensor embeddings, Tensor eotIndex) {
    long[] s = embeddings.sizes().vec().get();
    if (s.length != 3 || s[1] != config.contextLength() || s[2] != config.textWidth()) {
      throw new IllegalArgumentException("embeddings must be [B, " + config.contextLength() + ", " + config.textWidth()
          + "], got " + java.util.Arrays.toString(s));
    }
    if (eotIndex.dim() != 1 || eotIndex.size(0) != s[0]) {
      throw new IllegalArgumentException("eotIndex must be [" + s[0] + "], got " + java.util.Arrays.toString(eotIndex.sizes().vec().get()));
    }
    Tensor x = embeddings.add(positionalEmbedding);
    x = lnFinal.forward(transformer.forward(x, true));
    Tensor rows = torch.arange(new Scalar(s[0]));
    Tensor pooled = x.index(new org.bytedeco.pytorch.TensorIndexVector(
        new org.bytedeco.pytorch.TensorIndex(rows), new org.bytedeco.pytorch.TensorIndex(eotIndex)));  // [B, w]
    return pooled.matmul(textProjection);
  }

  /**
   * The MLP layers of every residual block, vision tower first, by their parameter prefixes
   * ({@code visual.transformer.resblocks.0.mlp.c_fc}, {@code ….mlp.c_proj}, …, {@code transformer.resblocks.N.mlp.c_proj}).
   */
  public java.util.LinkedHashMap<String, Linear> mlpLinears() {
    java.util.LinkedHashMap<String, Linear> out = new java.util.LinkedHashMap<>();
    addMlp(out, "visual.transformer", visual.transformer());
    addMlp(out, "transformer", transformer);
    return out;
  }

  private static void addMlp(java.util.Map<String, Linear> out, String prefix, Transformer t) {
    for (int i = 0; i < t.layers(); i++) {
      out.put(prefix + ".resblocks." + i + ".mlp.c_fc", t.block(i).mlpFc());
      out.put(prefix + ".resblocks." + i + ".mlp.c_proj", t.block(i).mlpProj());
    }
  }

  /** exp(logit_scale). */
  public Tensor logitScaleExp() {
    return logitScale.exp();
  }

  /** logits_per_image [B_img, B_txt] = exp(scale)·cos(image, text), as OpenAI's forward. */
  public Tensor logitsPerImage(Tensor imageFeatures, Tensor textFeatures) {
    Tensor i = normalize(imageFeatures);
    Tensor t = normalize(textFeatures);
    return i.matmul(t.t()).mul(logitScaleExp());
  }

  /** Rows divided by their L2 norm. */
  public static Tensor normalize(Tensor features) {
    return features.div(features.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[] {-1}, true));
  }
}
