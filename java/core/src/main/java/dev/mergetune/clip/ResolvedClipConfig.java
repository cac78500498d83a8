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

  /**
   * "family (source)", recorded in the metadata of checkpoints made from the model; for a configuration read from
   * that metadata, the origin recorded there (so it does not nest with every generation of files).
   */
  public String origin() {
    String recorded = source.startsWith(RECORDED) ? source.substring(RECORDED.length()) : null;
    return recorded != null ? recorded : family + " (" + source + ")";
  }

  /** How a source read from the project's metadata begins, before the recorded origin. */
  static final String RECORDED = "metadata " + ClipConfigJson.METADATA_KEY + "; first read from ";
}
