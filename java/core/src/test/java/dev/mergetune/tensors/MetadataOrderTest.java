package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same tensors and metadata, whatever order the metadata map iterates in, give the same file bytes. */
class MetadataOrderTest {
  @Test
  void metadataIsWrittenInAFixedKeyOrder(@TempDir Path dir) throws IOException {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 40; i++) keys.add("mergetune.key" + (i * 7919 % 97));
    Map<String, String> forward = new LinkedHashMap<>();
    keys.forEach(k -> forward.put(k, "v-" + k));
    Map<String, String> backward = new LinkedHashMap<>();
    for (int i = keys.size() - 1; i >= 0; i--) backward.put(keys.get(i), "v-" + keys.get(i));
    Path a = dir.resolve("a.safetensors");
    Path b = dir.resolve("b.safetensors");
    SafetensorsWriter.write(a, List.of(), forward);
    SafetensorsWriter.write(b, List.of(), backward);
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    try (Checkpoint c = Checkpoints.open(a)) {
      assertEquals(forward, c.metadata());
      assertEquals(keys.stream().distinct().sorted().toList(), new ArrayList<>(c.metadata().keySet()));
    }
  }
}
