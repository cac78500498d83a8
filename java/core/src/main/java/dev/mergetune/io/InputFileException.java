package dev.mergetune.io;

import java.nio.file.Path;

/** An input file cannot be read as one (missing, a FIFO, a device, a directory); the message names it. */
public class InputFileException extends IllegalArgumentException {
  private final transient Path file;

  public InputFileException(Path file, String message) {
    super(message);
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
