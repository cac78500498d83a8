package dev.mergetune.condu;

import java.io.IOException;
import java.nio.file.Path;

/** The store's reference to θ0: the base checkpoint's path and SHA-256 (θ0 itself is never copied into a store). */
public record Theta0Ref(Path path, String sha256) {
  /** Hashes the checkpoint at {@code path}. */
  public static Theta0Ref of(Path path) throws IOException {
    Path abs = path.toAbsolutePath().normalize();
    return new Theta0Ref(abs, dev.mergetune.merge.InputHashes.sha256(abs));
  }

  /** Fails unless the file at {@link #path} still has the recorded SHA-256. */
  public void verify() throws IOException {
    String actual = dev.mergetune.merge.InputHashes.sha256(path);
    if (!actual.equals(sha256)) {
      throw new dev.mergetune.tensors.CheckpointFormatException(path, "θ0 checkpoint has SHA-256 " + actual
          + " but the session store was built on " + sha256);
    }
  }
}
