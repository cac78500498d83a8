package dev.mergetune.condu;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The store's reference to θ0: the base checkpoint's path and SHA-256 (θ0 itself is never copied into a store), and
 * the {@code --model-config} it is loaded with (null: the one the checkpoint records), so that every later step and
 * {@code predict} load the same model.
 */
public record Theta0Ref(Path path, String sha256, String modelConfig) {
  /** Hashes the checkpoint at {@code path}, whose configuration it records. */
  public static Theta0Ref of(Path path) throws IOException {
    return of(path, null);
  }

  /** Hashes the checkpoint at {@code path}, loaded with {@code modelConfig} (may be null). */
  public static Theta0Ref of(Path path, String modelConfig) throws IOException {
    Path abs = path.toAbsolutePath().normalize();
    return new Theta0Ref(abs, dev.mergetune.merge.InputHashes.sha256(abs), modelConfig);
  }

  /** The same checkpoint read from another path (a moved θ0; its hash is verified before use). */
  public Theta0Ref at(Path other) {
    return new Theta0Ref(other.toAbsolutePath().normalize(), sha256, modelConfig);
  }

  /** Loads θ0 with its configuration. */
  public ClipModel load() {
    return ClipLoader.load(path, modelConfig);
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
