package dev.mergetune.world;

import java.io.IOException;
import java.nio.file.Path;

/** Small worlds for tests: a few images per class, a few dozen pre-training pairs. */
final class TinyWorlds {
  private TinyWorlds() {}

  static WorldSpec spec(long seed, int pairs) {
    return new WorldSpec(seed, 32, pairs, 1, 1, 1, 1, 20);
  }

  static World generate(Path dir, long seed, int pairs) throws IOException {
    return WorldGenerator.generate(spec(seed, pairs), dir);
  }
}
