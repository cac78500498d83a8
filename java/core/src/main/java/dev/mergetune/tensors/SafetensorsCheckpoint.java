package dev.mergetune.tensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint in safetensors form: one file, or shards listed by a {@code *.safetensors.index.json}
 * ({"metadata": {...}, "weight_map": {tensor: shard file}}). The index and the shards must agree exactly: a tensor
 * listed but missing from its shard, present in a shard the index does not name for it, or present in two shards
 * is an error naming it. Tensors are listed shard by shard, each in its file's header order.
 */
public final class SafetensorsCheckpoint implements Checkpoint {
  private final Path path;
  private final List<SafetensorsFile> shards;
  private final Map<String, SafetensorsFile> owner;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsCheckpoint(Path path, List<SafetensorsFile> shards, Map<String, String> metadata) {
    this.path = path;
    this.shards = shards;
    this.metadata = metadata;
    Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
    Map<String, TensorInfo> infos = new LinkedHashMap<>();
    for (SafetensorsFile shard : shards) {
      for (TensorInfo t : shard.tensors().values()) {
        SafetensorsFile previous = owners.put(t.name(), shard);
        if (previous != null) {
          throw new CheckpointFormatException(path, "tensor '" + t.name() + "' is in both " + previous.path().getFileName()
              + " and " + shard.path().getFileName());
        }
        infos.put(t.name(), t);
      }
    }
    this.owner = Collections.unmodifiableMap(owners);
    this.tensors = Collections.unmodifiableMap(infos);
  }

  /** Opens a .safetensors file or a sharded checkpoint's index .json. */
  public static SafetensorsCheckpoint open(Path path) {
    if (!path.getFileName().toString().endsWith(".json")) {
      SafetensorsFile f = SafetensorsFile.open(path);
      return new SafetensorsCheckpoint(path, List.of(f), f.metadata());
    }
    JsonNode index;
    try {
      index = dev.mergetune.io.StrictConfig.tree(path, "shard index");  // bounded, duplicate keys refused
    } catch (dev.mergetune.io.ConfigException e) {
      throw new CheckpointFormatException(path, "cannot read the shard index: "
          + e.getMessage().replaceFirst("^.*?" + java.util.regex.Pattern.quote(path.toString()) + "[:,]\\s*", ""), e);
    }
    JsonNode weightMap = index == null ? null : index.get("weight_map");
    if (weightMap == null || !weightMap.isObject()) {
      throw new CheckpointFormatException(path, "shard index has no \"weight_map\" object");
    }
    Map<String, String> shardOf = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new CheckpointFormatException(path, "weight_map entry '" + e.getKey() + "' is not a file name");
      }
      String file = e.getValue().textValue();
      if (file.contains("/") || file.contains("\\") || file.equals("..")) {
        throw new CheckpointFormatException(path, "weight_map entry '" + e.getKey() + "' points outside the folder: " + file);
      }
      shardOf.put(e.getKey(), file);
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    JsonNode meta = index.get("metadata");
    if (meta != null && meta.isObject()) meta.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));

    List<SafetensorsFile> shards = new ArrayList<>();
    try {
      for (String file : new java.util.LinkedHashSet<>(shardOf.values())) {
        String bad = dev.mergetune.io.PathNames.problem(file);  // shards are siblings: a plain file name, no NUL
        if (bad != null) throw new CheckpointFormatException(path, "shard name '" + file.replace('\0', '?') + "' " + bad);
        Path shardPath = path.resolveSibling(file);
        if (!Files.isRegularFile(shardPath)) throw new CheckpointFormatException(path, "shard " + file + " is missing");
        shards.add(SafetensorsFile.open(shardPath));
      }
      // the model's own metadata lives in the shards' headers (HF writes {"format": "pt"} in each; mergetune its
      // provenance): the first shard's, under the index's own entries (total_size)
      Map<String, String> all = new LinkedHashMap<>(shards.isEmpty() ? Map.of() : shards.get(0).metadata());
      all.putAll(metadata);
      SafetensorsCheckpoint ckpt = new SafetensorsCheckpoint(path, shards, Collections.unmodifiableMap(all));
      for (Map.Entry<String, String> e : shardOf.entrySet()) {
        SafetensorsFile actual = ckpt.owner.get(e.getKey());
        if (actual == null) {
          throw new CheckpointFormatException(path, "tensor '" + e.getKey() + "' is listed in " + e.getValue()
              + " but no shard holds it");
        }
        if (!actual.path().getFileName().toString().equals(e.getValue())) {
          throw new CheckpointFormatException(path, "tensor '" + e.getKey() + "' is listed in " + e.getValue()
              + " but stored in " + actual.path().getFileName());
        }
      }
      for (String name : ckpt.tensors.keySet()) {
        if (!shardOf.containsKey(name)) {
          throw new CheckpointFormatException(path, "tensor '" + name + "' is in " + ckpt.owner.get(name).path().getFileName()
              + " but not in the index");
        }
      }
      return ckpt;
    } catch (RuntimeException e) {
      shards.forEach(SafetensorsFile::close);
      throw e;
    }
  }

  @Override
  public Path path() {
    return path;
  }

  /** Every tensor, shard by shard in header order. */
  @Override
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public int shardCount() {
    return shards.size();
  }

  @Override
  public float[] readFloats(String name) {
    return file(name).readFloats(name);
  }

  @Override
  public ByteBuffer bytes(String name) {
    return file(name).bytes(name);
  }

  /** Explicit positioned reads from the owning shard ({@link SafetensorsFile#read}): no mapping. */
  @Override
  public void read(String name, ByteBuffer dst) {
    file(name).read(name, dst);
  }

  /**
   * For a single file, computes its {@code algorithm} digest from the reads {@link #read} makes
   * ({@link SafetensorsFile#digestWhileReading}) and returns true; a sharded checkpoint returns false (its recorded
   * digest is the index file's).
   */
  public boolean digestWhileReading(dev.mergetune.io.ContentDigest algorithm) {
    if (shards.size() != 1 || !path.equals(shards.get(0).path())) return false;
    shards.get(0).digestWhileReading(algorithm);
    return true;
  }

  /** The file's digest after {@link #digestWhileReading} returned true. */
  public String finishDigest() {
    return shards.get(0).finishDigest();
  }

  private SafetensorsFile file(String name) {
    SafetensorsFile f = owner.get(name);
    if (f == null) throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
    return f;
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (SafetensorsFile f : shards) {
      try {
        f.close();
      } catch (RuntimeException e) {
        if (first == null) first = e;
      }
    }
    if (first != null) throw first;
  }
}
