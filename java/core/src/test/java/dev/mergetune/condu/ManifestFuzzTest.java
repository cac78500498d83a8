package dev.mergetune.condu;

import dev.mergetune.fuzz.Mutations;
import dev.mergetune.tensors.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;

/** Fuzz target (.ci/run): the ConDU store manifest reads or is refused with a {@link CheckpointFormatException}. */
@Tag("fuzz")
class ManifestFuzzTest {
  @Provide
  Arbitrary<byte[]> manifests() {
    return Mutations.of(Mutations.seeds("condu-manifest", "condu-session.json"));
  }

  @Property
  void manifests(@ForAll("manifests") byte[] bytes) throws IOException {
    Path file = Files.createTempFile("fuzz", ".json");
    try {
      Files.write(file, bytes);
      StoreManifest.read(file);
    } catch (CheckpointFormatException expected) {
      if (expected.getMessage() == null) throw new AssertionError("no message", expected);
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
