package dev.mergetune.clip.text;

/**
 * A text has more tokens, with its start and end tokens, than the context length, and the truncation policy is
 * {@link Truncation#ERROR}. The message names the text's index, its token count and the start of the text.
 */
public class TextTooLongException extends IllegalArgumentException {
  private final int index;
  private final int tokenCount;
  private final int contextLength;

  public TextTooLongException(int index, String text, int tokenCount, int contextLength) {
    super(String.format("text %d has %d tokens with its start and end tokens, more than the context length %d: "
        + "\"%s\" (truncate it: Truncation.TRUNCATE, or --truncate on the command line)", index, tokenCount,
        contextLength, abbreviate(text)));
    this.index = index;
    this.tokenCount = tokenCount;
    this.contextLength = contextLength;
  }

  /** The index of the text in the list given to {@code tokenize}. */
  public int index() {
    return index;
  }

  /** Its token count, start and end tokens included. */
  public int tokenCount() {
    return tokenCount;
  }

  public int contextLength() {
    return contextLength;
  }

  private static String abbreviate(String text) {
    String oneLine = text.replace("\n", "\\n").replace("\r", "\\r");
    if (oneLine.codePointCount(0, oneLine.length()) <= 60) return oneLine;
    return oneLine.substring(0, oneLine.offsetByCodePoints(0, 57)) + "...";
  }
}
