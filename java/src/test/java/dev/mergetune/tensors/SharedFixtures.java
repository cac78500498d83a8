package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The workspace's ../shared fixtures; tests that need them skip cleanly where they are absent (a fresh clone). */
public final class SharedFixtures {
  private SharedFixtures() {}

  public static Path clipTiny(String file) {
    String root = System.getProperty("mergetune.shared", "../../shared");
    Path p = Path.of(root, "fixtures", "clip-tiny", file);
    assumeTrue(Files.isRegularFile(p), "shared fixture absent: " + p);
    return p;
  }
}
