package dev.mergetune.eval;

/** A metrics CSV file that cannot be read: the message names the file, the line where known, and what is wrong. */
public final class CsvFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final int line;

  CsvFormatException(String source, int line, String problem) {
    super(source + (line > 0 ? ":" + line : "") + ": " + problem);
    this.source = source;
    this.line = line;
  }

  /** The file (or other source) as the caller named it. */
  public String source() {
    return source;
  }

  /** The 1-based line number in the file, or 0 when the problem is the file as a whole. */
  public int line() {
    return line;
  }
}
