package dev.mergetune.clip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Set;

/**
 * The project's own record of a {@link ClipConfig}, a compact JSON object stored in checkpoint metadata under
 * {@value #METADATA_KEY} (and in run records):
 *
 * <pre>{"format":"mergetune-clip-config/1","embed_dim":512,"image_size":224,"patch_size":16,"context_length":77,
 *  "vocab_size":49408,"vision":{"width":768,"layers":12,"heads":12,"mlp_width":3072,"activation":"quick_gelu",
 *  "layer_norm_eps":1.0E-5,"layer_scale":false},"text":{…}}</pre>
 *
 * Reading is strict: every key is required and an unknown key is an error, so a record never half-describes a model.
 */
public final class ClipConfigJson {
  /** The metadata key holding the configuration. */
  public static final String METADATA_KEY = "mergetune.clip.model_config";
  /** The metadata key naming where the configuration first came from (family and source), for {@code info}. */
  public static final String ORIGIN_KEY = "mergetune.clip.model_origin";
  static final String FORMAT = "mergetune-clip-config/1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> TOP = Set.of("format", "embed_dim", "image_size", "patch_size", "context_length",
      "vocab_size", "vision", "text");
  private static final Set<String> TOWER = Set.of("width", "layers", "heads", "mlp_width", "activation",
      "layer_norm_eps", "layer_scale");

  private ClipConfigJson() {}

  public static String write(ClipConfig c) {
    ObjectNode j = JSON.createObjectNode();
    j.put("format", FORMAT);
    j.put("embed_dim", c.embedDim());
    j.put("image_size", c.imageResolution());
    j.put("patch_size", c.visionPatchSize());
    j.put("context_length", c.contextLength());
    j.put("vocab_size", c.vocabSize());
    tower(j.putObject("vision"), c.vision());
    tower(j.putObject("text"), c.text());
    return j.toString();
  }

  private static void tower(ObjectNode j, ClipTower t) {
    j.put("width", t.width());
    j.put("layers", t.layers());
    j.put("heads", t.heads());
    j.put("mlp_width", t.mlpWidth());
    j.put("activation", t.activation().key());
    j.put("layer_norm_eps", t.layerNormEps());
    j.put("layer_scale", t.layerScale());
  }

  /** Parses a record; {@code where} names its origin in errors (a file and metadata key, a run.json). */
  public static ClipConfig read(String json, String where) {
    JsonNode j;
    try {
      j = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(where + ": not a JSON model configuration ("
          + e.getOriginalMessage() + ")");
    }
    if (j == null || !j.isObject()) throw new IllegalArgumentException(where + ": the model configuration is not a JSON object");
    keys(j, TOP, where);
    if (!FORMAT.equals(j.path("format").asText())) {
      throw new IllegalArgumentException(where + ": model configuration format '" + j.path("format").asText()
          + "', expected " + FORMAT);
    }
    try {
      return new ClipConfig(integer(j, "embed_dim", where), integer(j, "image_size", where),
          integer(j, "patch_size", where), integer(j, "context_length", where), integer(j, "vocab_size", where),
          tower(j.get("vision"), where + " vision"), tower(j.get("text"), where + " text"));
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith(where) ? e : new IllegalArgumentException(where + ": " + e.getMessage());
    }
  }

  private static ClipTower tower(JsonNode j, String where) {
    if (j == null || !j.isObject()) throw new IllegalArgumentException(where + ": missing tower object");
    keys(j, TOWER, where);
    JsonNode eps = j.get("layer_norm_eps");
    JsonNode ls = j.get("layer_scale");
    if (!eps.isNumber()) throw new IllegalArgumentException(where + ": 'layer_norm_eps' is not a number");
    if (!ls.isBoolean()) throw new IllegalArgumentException(where + ": 'layer_scale' is not true/false");
    return new ClipTower(integer(j, "width", where), integer(j, "layers", where), integer(j, "heads", where),
        integer(j, "mlp_width", where), Activation.parse(j.get("activation").asText(), where + " 'activation'"),
        eps.asDouble(), ls.asBoolean());
  }

  private static void keys(JsonNode j, Set<String> known, String where) {
    for (Iterator<String> it = j.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!known.contains(k)) throw new IllegalArgumentException(where + ": unknown key '" + k + "' in the model configuration");
    }
    for (String k : known) {
      if (!j.has(k)) throw new IllegalArgumentException(where + ": the model configuration lacks '" + k + "'");
    }
  }

  private static int integer(JsonNode j, String key, String where) {
    JsonNode n = j.get(key);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new IllegalArgumentException(where + ": '" + key + "' is not an integer");
    }
    return n.intValue();
  }
}
