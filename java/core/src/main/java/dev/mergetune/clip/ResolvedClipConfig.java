package dev.mergetune.clip;

import java.util.List;

/**
 * A model configuration and where it came from: {@code family} ({@code openai}, {@code open_clip},
 * {@code hugging-face}, {@code mergetune}), {@code source} (the file, metadata key, name or flag that gave it) and
 * notes (values a config file left to its library's defaults).
 */
public record ResolvedClipConfig(ClipConfig config, String family, String source, List<String> notes) {
  public ResolvedClipConfig {
    notes = List.copyOf(notes);
  }

  /** "family (source)", recorded in the metadata of checkpoints made from the model. */
  public String origin() {
    return family + " (" + source + ")";
  }
}
