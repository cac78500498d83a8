package dev.mergetune.clip.text;

import java.nio.file.Path;

/** The BPE merges file cannot be used: missing, not gzip, not UTF-8, malformed, or too few merges. */
public class ClipVocabularyException extends IllegalArgumentException {
  private final transient Path file;

  public ClipVocabularyException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  public ClipVocabularyException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The merges file the message is about. */
  public Path file() {
    return file;
  }
}
