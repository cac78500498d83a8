package dev.mergetune.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code CLIPModel} snapshot's {@code config.json}, read as {@code transformers}' {@code CLIPConfig}
 * reads it: {@code text_config} / {@code vision_config} (updated by the legacy {@code text_config_dict} /
 * {@code vision_config_dict} where present), top-level {@code projection_dim}; per tower {@code hidden_size},
 * {@code intermediate_size}, {@code num_hidden_layers}, {@code num_attention_heads}, {@code hidden_act}
 * ({@code quick_gelu} or {@code gelu}; others are refused), {@code layer_norm_eps}; vision {@code image_size},
 * {@code patch_size}, {@code num_channels} (3); text {@code max_position_embeddings}, {@code vocab_size}.
 *
 * <p>A key a saved config leaves out takes {@code CLIPTextConfig} / {@code CLIPVisionConfig}'s default, as
 * transformers does (its {@code save_pretrained} writes only the values that differ from them) — e.g. a missing
 * {@code hidden_act} is {@code quick_gelu} — and each such default is listed in {@link Read#defaults()} so that
 * {@code info} shows it. Text pooling: transformers pools at the first {@code eos_token_id} (or at the largest id
 * when it is the legacy 2); the model here pools at the largest id, which is the same token only when
 * {@code eos_token_id} is 2 or the vocabulary's last id, so other values are refused.
 */
public final class HuggingFaceConfig {
  /** The file name in a snapshot folder. */
  public static final String FILE = "config.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The configuration and the keys that took transformers' defaults. */
  public record Read(ClipConfig config, List<String> defaults) {}

  private HuggingFaceConfig() {}

  /** Whether {@code file} is a CLIPModel config.json (model_type clip), without failing on anything else. */
  public static boolean isClipConfig(Path file) {
    try {
      JsonNode j = JSON.readTree(file.toFile());
      return j != null && "clip".equals(j.path("model_type").asText());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  public static Read read(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read the Hugging Face config (" + e.getMessage().lines()
          .findFirst().orElse("") + ")");
    }
    if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
    return parse(root, file.toString());
  }

  public static Read parse(JsonNode root, String where) {
    String type = root.path("model_type").asText("");
    if (!type.equals("clip")) {
      throw new IllegalArgumentException(where + ": model_type is '" + type + "', not 'clip' (a transformers CLIPModel"
          + " config.json); other model types are not supported");
    }
    List<String> defaults = new ArrayList<>();
    JsonNode text = merged(root, "text_config", where);
    JsonNode vision = merged(root, "vision_config", where);
    int projection = integer(root, "projection_dim", 512, "", defaults, where);
    int channels = integer(vision, "num_channels", 3, "vision_config.", defaults, where);
    if (channels != 3) throw new IllegalArgumentException(where + ": vision_config.num_channels is " + channels + ", not 3");
    int tVocab = integer(text, "vocab_size", 49408, "text_config.", defaults, where);
    int eos = integer(text, "eos_token_id", 49407, "text_config.", defaults, where);
    if (eos != 2 && eos != tVocab - 1) {
      throw new IllegalArgumentException(where + ": text_config.eos_token_id is " + eos + ", neither the legacy 2 nor"
          + " the vocabulary's last id " + (tVocab - 1) + ": pooling at it is not supported");
    }
    try {
      ClipTower v = tower(vision, "vision_config.", 768, 3072, 12, 12, defaults, where);
      ClipTower t = tower(text, "text_config.", 512, 2048, 12, 8, defaults, where);
      return new Read(new ClipConfig(projection, integer(vision, "image_size", 224, "vision_config.", defaults, where),
          integer(vision, "patch_size", 32, "vision_config.", defaults, where),
          integer(text, "max_position_embeddings", 77, "text_config.", defaults, where), tVocab, v, t),
          List.copyOf(defaults));
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith(where) ? e : new IllegalArgumentException(where + ": " + e.getMessage());
    }
  }

  private static ClipTower tower(JsonNode n, String p, int width, int mlp, int layers, int heads, List<String> defaults,
      String where) {
    String act = n.has("hidden_act") ? n.get("hidden_act").asText() : null;
    if (act == null) defaults.add(p + "hidden_act = quick_gelu");
    JsonNode eps = n.get("layer_norm_eps");
    if (eps != null && !eps.isNumber()) throw new IllegalArgumentException(where + ": " + p + "layer_norm_eps is not a number");
    if (eps == null) defaults.add(p + "layer_norm_eps = 1e-05");
    return new ClipTower(integer(n, "hidden_size", width, p, defaults, where),
        integer(n, "num_hidden_layers", layers, p, defaults, where),
        integer(n, "num_attention_heads", heads, p, defaults, where),
        integer(n, "intermediate_size", mlp, p, defaults, where),
        Activation.parse(act == null ? "quick_gelu" : act, where + ": " + p + "hidden_act"),
        eps == null ? 1e-5 : eps.asDouble(), false);
  }

  /** {@code key} updated by {@code key_dict} (transformers' backward compatibility), or an empty object. */
  private static JsonNode merged(JsonNode root, String key, String where) {
    ObjectNode out = JSON.createObjectNode();
    for (String k : new String[] {key, key + "_dict"}) {
      JsonNode n = root.get(k);
      if (n == null || n.isNull()) continue;
      if (!n.isObject()) throw new IllegalArgumentException(where + ": " + k + " is not an object");
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.set(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  private static int integer(JsonNode n, String key, int dflt, String prefix, List<String> defaults, String where) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      defaults.add(prefix + key + " = " + dflt);
      return dflt;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new IllegalArgumentException(where + ": " + prefix + key + " is not an integer: " + v);
    }
    return v.intValue();
  }
}
