package dev.mergetune.clip;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key layouts a CLIP ViT checkpoint comes in, and how each maps onto OpenAI's names.
 *
 * <ul>
 *   <li>{@link #OPENAI}: OpenAI's state dict (also open_clip's ViT CLIP, and OpenAI's TorchScript archives, whose
 *       extra integer tensors {@code input_resolution}, {@code context_length}, {@code vocab_size} are ignored). A
 *       {@code module.} prefix (saved from DataParallel) is stripped.
 *   <li>{@link #HUGGING_FACE}: {@code transformers}' CLIPModel: separate {@code q_proj/k_proj/v_proj} (concatenated
 *       into {@code in_proj_*} in q, k, v order), {@code layer_norm1/2}, {@code fc1/fc2}, {@code pre_layrnorm} (sic),
 *       and the projections stored as [embed, width] Linear weights (transposed here).
 * </ul>
 */
public enum ClipLayout {
  OPENAI,
  HUGGING_FACE;

  /** Tensors that are bookkeeping, not weights, in some layouts: read by no parameter and not an error. */
  static final List<String> IGNORED = List.of("input_resolution", "context_length", "vocab_size",
      "text_model.embeddings.position_ids", "vision_model.embeddings.position_ids");

  /** How one OpenAI parameter is made from checkpoint tensors. */
  public record Source(List<String> keys, Transform transform) {}

  public enum Transform {
    /** The one tensor as it is. */
    IDENTITY,
    /** The one tensor transposed (a Linear weight [out, in] stored for x·W). */
    TRANSPOSE,
    /** The tensors concatenated along dimension 0 (q, k, v → in_proj). */
    CONCAT
  }

  /** The layout of a set of keys (after stripping a {@code module.} prefix), or null when none fits. */
  public static ClipLayout detect(Iterable<String> keys) {
    for (String k : keys) {
      String s = stripPrefix(k);
      if (s.startsWith("vision_model.") || s.startsWith("text_model.")) return HUGGING_FACE;
      if (s.startsWith("visual.") || s.equals("token_embedding.weight")) return OPENAI;
    }
    return null;
  }

  static String stripPrefix(String key) {
    return key.startsWith("module.") ? key.substring(7) : key;
  }

  private static final Pattern HF_LAYER = Pattern.compile("(vision|text)_model\\.encoder\\.layers\\.(\\d+)\\.(.+)");

  /**
   * The OpenAI name each checkpoint key maps to in this layout (for the HF q/k/v keys, their in_proj target) — used
   * to compute shapes for {@link ClipConfig#infer} and to list unexpected keys.
   */
  public Map<String, Source> sources(Iterable<String> checkpointKeys) {
    Map<String, Source> out = new LinkedHashMap<>();
    for (String key : checkpointKeys) {
      String k = stripPrefix(key);
      if (IGNORED.contains(k)) continue;
      if (this == OPENAI) {
        out.put(k, new Source(List.of(key), Transform.IDENTITY));
        continue;
      }
      String target = hfTarget(k);
      if (target == null) continue;  // reported as unexpected by the loader
      if (target.endsWith(".attn.in_proj_weight") || target.endsWith(".attn.in_proj_bias")) {
        String suffix = k.endsWith(".weight") ? "weight" : "bias";
        String stem = key.substring(0, key.lastIndexOf(".self_attn.") + ".self_attn.".length());
        out.put(target, new Source(List.of(stem + "q_proj." + suffix, stem + "k_proj." + suffix, stem + "v_proj." + suffix),
            Transform.CONCAT));
      } else if (target.equals("text_projection") || target.equals("visual.proj")) {
        out.put(target, new Source(List.of(key), Transform.TRANSPOSE));
      } else {
        out.put(target, new Source(List.of(key), Transform.IDENTITY));
      }
    }
    return out;
  }

  /** The OpenAI name of a Hugging Face key, or null for a key this layout does not know. */
  static String hfTarget(String k) {
    Matcher m = HF_LAYER.matcher(k);
    if (m.matches()) {
      String prefix = (m.group(1).equals("vision") ? "visual.transformer" : "transformer") + ".resblocks." + m.group(2) + ".";
      String rest = m.group(3);
      return switch (rest) {
        case "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight" -> prefix + "attn.in_proj_weight";
        case "self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias" -> prefix + "attn.in_proj_bias";
        case "self_attn.out_proj.weight" -> prefix + "attn.out_proj.weight";
        case "self_attn.out_proj.bias" -> prefix + "attn.out_proj.bias";
        case "layer_norm1.weight" -> prefix + "ln_1.weight";
        case "layer_norm1.bias" -> prefix + "ln_1.bias";
        case "layer_norm2.weight" -> prefix + "ln_2.weight";
        case "layer_norm2.bias" -> prefix + "ln_2.bias";
        case "mlp.fc1.weight" -> prefix + "mlp.c_fc.weight";
        case "mlp.fc1.bias" -> prefix + "mlp.c_fc.bias";
        case "mlp.fc2.weight" -> prefix + "mlp.c_proj.weight";
        case "mlp.fc2.bias" -> prefix + "mlp.c_proj.bias";
        default -> null;
      };
    }
    return switch (k) {
      case "text_model.embeddings.token_embedding.weight" -> "token_embedding.weight";
      case "text_model.embeddings.position_embedding.weight" -> "positional_embedding";
      case "text_model.final_layer_norm.weight" -> "ln_final.weight";
      case "text_model.final_layer_norm.bias" -> "ln_final.bias";
      case "text_projection.weight" -> "text_projection";
      case "vision_model.embeddings.class_embedding" -> "visual.class_embedding";
      case "vision_model.embeddings.patch_embedding.weight" -> "visual.conv1.weight";
      case "vision_model.embeddings.position_embedding.weight" -> "visual.positional_embedding";
      case "vision_model.pre_layrnorm.weight" -> "visual.ln_pre.weight";
      case "vision_model.pre_layrnorm.bias" -> "visual.ln_pre.bias";
      case "vision_model.post_layernorm.weight" -> "visual.ln_post.weight";
      case "vision_model.post_layernorm.bias" -> "visual.ln_post.bias";
      case "visual_projection.weight" -> "visual.proj";
      case "logit_scale" -> "logit_scale";
      default -> null;
    };
  }

  /** The shapes of the OpenAI parameters the sources make, from the checkpoint tensors' shapes. */
  public static Map<String, long[]> shapes(Map<String, Source> sources, Map<String, long[]> checkpointShapes) {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Source> e : sources.entrySet()) {
      List<long[]> parts = new ArrayList<>();
      for (String k : e.getValue().keys()) {
        long[] s = checkpointShapes.get(k);
        if (s == null) break;
        parts.add(s);
      }
      if (parts.size() != e.getValue().keys().size()) continue;  // incomplete q/k/v: the loader reports it
      long[] s = parts.get(0).clone();
      switch (e.getValue().transform()) {
        case TRANSPOSE -> {
          if (s.length == 2) s = new long[] {s[1], s[0]};
        }
        case CONCAT -> {
          for (int i = 1; i < parts.size(); i++) s[0] += parts.get(i)[0];
        }
        default -> { }
      }
      out.put(e.getKey(), s);
    }
    return out;
  }
}
