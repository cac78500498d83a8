package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The workspace's ../shared fixtures; tests that need them skip cleanly where they are absent (a fresh clone). */
public final class SharedFixtures {
  private SharedFixtures() {}

  public static Path clipTiny(String file) {
    return require(Path.of(root(), "fixtures", "clip-tiny", file));
  }

  /** The real CLIP BPE merges file, data/clip/bpe_simple_vocab_16e6.txt.gz. */
  public static Path clipBpeVocabulary() {
    return require(Path.of(root(), "data", "clip", "bpe_simple_vocab_16e6.txt.gz"));
  }

  private static String root() {
    return System.getProperty("mergetune.shared", "../../shared");
  }

  private static Path require(Path p) {
    assumeTrue(Files.isRegularFile(p), "shared fixture absent: " + p);
    return p;
  }
}
