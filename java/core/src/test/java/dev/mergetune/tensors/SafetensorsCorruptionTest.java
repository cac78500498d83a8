package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt files give a CheckpointFormatException naming the file (and the tensor) — never a crash, a hang, another
 * exception type, or an allocation sized by a corrupt field.
 */
class SafetensorsCorruptionTest {
  @TempDir Path dir;

  private Path craft(String json, int dataBytes) throws IOException {
    return craft(json.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8).length, dataBytes);
  }

  private Path craft(byte[] json, long claimedLength, int dataBytes) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(claimedLength).put(json);
    Path p = Files.createTempFile(dir, "crafted", ".safetensors");
    Files.write(p, b.array());
    return p;
  }

  private static void assertRejected(Path p, String... fragments) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsFile.open(p).close());
    assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
  }

  private static String tensor(String name, String dtype, String shape, long begin, long end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  @Test
  void aValidCraftedFileOpens() throws IOException {
    Path p = craft("{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "I64", "[1]", 8, 16) + "}", 16);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertTrue(f.tensors().containsKey("b"));
    }
  }

  @Test
  void badHeaderLengths() throws IOException {
    byte[] json = ("{" + tensor("a", "F32", "[1]", 0, 4) + "}").getBytes(StandardCharsets.UTF_8);
    assertRejected(craft(json, -1L, 4), "exceeds");  // 2^64 − 1 as unsigned
    assertRejected(craft(json, SafetensorsHeader.MAX_HEADER_BYTES + 1, 4), "exceeds");
    assertRejected(craft(json, json.length + 100, 4), "past the end");
    assertRejected(craft(json, 0, 4), "too small");
    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertRejected(tiny, "too short");
  }

  @Test
  void badJsonAndEntries() throws IOException {
    assertRejected(craft("{not json", 0), "not valid JSON");
    assertRejected(craft("[1,2]", 0), "not a JSON object");
    assertRejected(craft("{" + tensor("a", "F33", "[1]", 0, 4) + "}", 4), "'a'", "unknown dtype 'F33'");
    assertRejected(craft("{" + tensor("a", "F32", "[-1]", 0, 4) + "}", 4), "'a'", "shape entry 0");
    assertRejected(craft("{" + tensor("a", "F32", "[1.5]", 0, 4) + "}", 4), "'a'", "shape entry 0");
    assertRejected(craft("{" + tensor("a", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4), "'a'", "overflows");
    assertRejected(craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "'a'", "data_offsets");
    assertRejected(craft("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "'a'", "dtype");
    assertRejected(craft("{\"a\":7}", 0), "'a'", "not a JSON object");
    assertRejected(craft("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("a", "F32", "[1]", 4, 8) + "}", 8), "JSON");
    assertRejected(craft("{\"__metadata__\":{\"k\":1}," + tensor("a", "F32", "[1]", 0, 4) + "}", 4), "__metadata__");
  }

  @Test
  void badOffsets() throws IOException {
    assertRejected(craft("{" + tensor("a", "F32", "[2]", 0, 4) + "}", 4), "'a'", "needs 8");
    assertRejected(craft("{" + tensor("a", "F32", "[1]", 4, 0) + "}", 4), "'a'", "before begin");
    assertRejected(craft("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[1]", 2, 6) + "}", 8),
        "overlaps");
    assertRejected(craft("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[1]", 8, 12) + "}", 12),
        "'b'", "hole");
    assertRejected(craft("{" + tensor("a", "F32", "[1]", 0, 4) + "}", 12), "trailing bytes");
    assertRejected(craft("{" + tensor("a", "F32", "[4]", 0, 16) + "}", 8), "'a'", "truncated");
    assertRejected(craft("{" + tensor("a", "F32", "[1]", 0, 99999999999999L) + "}", 4), "'a'");
  }

  @Test
  void everyTruncationOfARealFileIsRejected() throws IOException {
    Path good = dir.resolve("good.safetensors");
    SafetensorsWriter.write(good, List.of(
        TensorSource.ofFloats("w", new long[] {3, 3}, new float[9], DType.F32),
        TensorSource.ofFloats("h", new long[] {5}, new float[5], DType.BF16)), Map.of("k", "v"));
    byte[] bytes = Files.readAllBytes(good);
    for (int len = 0; len < bytes.length; len++) {
      Path cut = dir.resolve("cut.safetensors");
      Files.write(cut, Arrays.copyOf(bytes, len));
      assertThrows(CheckpointFormatException.class, () -> SafetensorsFile.open(cut).close(), "length " + len);
    }
  }

  /** Random byte corruption anywhere in a real file: it opens and reads, or it is rejected cleanly. */
  @Property(tries = 400)
  void randomCorruptionNeverEscapesAsAnotherError(
      @ForAll @IntRange(min = 0, max = 400) int position, @ForAll byte value,
      @ForAll @IntRange(min = 0, max = 3) int extraFlips, @ForAll @IntRange(min = 1, max = 1 << 20) int seed)
      throws IOException {
    Path good = Files.createTempFile("good", ".safetensors");
    Path bad = Files.createTempFile("bad", ".safetensors");
    try {
      SafetensorsWriter.write(good, List.of(
          TensorSource.ofFloats("visual.proj", new long[] {4, 4}, new float[16], DType.F32),
          TensorSource.ofFloats("ln.weight", new long[] {6}, new float[6], DType.F16)), Map.of("method", "x"));
      byte[] bytes = Files.readAllBytes(good);
      java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
      bytes[position % bytes.length] = value;
      for (int i = 0; i < extraFlips; i++) bytes[r.nextInt(bytes.length)] ^= (byte) (1 << r.nextInt(8));
      Files.write(bad, bytes);
      try (SafetensorsFile f = SafetensorsFile.open(bad)) {
        for (TensorInfo t : f.tensors().values()) {
          if (t.dtype().isFloating()) f.readFloats(t.name()); else f.bytes(t.name());
        }
      } catch (CheckpointFormatException expected) {
        // a clean rejection
      }
    } finally {
      Files.deleteIfExists(good);
      Files.deleteIfExists(bad);
    }
  }
}
