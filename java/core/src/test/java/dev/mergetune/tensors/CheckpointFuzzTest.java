package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import dev.mergetune.fuzz.Mutations;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Fuzz targets (run by .ci/run, not by {@code mvn verify}): the safetensors header parser, the pickle pre-check
 * (alone and as a whole .pt file, views included) and the shard index reader. Any input either reads or is refused
 * with a {@link CheckpointFormatException}; anything else (a crash, an unchecked exception, a stack overflow) fails.
 */
@Tag("fuzz")
class CheckpointFuzzTest {
  private static final Path DIR = tempDir();

  @Provide
  Arbitrary<byte[]> headers() {
    return Mutations.of(Mutations.seeds("safetensors-header", "tensors.json", "empty-and-scalar.json"));
  }

  @Provide
  Arbitrary<byte[]> pickles() {
    return Mutations.of(Mutations.seeds("pickle", "state-dict.pkl", "wrapped.pkl", "torchscript.pkl"));
  }

  @Provide
  Arbitrary<byte[]> indexes() {
    return Mutations.of(Mutations.seeds("shard-index", "two-shards.json"));
  }

  @Property
  void safetensorsHeaders(@ForAll("headers") byte[] json) {
    try {
      SafetensorsHeader.parse(DIR.resolve("fuzz.safetensors"), json, 8 + json.length + 64);
    } catch (CheckpointFormatException expected) {
      oneLine(expected);
    }
  }

  @Property
  void picklePreCheck(@ForAll("pickles") byte[] pickle) {
    for (boolean torchScript : new boolean[] {false, true}) {
      try {
        PickleMachine.run(DIR.resolve("fuzz.pt"), "archive/data.pkl", pickle, torchScript);
      } catch (CheckpointFormatException expected) {
        oneLine(expected);
      }
    }
  }

  @Property
  void wholeTorchSaveFiles(@ForAll("pickles") byte[] pickle) throws IOException {
    Path file = DIR.resolve("whole.pt");
    Files.write(file, HostilePtFiles.torchSave(pickle, Map.of("0", new byte[24], "1", new byte[16])));
    try (Checkpoint c = Checkpoints.open(file)) {
      for (TensorInfo t : c.tensors().values()) c.bytes(t.name());
    } catch (CheckpointFormatException expected) {
      oneLine(expected);
    }
  }

  @Property
  void shardIndexes(@ForAll("indexes") byte[] json) throws IOException {
    Path file = DIR.resolve("model.safetensors.index.json");
    Files.write(file, json);
    try (Checkpoint c = Checkpoints.open(file)) {
      c.tensors();
    } catch (CheckpointFormatException expected) {
      oneLine(expected);
    }
  }

  static void oneLine(RuntimeException e) {
    if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("an error without a message", e);
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("mergetune-fuzz");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    try (var files = Files.list(DIR)) {
      for (Path p : (Iterable<Path>) files::iterator) Files.deleteIfExists(p);
    }
    Files.deleteIfExists(DIR);
  }

}
