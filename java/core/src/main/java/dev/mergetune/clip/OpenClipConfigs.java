package dev.mergetune.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * open_clip's model configurations: the named ones ({@code ViT-B-32}, {@code ViT-B-16}, {@code ViT-L-14},
 * {@code ViT-L-14-336}, {@code ViT-H-14}, {@code ViT-g-14}, {@code ViT-bigG-14} and the {@code -quickgelu} variants
 * open_clip has, transcribed in {@code open_clip_model_configs.json} beside this class with their source) and any
 * {@code model_cfg} JSON (an {@code open_clip_config.json}, or a config file of one's own), read as open_clip's
 * {@code CLIPVisionCfg} / {@code CLIPTextCfg} dataclasses read them:
 *
 * <ul>
 *   <li>activation: QuickGELU when {@code quick_gelu} is true, else exact GELU (open_clip's default, used by the LAION
 *       and DataComp weights), on both towers;
 *   <li>vision: heads = width // {@code head_width} (64 unless given: 80 for ViT-H-14, 88 for ViT-g-14, 104 for
 *       ViT-bigG-14), MLP width = int(width × {@code mlp_ratio}); text: {@code heads} as given (default 8), MLP
 *       int(width × mlp_ratio); LayerNorm ε 1e-5 unless {@code norm_kwargs.eps}; LayerScale where
 *       {@code ls_init_value} is set ({@code ls_1.gamma}/{@code ls_2.gamma} tensors);
 *   <li>a missing key takes the dataclass default (open_clip does the same); a key this model does not implement
 *       with a value other than its default — attentional pooling, {@code pool_type} other than the class token /
 *       argmax, {@code no_ln_pre}, no causal mask, a projection bias, timm or Hugging Face towers, custom attention
 *       blocks, a logit bias (SigLIP) — is refused naming the key, and so is a key open_clip does not have.
 * </ul>
 */
public final class OpenClipConfigs {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, JsonNode> NAMED = load();

  /** Top-level keys that only concern training or output format. */
  private static final Set<String> TOP_IGNORED = Set.of("init_logit_scale", "cast_dtype", "output_dict",
      "preprocess_cfg");
  private static final Set<String> VISION_IGNORED = Set.of("patch_dropout", "output_tokens", "attn_pooler_queries",
      "attn_pooler_heads", "timm_model_pretrained", "timm_pool", "timm_proj", "timm_proj_bias", "timm_drop",
      "timm_drop_path", "timm_model_kwargs");
  private static final Set<String> TEXT_IGNORED = Set.of("output_tokens", "pad_id", "bos_id", "hf_model_pretrained",
      "hf_proj_type", "hf_pooler_type", "hf_model_config", "tiktoken_name", "attention_mode", "pos_embed",
      "rope_temperature", "mlp_type", "norm_type", "norm_eps", "attn_gated", "pre_norm", "norm_placement",
      "zero_init_residual", "reg_tokens", "value_residual", "attention_bias", "mlp_bias", "gate_bias");
  /** Keys whose only supported value is their default (anything else changes the maths in ways not built here). */
  private static final Map<String, Object> VISION_FIXED = fixed("attentional_pool", false, "no_ln_pre", false,
      "pos_embed_type", "learnable", "pool_type", "tok", "act_kwargs", null, "block_type", null, "qk_norm", false,
      "scaled_cosine_attn", false, "scale_heads", false, "scale_attn_inner", false, "scale_attn", false, "scale_fc",
      false, "timm_model_name", null, "image_seq_len", null);
  private static final Map<String, Object> TEXT_FIXED = fixed("text_arch", "clip", "variable_text", false,
      "hf_tokenizer_name", null, "tokenizer_mode", null, "tokenizer_kwargs", null, "tokenizer_type", "", "embed_cls",
      false, "no_causal_mask", false, "pool_type", "argmax", "proj_bias", false, "proj_type", "linear", "act_kwargs",
      null, "block_type", null, "qk_norm", false, "scaled_cosine_attn", false, "scale_heads", false,
      "scale_attn_inner", false, "scale_attn", false, "scale_fc", false, "hf_model_name", null, "eos_id", null);
  private static final Map<String, Object> TOP_FIXED = fixed("custom_text", false, "init_logit_bias", null,
      "nonscalar_logit_scale", false, "multimodal_cfg", null);
  /** Keys with a value this model reads (besides the fixed and ignored ones). */
  private static final Set<String> VISION_READ = Set.of("layers", "width", "head_width", "mlp_ratio", "patch_size",
      "image_size", "ls_init_value", "norm_kwargs", "final_ln_after_pool");
  private static final Set<String> TEXT_READ = Set.of("context_length", "vocab_size", "width", "heads", "layers",
      "mlp_ratio", "ls_init_value", "norm_kwargs", "final_ln_after_pool");

  private OpenClipConfigs() {}

  /** The configuration names this class knows, in table order. */
  public static List<String> names() {
    return List.copyOf(NAMED.keySet());
  }

  /** The named configuration, or null for a name this class does not know. */
  public static ClipConfig named(String name) {
    JsonNode cfg = NAMED.get(name);
    return cfg == null ? null : parse(cfg, "open_clip config " + name);
  }

  /**
   * An open_clip model configuration: {@code cfg} is a {@code model_cfg} object or a file holding one under
   * {@code "model_cfg"} (an {@code open_clip_config.json}); {@code where} names it in errors.
   */
  public static ClipConfig parse(JsonNode cfg, String where) {
    if (cfg.has("model_cfg")) cfg = cfg.get("model_cfg");
    if (!cfg.isObject()) throw new IllegalArgumentException(where + ": model_cfg is not a JSON object");
    check(cfg, Set.of("embed_dim", "quick_gelu", "vision_cfg", "text_cfg"), TOP_FIXED, TOP_IGNORED, where);
    for (String k : List.of("embed_dim", "vision_cfg", "text_cfg")) {
      if (!cfg.has(k)) throw new IllegalArgumentException(where + ": '" + k + "' is missing (not an open_clip CLIP config)");
    }
    JsonNode v = cfg.get("vision_cfg");
    JsonNode t = cfg.get("text_cfg");
    if (!v.isObject() || !t.isObject()) throw new IllegalArgumentException(where + ": vision_cfg and text_cfg are objects");
    check(v, VISION_READ, VISION_FIXED, VISION_IGNORED, where + " vision_cfg");
    check(t, TEXT_READ, TEXT_FIXED, TEXT_IGNORED, where + " text_cfg");
    Activation act = bool(cfg, "quick_gelu", false, where) ? Activation.QUICK_GELU : Activation.GELU;
    if (v.has("layers") && !v.get("layers").isInt()) {
      throw new IllegalArgumentException(where + ": vision_cfg.layers is " + v.get("layers")
          + ", a ResNet image tower; only ViT towers are supported");
    }
    int vWidth = integer(v, "width", 768, where + " vision_cfg");
    int headWidth = integer(v, "head_width", 64, where + " vision_cfg");
    int vHeads = vWidth / headWidth;
    if (vHeads == 0 || vWidth % headWidth != 0) {
      throw new IllegalArgumentException(where + ": vision_cfg width " + vWidth + " is not a multiple of head_width "
          + headWidth);
    }
    ClipTower vision = new ClipTower(vWidth, integer(v, "layers", 12, where + " vision_cfg"), vHeads,
        mlp(v, vWidth, where + " vision_cfg"), act, eps(v, where + " vision_cfg"), layerScale(v));
    int tWidth = integer(t, "width", 512, where + " text_cfg");
    ClipTower text = new ClipTower(tWidth, integer(t, "layers", 12, where + " text_cfg"),
        integer(t, "heads", 8, where + " text_cfg"), mlp(t, tWidth, where + " text_cfg"), act,
        eps(t, where + " text_cfg"), layerScale(t));
    int image = imageSize(v, where);
    int patch = integer(v, "patch_size", 16, where + " vision_cfg");
    try {
      return new ClipConfig(integer(cfg, "embed_dim", 0, where), image, patch,
          integer(t, "context_length", 77, where + " text_cfg"), integer(t, "vocab_size", 49408, where + " text_cfg"),
          vision, text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage());
    }
  }

  /** int(width × mlp_ratio), Python's truncation of the double product. */
  private static int mlp(JsonNode tower, int width, String where) {
    JsonNode r = tower.get("mlp_ratio");
    if (r == null || r.isNull()) return 4 * width;
    if (!r.isNumber()) throw new IllegalArgumentException(where + ": mlp_ratio is not a number");
    return (int) (width * r.asDouble());
  }

  private static double eps(JsonNode tower, String where) {
    JsonNode n = tower.get("norm_kwargs");
    if (n == null || n.isNull()) return 1e-5;
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!k.equals("eps")) throw new IllegalArgumentException(where + ": norm_kwargs." + k + " is not supported (only eps)");
    }
    JsonNode e = n.get("eps");
    if (e == null) return 1e-5;
    if (!e.isNumber()) throw new IllegalArgumentException(where + ": norm_kwargs.eps is not a number");
    return e.asDouble();
  }

  private static boolean layerScale(JsonNode tower) {
    JsonNode n = tower.get("ls_init_value");
    return n != null && !n.isNull();
  }

  private static int imageSize(JsonNode v, String where) {
    JsonNode n = v.get("image_size");
    if (n == null) return 224;
    if (n.isArray()) {
      if (n.size() != 2 || n.get(0).asInt() != n.get(1).asInt()) {
        throw new IllegalArgumentException(where + ": vision_cfg.image_size " + n + " is not square");
      }
      return n.get(0).asInt();
    }
    return integer(v, "image_size", 224, where + " vision_cfg");
  }

  private static void check(JsonNode node, Set<String> read, Map<String, Object> fixed, Set<String> ignored,
      String where) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      if (read.contains(k) || ignored.contains(k)) continue;
      if (!fixed.containsKey(k)) {
        throw new IllegalArgumentException(where + ": unknown key '" + k + "' (not an open_clip ViT CLIP setting this"
            + " loader knows; nothing is guessed)");
      }
      Object want = fixed.get(k);
      JsonNode got = e.getValue();
      boolean isDefault = want == null ? got.isNull()
          : want instanceof Boolean b ? got.isBoolean() && got.asBoolean() == b
          : got.isTextual() && Objects.equals(got.asText(), want);
      if (!isDefault && !(want == null && "block_type".equals(k) && "default".equals(got.asText()))) {
        throw new IllegalArgumentException(where + ": " + k + " = " + got + " is not supported (only "
            + (want == null ? "null" : want) + "): this model does not implement it");
      }
    }
  }

  private static int integer(JsonNode node, String key, int dflt, String where) {
    JsonNode n = node.get(key);
    if (n == null || n.isNull()) {
      if (dflt == 0) throw new IllegalArgumentException(where + ": '" + key + "' is missing");
      return dflt;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) throw new IllegalArgumentException(where + ": '" + key + "' is not an integer");
    return n.intValue();
  }

  private static boolean bool(JsonNode node, String key, boolean dflt, String where) {
    JsonNode n = node.get(key);
    if (n == null || n.isNull()) return dflt;
    if (!n.isBoolean()) throw new IllegalArgumentException(where + ": '" + key + "' is not true/false");
    return n.asBoolean();
  }

  private static Map<String, Object> fixed(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  private static Map<String, JsonNode> load() {
    try (InputStream in = OpenClipConfigs.class.getResourceAsStream("open_clip_model_configs.json")) {
      if (in == null) throw new IllegalStateException("open_clip_model_configs.json is missing from the classpath");
      JsonNode root = JSON.readTree(in);
      Map<String, JsonNode> m = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getKey().startsWith("_")) m.put(e.getKey(), e.getValue());
      }
      return m;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The named configurations whose dimensions equal those of {@code shapes} ({@link OpenAiBuildModel#dimensions}):
   * all but heads, activation, ε and LayerScale, which shapes lack.
   */
  static List<String> fitting(ClipConfig shapes) {
    List<String> out = new ArrayList<>();
    for (String n : NAMED.keySet()) {
      ClipConfig c = named(n);
      if (c.embedDim() == shapes.embedDim() && c.imageResolution() == shapes.imageResolution()
          && c.visionPatchSize() == shapes.visionPatchSize() && c.contextLength() == shapes.contextLength()
          && c.vocabSize() == shapes.vocabSize() && c.visionWidth() == shapes.visionWidth()
          && c.visionLayers() == shapes.visionLayers() && c.textWidth() == shapes.textWidth()
          && c.textLayers() == shapes.textLayers() && c.vision().mlpWidth() == shapes.vision().mlpWidth()
          && c.text().mlpWidth() == shapes.text().mlpWidth()) {
        out.add(n);
      }
    }
    return out;
  }
}
