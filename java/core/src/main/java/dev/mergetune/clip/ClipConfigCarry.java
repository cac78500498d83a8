package dev.mergetune.clip;

import dev.mergetune.tensors.Checkpoint;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metadata that keeps a CLIP checkpoint's model configuration with it: {@value ClipConfigJson#METADATA_KEY}
 * (the configuration, {@link ClipConfigJson}) and {@value ClipConfigJson#ORIGIN_KEY} (where it was first read).
 * Every command that writes a CLIP checkpoint puts these in its output — {@link ClipCheckpoints#save} (train,
 * continue, ConDU experts, pretrain) and, from their inputs, merge and convert ({@link #carried}) — so that the
 * output reloads as the same model without flags.
 */
public final class ClipConfigCarry {
  private ClipConfigCarry() {}

  /** The two metadata entries for {@code config}, first read from {@code origin}. */
  public static Map<String, String> metadata(ClipConfig config, String origin) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(ClipConfigJson.METADATA_KEY, ClipConfigJson.write(config));
    m.put(ClipConfigJson.ORIGIN_KEY, origin);
    return m;
  }

  /**
   * The configuration metadata for a file made from {@code inputs} (opened from {@code paths}): the configuration
   * each CLIP input records ({@link ClipConfigResolver#recordedOrNull}); inputs that record none (a plain state dict,
   * or tensors that are not a CLIP model) take the others'. Inputs that record different configurations are refused,
   * naming both and each difference. Empty when no input records one.
   */
  public static Map<String, String> carried(List<Path> paths, List<Checkpoint> inputs) {
    ResolvedClipConfig first = null;
    Path firstPath = null;
    String origin = null;
    for (int i = 0; i < inputs.size(); i++) {
      Checkpoint c = inputs.get(i);
      ResolvedClipConfig r = ClipConfigResolver.recordedOrNull(c);
      if (r == null) continue;
      if (first == null) {
        first = r;
        firstPath = paths.get(i);
        origin = r.origin();
        continue;
      }
      List<String> d = first.config().differences(r.config());
      if (!d.isEmpty()) {
        throw new IllegalArgumentException("the inputs are different models: " + firstPath + " (configuration from "
            + first.source() + ") and " + paths.get(i) + " (from " + r.source() + ") differ in " + String.join("; ", d)
            + "; nothing was written");
      }
    }
    return first == null ? Map.of() : metadata(first.config(), origin);
  }
}
