package dev.mergetune.clip;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The configuration of an OpenAI CLIP ViT as {@code clip/model.py build_model} infers it from a state dict:
 *
 * <ul>
 *   <li>vision width = {@code visual.conv1.weight}.shape[0], patch = its last dimension, layers = the number of
 *       {@code visual.*.attn.in_proj_weight} keys, grid = round(√(rows of {@code visual.positional_embedding} − 1)),
 *       image resolution = patch × grid;
 *   <li>embed = {@code text_projection}.shape[1], context = rows of {@code positional_embedding}, vocabulary = rows of
 *       {@code token_embedding.weight}, text width = {@code ln_final.weight}.shape[0], text layers = the distinct
 *       {@code transformer.resblocks.N} indices;
 *   <li>heads = width // 64 on both towers ({@code CLIP.__init__}: {@code vision_heads = vision_width // 64},
 *       {@code transformer_heads = transformer_width // 64}); QuickGELU; MLP 4·width; LayerNorm ε 1e-5; no LayerScale.
 * </ul>
 *
 * These are the rules of OpenAI's own checkpoints (their TorchScript archives); they are applied to a plain state
 * dict only when the user names them ({@code --model-config openai}), since open_clip writes the same key layout
 * with other heads and activations.
 */
public final class OpenAiBuildModel {
  /** The {@code --model-config} name of these rules. */
  public static final String NAME = "openai";

  private OpenAiBuildModel() {}

  /** @param shapes OpenAI parameter names → shapes */
  public static ClipConfig infer(Map<String, long[]> shapes) {
    ClipConfig d = dimensions(shapes);
    return new ClipConfig(d.embedDim(), d.imageResolution(), d.visionPatchSize(), d.contextLength(), d.vocabSize(),
        ClipTower.openAi(d.visionWidth(), d.visionLayers(), heads("vision", d.visionWidth()), Activation.QUICK_GELU),
        ClipTower.openAi(d.textWidth(), d.textLayers(), heads("text", d.textWidth()), Activation.QUICK_GELU));
  }

  /**
   * What the shapes alone say, read by build_model's rules: every dimension, the MLP widths from the first blocks'
   * {@code c_fc} (4·width where absent); heads (1 here), activation, ε and LayerScale are not in the shapes.
   */
  static ClipConfig dimensions(Map<String, long[]> shapes) {
    long[] conv = require(shapes, "visual.conv1.weight", 4);
    int visionWidth = (int) conv[0];
    int patch = (int) conv[3];
    int visionLayers = 0;
    Set<String> textLayers = new HashSet<>();
    for (String k : shapes.keySet()) {
      if (k.startsWith("visual.") && k.endsWith(".attn.in_proj_weight")) visionLayers++;
      if (k.startsWith("transformer.resblocks")) {
        String[] parts = k.split("\\.");
        if (parts.length > 2) textLayers.add(parts[2]);
      }
    }
    long positions = require(shapes, "visual.positional_embedding", 2)[0];
    int grid = (int) Math.round(Math.sqrt(positions - 1));
    if ((long) grid * grid + 1 != positions) {
      throw new IllegalArgumentException("visual.positional_embedding has " + positions + " rows, not a square grid + 1");
    }
    int embedDim = (int) require(shapes, "text_projection", 2)[1];
    int contextLength = (int) require(shapes, "positional_embedding", 2)[0];
    int vocab = (int) require(shapes, "token_embedding.weight", 2)[0];
    int textWidth = (int) require(shapes, "ln_final.weight", 1)[0];
    if (visionLayers == 0 || textLayers.isEmpty()) {
      throw new IllegalArgumentException("no " + (visionLayers == 0 ? "visual.transformer" : "transformer")
          + ".resblocks.N.* keys: not a CLIP ViT");
    }
    return new ClipConfig(embedDim, patch * grid, patch, contextLength, vocab,
        new ClipTower(visionWidth, visionLayers, 1, mlp(shapes, "visual.transformer", visionWidth), Activation.QUICK_GELU,
            1e-5, false),
        new ClipTower(textWidth, textLayers.size(), 1, mlp(shapes, "transformer", textWidth), Activation.QUICK_GELU, 1e-5,
            false));
  }

  private static int mlp(Map<String, long[]> shapes, String tower, int width) {
    long[] s = shapes.get(tower + ".resblocks.0.mlp.c_fc.weight");
    return s != null && s.length == 2 && s[0] > 0 ? (int) s[0] : 4 * width;
  }

  private static int heads(String tower, int width) {
    int heads = width / 64;
    if (heads == 0 || width % heads != 0) {
      throw new IllegalArgumentException("OpenAI's build_model gives the " + tower + " tower of width " + width + " "
          + heads + " heads (width // 64), which " + (heads == 0 ? "is none" : "does not divide the width")
          + ": not an OpenAI CLIP; pass --model-config with its real configuration");
    }
    return heads;
  }

  static long[] require(Map<String, long[]> shapes, String name, int rank) {
    long[] s = shapes.get(name);
    if (s == null) throw new IllegalArgumentException("no tensor '" + name + "' to read the CLIP dimensions from");
    if (s.length != rank) throw new IllegalArgumentException("'" + name + "' has rank " + s.length + ", expected " + rank);
    return s;
  }
}
