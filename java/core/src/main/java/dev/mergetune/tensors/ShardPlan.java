package dev.mergetune.tensors;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How a layout is split into Hugging Face style shards ({@code model-00001-of-0000N.safetensors} beside
 * {@code model.safetensors.index.json}), as huggingface_hub's {@code split_torch_state_dict_into_shards} does: in
 * layout order, a tensor goes into the current shard unless that would take the shard past {@code maxBytes} of
 * tensor data and the shard already holds a tensor; a tensor larger than {@code maxBytes} has a shard of its own.
 */
public record ShardPlan(int[] shardOf, int shards) {
  /** HF's single-file name, and its index name. */
  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  private static final Pattern SHARD = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

  public static ShardPlan of(List<TensorInfo> layout, long maxBytes) {
    if (maxBytes <= 0) throw new IllegalArgumentException("shard size must be positive, got " + maxBytes);
    int[] shardOf = new int[layout.size()];
    int shard = 0;
    long used = 0;
    boolean any = false;
    for (int i = 0; i < layout.size(); i++) {
      long b = layout.get(i).byteLength();
      if (any && used + b > maxBytes) {
        shard++;
        used = 0;
      }
      shardOf[i] = shard;
      used += b;
      any = true;
    }
    return new ShardPlan(shardOf, layout.isEmpty() ? 1 : shard + 1);
  }

  /** Shard s's file name (0-based s). */
  public String fileName(int s) {
    return String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, shards);
  }

  /** The tensors of shard s, in layout order. */
  public List<TensorInfo> tensorsOf(List<TensorInfo> layout, int s) {
    List<TensorInfo> out = new ArrayList<>();
    for (int i = 0; i < layout.size(); i++) if (shardOf[i] == s) out.add(layout.get(i));
    return out;
  }

  /** The index file's JSON: {"metadata": {"total_size": bytes of tensor data}, "weight_map": {name: file}} (sorted). */
  public String indexJson(List<TensorInfo> layout) {
    long total = 0;
    Map<String, String> map = new TreeMap<>();
    for (int i = 0; i < layout.size(); i++) {
      total += layout.get(i).byteLength();
      map.put(layout.get(i).name(), fileName(shardOf[i]));
    }
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var root = mapper.createObjectNode();
    root.putObject("metadata").put("total_size", total);
    var wm = root.putObject("weight_map");
    map.forEach(wm::put);
    return root.toPrettyString() + "\n";
  }

  /** Whether a file name is one of HF's shard names (any count), e.g. left by an earlier write to the folder. */
  public static boolean isShardName(String name) {
    return SHARD.matcher(name).matches();
  }

  /**
   * Parses a size: a number of bytes with an optional unit, decimal as HF writes them (5GB = 5·10⁹) or binary
   * (5GiB = 5·2³⁰): B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (case-insensitive); errors name {@code flag}.
   */
  public static long parseSize(String text, String flag) {
    var m = Pattern.compile("(?i)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\\s*").matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException(flag + " '" + text + "' is not a size (e.g. 5GB, 500MB, 2GiB, 1000000)");
    }
    double v = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    double scale = switch (unit) {
      case "b" -> 1;
      case "kb" -> 1e3;
      case "mb" -> 1e6;
      case "gb" -> 1e9;
      case "tb" -> 1e12;
      case "kib" -> 1024.0;
      case "mib" -> 1024.0 * 1024;
      case "gib" -> 1024.0 * 1024 * 1024;
      default -> 1024.0 * 1024 * 1024 * 1024;
    };
    double bytes = v * scale;
    if (bytes < 1 || bytes > Long.MAX_VALUE / 2) throw new IllegalArgumentException(flag + " '" + text + "' is out of range");
    return (long) bytes;
  }
}
