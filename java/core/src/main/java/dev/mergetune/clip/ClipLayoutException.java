package dev.mergetune.clip;

import java.util.List;

/** A checkpoint whose keys are not a CLIP ViT layout we know; the message names the missing and unexpected keys. */
public final class ClipLayoutException extends IllegalArgumentException {
  private final List<String> missing;
  private final List<String> unexpected;

  public ClipLayoutException(String message, List<String> missing, List<String> unexpected) {
    super(message);
    this.missing = List.copyOf(missing);
    this.unexpected = List.copyOf(unexpected);
  }

  public List<String> missing() {
    return missing;
  }

  public List<String> unexpected() {
    return unexpected;
  }
}
