package dev.mergetune.clip.text;

/** What {@link ClipTokenizer#tokenize} does with a text whose tokens do not fit the context length. */
public enum Truncation {
  /** Throw a {@link TextTooLongException} naming the text (CLIP's {@code clip.tokenize} default, truncate=False). */
  ERROR,
  /**
   * Keep the first {@code contextLength} tokens and make the last one the end-of-text token: CLIP's
   * {@code truncate=True} (76 tokens and the end token at the default context length 77).
   */
  TRUNCATE
}
