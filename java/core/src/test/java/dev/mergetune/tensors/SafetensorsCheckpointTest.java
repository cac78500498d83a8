package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded checkpoints: the index and the shards must agree exactly. */
class SafetensorsCheckpointTest {
  @TempDir Path dir;

  @BeforeEach
  void writeShards() throws IOException {
    SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), List.of(
        TensorSource.ofFloats("a", new long[] {2}, new float[] {1, 2}, DType.F32),
        TensorSource.ofFloats("b", new long[] {1}, new float[] {3}, DType.F32)), Map.of());
    SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), List.of(
        TensorSource.ofFloats("c", new long[] {3}, new float[] {4, 5, 6}, DType.BF16)), Map.of());
  }

  private Path index(String weightMap) throws IOException {
    Path p = dir.resolve("model.safetensors.index.json");
    Files.writeString(p, "{\"metadata\":{\"total_size\":18},\"weight_map\":{" + weightMap + "}}");
    return p;
  }

  private static final String GOOD = "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
      + "\"c\":\"model-00002-of-00002.safetensors\"";

  @Test
  void readsTensorsAcrossShards() throws IOException {
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(index(GOOD))) {
      assertEquals(List.of("a", "b", "c"), List.copyOf(ckpt.tensors().keySet()));
      assertEquals(2, ckpt.shardCount());
      assertArrayEquals(new float[] {4, 5, 6}, ckpt.readFloats("c"));
      assertEquals("18", ckpt.metadata().get("total_size"));
    }
  }

  @Test
  void disagreementsBetweenIndexAndShardsAreNamed() throws IOException {
    String missingTensor = GOOD + ",\"d\":\"model-00002-of-00002.safetensors\"";
    assertMessage(index(missingTensor), "'d'", "no shard holds it");
    String wrongShard = GOOD.replace("\"a\":\"model-00001", "\"a\":\"model-00002");
    assertMessage(index(wrongShard), "'a'", "listed in model-00002-of-00002.safetensors but stored in model-00001");
    String unindexed = "\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"";
    assertMessage(index(unindexed), "'b'", "not in the index");
    assertMessage(index(GOOD + ",\"e\":\"model-00003-of-00002.safetensors\""), "model-00003-of-00002.safetensors is missing");
    assertMessage(index("\"a\":\"../elsewhere.safetensors\""), "outside the folder");
    Files.writeString(dir.resolve("broken.index.json"), "{\"nothing\":1}");
    assertMessage(dir.resolve("broken.index.json"), "weight_map");
  }

  @Test
  void aTensorInTwoShardsIsRefused() throws IOException {
    SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), List.of(
        TensorSource.ofFloats("a", new long[] {2}, new float[] {1, 2}, DType.F32)), Map.of());
    assertMessage(index("\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
        + "\"x\":\"model-00002-of-00002.safetensors\""), "'a'", "in both");
  }

  private static void assertMessage(Path index, String... fragments) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsCheckpoint.open(index).close());
    for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
  }
}
