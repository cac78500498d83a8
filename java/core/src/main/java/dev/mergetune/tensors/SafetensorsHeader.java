package dev.mergetune.tensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, validated before a single tensor byte is touched.
 *
 * <p>Layout: 8 bytes little-endian u64 N, N bytes of UTF-8 JSON, then the data buffer. The JSON maps each tensor
 * name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data buffer) plus an optional
 * "__metadata__" string map. Checked here: N within the file and at most {@link #MAX_HEADER_BYTES}; valid JSON
 * without duplicate keys; known dtypes; non-negative shapes whose byte size (without overflow) equals end − begin;
 * and, as the format's reference implementation requires, tensors that tile the data buffer exactly — no overlap,
 * no hole, no trailing bytes. Every failure names the file and the tensor.
 */
public final class SafetensorsHeader {
  /** The reference implementation's limit; a larger claimed header is corruption, not a model. */
  public static final long MAX_HEADER_BYTES = 100L << 20;

  static final String METADATA_KEY = "__metadata__";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final long dataStart;

  private SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {
    this.tensors = Collections.unmodifiableMap(tensors);
    this.metadata = Collections.unmodifiableMap(metadata);
    this.dataStart = dataStart;
  }

  /** Tensors in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** File offset of the data buffer (8 + N). */
  public long dataStart() {
    return dataStart;
  }

  /** Checks the 8-byte length prefix against the file size; returns N. */
  static long checkHeaderLength(Path file, long headerLength, long fileSize) {
    if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {  // negative: a u64 above 2^63
      throw new CheckpointFormatException(file, "header length " + Long.toUnsignedString(headerLength)
          + " exceeds the format's limit of " + MAX_HEADER_BYTES + " bytes (corrupt file?)");
    }
    if (headerLength > fileSize - 8) {
      throw new CheckpointFormatException(file, "header length " + headerLength + " runs past the end of the "
          + fileSize + "-byte file (truncated?)");
    }
    if (headerLength < 2) throw new CheckpointFormatException(file, "header length " + headerLength + " is too small");
    return headerLength;
  }

  /** Parses and validates the header JSON of a file of {@code fileSize} bytes. */
  static SafetensorsHeader parse(Path file, byte[] json, long fileSize) {
    long dataStart = 8L + json.length;
    long dataSize = fileSize - dataStart;
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new CheckpointFormatException(file, "header is not valid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new CheckpointFormatException(file, "header cannot be read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) throw new CheckpointFormatException(file, "header is not a JSON object");
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    List<long[]> ranges = new ArrayList<>();  // [begin, end, index into names]
    List<String> names = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      String name = e.getKey();
      if (name.equals(METADATA_KEY)) {
        readMetadata(file, e.getValue(), metadata);
        continue;
      }
      TensorInfo info = readTensor(file, name, e.getValue(), dataStart, dataSize);
      tensors.put(name, info);
      ranges.add(new long[] {info.fileOffset() - dataStart, info.fileOffset() - dataStart + info.byteLength(), names.size()});
      names.add(name);
    }
    ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
    long expected = 0;
    for (long[] r : ranges) {
      String name = names.get((int) r[2]);
      if (r[0] < expected) {
        throw new CheckpointFormatException(file, "tensor '" + name + "' overlaps the tensor before it (data_offsets "
            + r[0] + ".." + r[1] + ", previous ends at " + expected + ")");
      }
      if (r[0] > expected) {
        throw new CheckpointFormatException(file, "tensor '" + name + "' starts at " + r[0]
            + " but the previous tensor ends at " + expected + " (a hole in the data buffer)");
      }
      expected = r[1];
    }
    if (expected != dataSize) {
      throw new CheckpointFormatException(file, "the tensors cover " + expected + " bytes of a " + dataSize
          + "-byte data buffer (" + (expected < dataSize ? "trailing bytes" : "truncated") + ")");
    }
    return new SafetensorsHeader(tensors, metadata, dataStart);
  }

  private static void readMetadata(Path file, JsonNode node, Map<String, String> out) {
    if (!node.isObject()) throw new CheckpointFormatException(file, "__metadata__ is not a JSON object");
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new CheckpointFormatException(file, "__metadata__ value of '" + e.getKey() + "' is not a string");
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
  }

  private static TensorInfo readTensor(Path file, String name, JsonNode node, long dataStart, long dataSize) {
    if (!node.isObject()) throw bad(file, name, "entry is not a JSON object");
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) throw bad(file, name, "missing or non-string dtype");
    DType dtype = DType.fromSafetensorsName(dtypeNode.textValue());
    if (dtype == null) throw bad(file, name, "unknown dtype '" + dtypeNode.textValue() + "'");
    JsonNode shapeNode = node.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) throw bad(file, name, "missing or non-array shape");
    long[] shape = new long[shapeNode.size()];
    long bytes = dtype.byteSize();
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
        throw bad(file, name, "shape entry " + i + " is not a non-negative integer: " + d);
      }
      shape[i] = d.longValue();
      try {
        bytes = Math.multiplyExact(bytes, shape[i]);
      } catch (ArithmeticException overflow) {
        throw bad(file, name, "shape " + shapeNode + " overflows a 64-bit byte count");
      }
    }
    JsonNode offsets = node.get("data_offsets");
    if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw bad(file, name, "data_offsets must be an array [begin, end]");
    }
    long[] be = new long[2];
    for (int i = 0; i < 2; i++) {
      JsonNode o = offsets.get(i);
      if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
        throw bad(file, name, "data_offsets entry " + i + " is not a non-negative integer: " + o);
      }
      be[i] = o.longValue();
    }
    if (be[1] < be[0]) throw bad(file, name, "data_offsets end " + be[1] + " is before begin " + be[0]);
    if (be[1] > dataSize) {
      throw bad(file, name, "data_offsets end " + be[1] + " is past the " + dataSize + "-byte data buffer (truncated?)");
    }
    if (be[1] - be[0] != bytes) {
      throw bad(file, name, "data_offsets span " + (be[1] - be[0]) + " bytes but " + dtype + " " + shapeNode
          + " needs " + bytes);
    }
    return new TensorInfo(name, dtype, shape, dataStart + be[0], bytes);
  }

  private static CheckpointFormatException bad(Path file, String tensor, String what) {
    return new CheckpointFormatException(file, "tensor '" + tensor + "': " + what);
  }

  /**
   * Serialises a header for tensors laid out back to back in the given order, padded with spaces to a multiple of
   * 8 bytes (as the reference writer does, so the data buffer is aligned). Metadata keys are written sorted, whatever
   * map the caller built, so identical runs write identical bytes (the Python writer sorts them too).
   */
  static byte[] serialize(List<TensorInfo> layout, Map<String, String> metadata) {
    ObjectNode root = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = root.putObject(METADATA_KEY);
      new java.util.TreeMap<>(metadata).forEach(m::put);
    }
    long offset = 0;
    for (TensorInfo t : layout) {
      ObjectNode n = root.putObject(t.name());
      n.put("dtype", t.dtype().name());
      var shape = n.putArray("shape");
      for (long d : t.shape()) shape.add(d);
      var offsets = n.putArray("data_offsets");
      offsets.add(offset);
      offsets.add(offset + t.byteLength());
      offset += t.byteLength();
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("serialising a safetensors header", e);
    }
    int padded = (json.length + 7) & ~7;
    byte[] out = java.util.Arrays.copyOf(json, padded);
    java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }
}
