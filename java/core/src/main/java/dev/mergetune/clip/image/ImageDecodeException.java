package dev.mergetune.clip.image;

import java.nio.file.Path;

/** An image file could not be read or decoded; the message starts with the file's path. */
public class ImageDecodeException extends RuntimeException {
  private final Path file;

  public ImageDecodeException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  public ImageDecodeException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The file that failed. */
  public Path file() {
    return file;
  }
}
