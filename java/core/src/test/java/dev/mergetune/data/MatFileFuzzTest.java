package dev.mergetune.data;

import dev.mergetune.fuzz.Mutations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;

/** Fuzz target (.ci/run): the .mat reader reads a mutated MAT file or refuses it with a {@link DatasetException}. */
@Tag("fuzz")
class MatFileFuzzTest {
  @Provide
  Arbitrary<byte[]> mats() {
    return Mutations.of(Mutations.seeds("mat", "annotations.mat", "compressed.mat"));
  }

  @Property
  void matFiles(@ForAll("mats") byte[] bytes) throws IOException {
    Path file = Files.createTempFile("fuzz", ".mat");
    try {
      Files.write(file, bytes);
      MatFile.read(file);
    } catch (DatasetException expected) {
      if (expected.getMessage() == null) throw new AssertionError("no message", expected);
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
