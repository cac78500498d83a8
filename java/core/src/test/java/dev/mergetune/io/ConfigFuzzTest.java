package dev.mergetune.io;

import dev.mergetune.condu.MtilConfig;
import dev.mergetune.fuzz.Mutations;
import dev.mergetune.merge.MergeConfig;
import dev.mergetune.protocol.ProtocolConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;

/**
 * Fuzz target (.ci/run): YAML configs (merge, MTIL, protocol, and the strict tree reader) read or are refused with
 * an {@link IllegalArgumentException} naming the file (the config exceptions all are), never anything else.
 */
@Tag("fuzz")
class ConfigFuzzTest {
  @Provide
  Arbitrary<byte[]> configs() {
    return Mutations.of(Mutations.seeds("yaml", "merge.yaml", "mtil.yaml", "protocol.yaml"));
  }

  @Property
  void yamlConfigs(@ForAll("configs") byte[] bytes) throws IOException {
    Path dir = Files.createTempDirectory("fuzz");
    Path file = dir.resolve("config.yaml");
    try {
      Files.write(file, bytes);
      attempt(file, () -> StrictConfig.tree(file, "config"));
      attempt(file, () -> MergeConfig.read(file));
      attempt(file, () -> MtilConfig.read(file));
      attempt(file, () -> ProtocolConfig.read(file));
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(dir);
    }
  }

  private static void attempt(Path file, Runnable read) {
    try {
      read.run();
    } catch (IllegalArgumentException expected) {
      String m = expected.getMessage();
      if (m == null || !m.contains(file.getFileName().toString())) {
        throw new AssertionError("a config error that does not name the file: " + m, expected);
      }
    }
  }
}
