package dev.mergetune.tensors;

import java.nio.file.Path;

/** Opens a checkpoint in whichever supported format the file holds. */
public final class Checkpoints {
  private Checkpoints() {}

  /** A .safetensors file or a sharded checkpoint's *.safetensors.index.json. */
  public static Checkpoint open(Path path) {
    return SafetensorsCheckpoint.open(path);
  }
}
