package dev.mergetune.clip;

import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.TensorInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's key layout and its tensors' shapes under OpenAI's parameter names (what {@link OpenAiBuildModel}
 * and the loader's shape checks read), or a {@link ClipLayoutException} when it is not a CLIP ViT.
 */
record ClipShapes(ClipLayout layout, Map<String, ClipLayout.Source> sources, Map<String, long[]> checkpointShapes,
    Map<String, long[]> targetShapes) {

  static ClipShapes of(Checkpoint ckpt) {
    Map<String, TensorInfo> tensors = ckpt.tensors();
    String file = ckpt.path().toString();
    ClipLayout layout = ClipLayout.detect(tensors.keySet());
    if (layout == null) {
      List<String> some = new ArrayList<>(tensors.keySet()).subList(0, Math.min(8, tensors.size()));
      throw new ClipLayoutException(file + ": not a CLIP checkpoint — expected OpenAI/open_clip keys (visual.*, "
          + "token_embedding.weight, …) or Hugging Face CLIPModel keys (vision_model.*, text_model.*); found "
          + some + (tensors.size() > 8 ? " and " + (tensors.size() - 8) + " more" : ""),
          List.of("visual.conv1.weight", "token_embedding.weight"), some);
    }
    for (String k : tensors.keySet()) {
      if (ClipLayout.stripPrefix(k).startsWith("visual.layer1.")) {
        throw new ClipLayoutException(file + ": a ResNet image tower (" + k + "); only ViT CLIP models are supported",
            List.of("visual.conv1.weight"), List.of(k));
      }
    }
    Map<String, ClipLayout.Source> sources = layout.sources(tensors.keySet());
    Map<String, long[]> checkpointShapes = new LinkedHashMap<>();
    for (TensorInfo t : tensors.values()) checkpointShapes.put(t.name(), t.shape());
    return new ClipShapes(layout, sources, checkpointShapes, ClipLayout.shapes(sources, checkpointShapes));
  }

  /** Whether {@code ckpt} has a CLIP ViT key layout (no exception for anything else). */
  static boolean isClip(Checkpoint ckpt) {
    ClipLayout layout = ClipLayout.detect(ckpt.tensors().keySet());
    if (layout == null) return false;
    for (String k : ckpt.tensors().keySet()) if (ClipLayout.stripPrefix(k).startsWith("visual.layer1.")) return false;
    return true;
  }
}
