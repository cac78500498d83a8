package dev.mergetune.merge.mergekit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mergetune.io.StrictConfig;
import dev.mergetune.tensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A mergekit merge configuration (mergekit/config.py, MergeConfiguration) read as is:
 *
 * <pre>
 * merge_method: dare_ties
 * base_model: clip-vit-b16            # a checkpoint file or a folder holding model.safetensors (or its index)
 * models:
 *   - model: clip-vit-b16             # the base may be listed; it is skipped as a task vector, as in mergekit
 *   - model: cars
 *     parameters: {weight: 0.5, density: [{filter: mlp, value: 0.3}, {value: 0.5}]}
 * parameters: {normalize: true, rescale: true, int8_mask: true, lambda: 1.0}
 * dtype: float32
 * </pre>
 *
 * Strict: every key is checked (unknown ones, and mergekit keys mergetune does not run — slices, modules,
 * tokenizer settings, gradients — are errors naming the key and the file), parameters are checked against the
 * method's own list, and nulls are refused. Paths are resolved against the config file's folder (mergekit uses
 * the working directory); Hugging Face repository names are not downloaded.
 */
public record MergekitConfig(GtaMethod method, Path base, List<Path> models, GtaSettings settings, String dtype,
    DType outDType, Path file) {

  private static final Set<String> TOP = Set.of("merge_method", "base_model", "models", "parameters", "dtype",
      "out_dtype");
  private static final Set<String> TOP_NOT_RUN = Set.of("slices", "modules", "tokenizer_source", "tokenizer",
      "chat_template");
  private static final Set<String> DTYPES = Set.of("float32", "float16", "bfloat16");
  private static final Map<String, DType> STORAGE = Map.of("float32", DType.F32, "float16", DType.F16,
      "bfloat16", DType.BF16);

  /** Whether the YAML file is a mergekit configuration (it has a top-level merge_method). */
  public static boolean isMergekit(Path file) {
    try {
      JsonNode root = StrictConfig.mapper(file).readTree(StrictConfig.bytes(file, "merge config"));
      return root != null && root.isObject() && root.has("merge_method");
    } catch (IOException | IllegalArgumentException e) {
      return false;  // the reader of our own format reports the problem
    }
  }

  /**
   * Reads {@code file} through {@link StrictConfig} (size and regular-file checks, duplicate keys, nulls by key
   * path); type mismatches read as its messages ('t' must be a number, got the string "x").
   */
  public static MergekitConfig read(Path file) {
    JsonNode root = StrictConfig.tree(file, "mergekit config");
    if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a mergekit configuration (a mapping)");
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (TOP_NOT_RUN.contains(key)) {
        throw new IllegalArgumentException(file + ": mergekit key '" + key + "' is not supported by mergetune"
            + (key.equals("slices") || key.equals("modules") ? " (merge whole models with 'models:')"
                : " (mergetune writes tensors only; copy the tokenizer yourself)"));
      }
      if (!TOP.contains(key)) {
        throw new IllegalArgumentException(file + ": unknown key '" + key + "' (" + String.join(", ", new java.util.TreeSet<>(TOP)) + ")");
      }
      if (root.get(key).isNull()) throw new IllegalArgumentException(file + ": '" + key + "' is null");
    }
    GtaMethod method = GtaMethod.of(text(root, "merge_method", file));
    String dtype = root.has("dtype") ? text(root, "dtype", file) : null;
    if (dtype != null && !DTYPES.contains(dtype)) {
      throw new IllegalArgumentException(file + ": dtype '" + dtype + "' (float32, float16, bfloat16"
          + (dtype.equals("float64") ? "; the merge kernels compute in float32 only)" : ")"));
    }
    String out = root.has("out_dtype") ? text(root, "out_dtype", file) : null;
    if (out != null && !STORAGE.containsKey(out)) {
      throw new IllegalArgumentException(file + ": out_dtype '" + out + "' (float32, float16, bfloat16)");
    }
    // mergekit stores out_dtype, else the dtype it computed in (the inputs are cast to it), else the inputs' dtype
    DType outDType = out != null ? STORAGE.get(out) : dtype != null ? STORAGE.get(dtype) : null;
    Path base = root.has("base_model") ? resolveModel(file, text(root, "base_model", file), "base_model") : null;
    if (method.needsBase && base == null) throw new IllegalArgumentException(file + ": " + method.mergekitName + " needs 'base_model'");
    if (!method.needsBase && !method.isSphere() && base != null) {
      throw new IllegalArgumentException(file + ": linear takes no 'base_model' here (mergekit would merge it as one"
          + " more input with the global weight): list it under 'models' with its weight");
    }
    JsonNode list = root.get("models");
    if (list == null || !list.isArray() || list.isEmpty()) throw new IllegalArgumentException(file + ": 'models' must be a non-empty list");
    Set<String> tensorKeys = Set.copyOf(method.tensorParameters());
    List<Path> models = new ArrayList<>();
    List<Map<String, ParameterSetting>> perModel = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode entry = list.get(i);
      String where = "models[" + i + "]";
      if (!entry.isObject()) throw new IllegalArgumentException(file + ": " + where + " must be a mapping with 'model'");
      for (Iterator<String> it = entry.fieldNames(); it.hasNext(); ) {
        String key = it.next();
        if (!key.equals("model") && !key.equals("parameters")) {
          throw new IllegalArgumentException(file + ": unknown key '" + key + "' in " + where + " (model, parameters)");
        }
      }
      Path model = resolveModel(file, text(entry, "model", file, where), where + ".model");
      Map<String, ParameterSetting> params = settings(entry.get("parameters"), tensorKeys, file, where + ".parameters");
      if (base != null && model.toAbsolutePath().normalize().equals(base.toAbsolutePath().normalize())) {
        continue;  // mergekit: the base is no task vector (get_task_vectors skips it), whatever its parameters
      }
      models.add(model);
      perModel.add(params);
    }
    if (models.isEmpty()) throw new IllegalArgumentException(file + ": no model besides the base_model");
    Set<String> globalKeys = new java.util.HashSet<>(method.globalParameters());
    globalKeys.addAll(tensorKeys);
    Map<String, ParameterSetting> global = settings(root.get("parameters"), globalKeys, file, "parameters");
    return new MergekitConfig(method, base, models, new GtaSettings(method, global, perModel, file.toString()), dtype,
        outDType, file);
  }

  private static String text(JsonNode node, String key, Path file) {
    return text(node, key, file, null);
  }

  private static String text(JsonNode node, String key, Path file, String where) {
    JsonNode v = node.get(key);
    String at = where == null ? "'" + key + "'" : "'" + key + "' in " + where;
    if (v == null || v.isNull()) throw new IllegalArgumentException(file + ": " + at + " is missing");
    if (!v.isTextual()) throw StrictConfig.mismatch(file, where == null ? key : where + "." + key, "a string", v);
    return v.asText();
  }

  private static Map<String, ParameterSetting> settings(JsonNode node, Set<String> allowed, Path file, String where) {
    Map<String, ParameterSetting> out = new LinkedHashMap<>();
    if (node == null) return out;
    if (!node.isObject()) throw StrictConfig.mismatch(file, where, "a mapping", node);
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException(file + ": unknown parameter '" + key + "' in " + where + " ("
            + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
      }
      out.put(key, setting(e.getValue(), file, where + "." + key));
    }
    return out;
  }

  private static ParameterSetting setting(JsonNode v, Path file, String where) {
    if (v.isNull()) throw new IllegalArgumentException(file + ": '" + where + "' is null");
    if (v.isNumber() || v.isBoolean()) return new ParameterSetting.Scalar(scalar(v));
    if (v.isArray()) {
      if (v.isEmpty()) throw new IllegalArgumentException(file + ": '" + where + "' is an empty list");
      List<ParameterSetting.Conditional> conds = new ArrayList<>();
      for (int i = 0; i < v.size(); i++) {
        JsonNode c = v.get(i);
        if (c.isNumber() || c.isBoolean()) {
          throw new IllegalArgumentException(file + ": '" + where + "' is a gradient (a list of values over the"
              + " layers), which mergetune does not support: use {filter, value} conditions");
        }
        if (!c.isObject()) throw new IllegalArgumentException(file + ": '" + where + "[" + i + "]' must be {filter, value}");
        for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!k.equals("filter") && !k.equals("value")) {
            throw new IllegalArgumentException(file + ": unknown key '" + k + "' in '" + where + "[" + i + "]' (filter, value)");
          }
        }
        JsonNode value = c.get("value");
        if (value == null || value.isNull()) throw new IllegalArgumentException(file + ": '" + where + "[" + i + "]' has no value");
        if (!value.isNumber() && !value.isBoolean()) {
          if (value.isArray()) {
            throw new IllegalArgumentException(file + ": '" + where + "[" + i + "].value' is a list: gradients are not supported");
          }
          throw StrictConfig.mismatch(file, where + "[" + i + "].value", "a number or true or false", value);
        }
        JsonNode filter = c.get("filter");
        if (filter != null && !filter.isNull() && !filter.isTextual()) {
          throw StrictConfig.mismatch(file, where + "[" + i + "].filter", "a string", filter);
        }
        if (filter != null && filter.isNull()) throw new IllegalArgumentException(file + ": '" + where + "[" + i + "].filter' is null");
        conds.add(new ParameterSetting.Conditional(filter == null ? null : filter.asText(), scalar(value)));
      }
      return new ParameterSetting.Conditions(conds);
    }
    throw StrictConfig.mismatch(file, where, "a number, a boolean or a list of {filter, value}", v);
  }

  private static Object scalar(JsonNode v) {
    return v.isBoolean() ? (Object) v.booleanValue() : (Object) v.doubleValue();
  }

  /** A model reference as a local checkpoint: a file, or a folder holding model.safetensors or its shard index. */
  static Path resolveModel(Path file, String ref, String where) {
    Path dir = file.toAbsolutePath().getParent();
    Path p = Path.of(ref);
    if (!p.isAbsolute() && dir != null) p = dir.resolve(p);
    if (Files.isRegularFile(p)) return p;
    if (Files.isDirectory(p)) {
      for (String name : List.of("model.safetensors", "model.safetensors.index.json")) {
        if (Files.isRegularFile(p.resolve(name))) return p.resolve(name);
      }
      throw new IllegalArgumentException(file + ": " + where + " '" + ref + "' is a folder without model.safetensors"
          + " or model.safetensors.index.json");
    }
    throw new IllegalArgumentException(file + ": " + where + " '" + ref + "' is not a local file or folder"
        + (ref.contains("+") ? " (LoRA references 'model+lora' are not supported)"
            : " (mergetune reads local checkpoints; it does not download from the Hugging Face hub)"));
  }
}
