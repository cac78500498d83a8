package dev.mergetune.clip;

/** A CLIP checkpoint whose configuration is not recorded; the message says what to pass ({@code --model-config}). */
public final class ClipConfigUnknownException extends IllegalArgumentException {
  public ClipConfigUnknownException(String message) {
    super(message);
  }
}
