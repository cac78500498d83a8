package dev.mergetune.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * I/O failures as the one line a user reads: the file, the operation, the cause ("writing out.safetensors: No space
 * left on device"), never a stack trace. Commands wrap what they do to a file with {@link #wrap}.
 */
public final class IoErrors {
  private IoErrors() {}

  /** The cause in a few words, with no stack and no line breaks. */
  public static String oneLine(IOException e) {
    String m;
    if (e instanceof NoSuchFileException) m = "no such file or directory";
    else if (e instanceof AccessDeniedException) m = "permission denied";
    else if (e instanceof FileSystemException f && f.getReason() != null) m = f.getReason();
    else m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replace('\n', ' ').strip();
  }

  /** {@code e} as an unchecked error whose message is "OPERATION FILE: cause" on one line. */
  public static UncheckedIOException wrap(String operation, Path file, IOException e) {
    return new UncheckedIOException(operation + " " + file + ": " + oneLine(e), e);
  }
}
