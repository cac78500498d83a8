package dev.mergetune.data;

import java.nio.file.Path;

/**
 * A dataset cannot be read or is inconsistent. The message names the file (and the line, where one applies) or the
 * dataset, so that the user can find what to fix.
 */
public class DatasetException extends RuntimeException {
  public DatasetException(String message) {
    super(message);
  }

  public DatasetException(String message, Throwable cause) {
    super(message, cause);
  }

  /** "{@code file}: message". */
  public static DatasetException at(Path file, String message) {
    return new DatasetException(file + ": " + message);
  }

  /** "{@code file}, line {@code line}: message". */
  public static DatasetException at(Path file, long line, String message) {
    return new DatasetException(file + ", line " + line + ": " + message);
  }
}
