package dev.mergetune.tensors;

import java.nio.file.Path;

/** A checkpoint file is malformed; the message names the file and, where it applies, the tensor. */
public class CheckpointFormatException extends RuntimeException {
  private final Path file;

  public CheckpointFormatException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  public CheckpointFormatException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
