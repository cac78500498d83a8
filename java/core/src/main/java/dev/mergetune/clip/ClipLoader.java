package dev.mergetune.clip;

import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Builds a {@link ClipModel} from a checkpoint in any supported file format (safetensors, sharded safetensors,
 * OpenAI TorchScript archive, torch.save dict — through {@link Checkpoints}) and key layout ({@link ClipLayout}:
 * OpenAI / open_clip, Hugging Face). The configuration is inferred from the shapes as OpenAI's loader does; every
 * parameter must be found with its exact shape, and every checkpoint tensor must be used — otherwise a
 * {@link ClipLayoutException} lists all missing, unexpected and mis-shaped keys. Weights are copied as float32
 * (fp16/bf16 checkpoints are widened, as {@code clip.load(…, device="cpu")} does).
 *
 * <p>Attention head counts are not in a state dict: they are width / 64 (every released CLIP), unless the
 * checkpoint's metadata records them ({@value #VISION_HEADS} / {@value #TEXT_HEADS}, written by
 * {@link ClipCheckpoints#save}) or the caller gives them.
 */
public final class ClipLoader {
  /** Metadata keys recording the head counts. */
  public static final String VISION_HEADS = "mergetune.clip.vision_heads";

  public static final String TEXT_HEADS = "mergetune.clip.text_heads";

  private ClipLoader() {}

  /** Opens and loads a checkpoint file. */
  public static ClipModel load(Path path) {
    return load(path, 0, 0);
  }

  /** Same, with explicit head counts (0 = from metadata, else width / 64). */
  public static ClipModel load(Path path, int visionHeads, int textHeads) {
    try (Checkpoint ckpt = Checkpoints.open(path)) {
      return load(ckpt, visionHeads, textHeads);
    }
  }

  public static ClipModel load(Checkpoint ckpt) {
    return load(ckpt, 0, 0);
  }

  public static ClipModel load(Checkpoint ckpt, int visionHeads, int textHeads) {
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
    Map<String, long[]> targetShapes = ClipLayout.shapes(sources, checkpointShapes);
    ClipConfig config;
    try {
      config = ClipConfig.infer(targetShapes, 1);
      int vh = visionHeads > 0 ? visionHeads : heads(ckpt, VISION_HEADS, config.visionWidth());
      int th = textHeads > 0 ? textHeads : heads(ckpt, TEXT_HEADS, config.textWidth());
      config = config.withHeads(vh, th);
    } catch (IllegalArgumentException e) {
      throw new ClipLayoutException(file + " (" + layout + " layout): " + e.getMessage(), List.of(), List.of());
    }
    ClipModel model = new ClipModel(config);
    copyWeights(model, ckpt, layout, sources, checkpointShapes, targetShapes, file);

    return model;
  }

  private static int heads(Checkpoint ckpt, String key, int width) {
    String recorded = ckpt.metadata().get(key);
    if (recorded != null) {
      try {
        return Integer.parseInt(recorded.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(ckpt.path() + ": metadata " + key + " is not a number: " + recorded);
      }
    }
    if (width % 64 != 0) {
      throw new IllegalArgumentException("width " + width + " is not a multiple of 64: give the head count explicitly");
    }
    return width / 64;
  }

  private static void copyWeights(ClipModel model, Checkpoint ckpt, ClipLayout layout,
      Map<String, ClipLayout.Source> sources, Map<String, long[]> checkpointShapes, Map<String, long[]> targetShapes,
      String file) {
    StringTensorDict params = model.named_parameters(true);
    StringVector names = params.keys();
    List<String> missing = new ArrayList<>();
    List<String> wrongShape = new ArrayList<>();
    Set<String> used = new HashSet<>();
    List<String> paramNames = new ArrayList<>();
    for (long i = 0; i < names.size(); i++) paramNames.add(names.get(i).getString());
    for (String name : paramNames) {
      ClipLayout.Source src = sources.get(name);
      if (src == null) {
        missing.add(name);
        continue;
      }
      for (String k : src.keys()) {
        if (!checkpointShapes.containsKey(k)) missing.add(k);
      }
      long[] want = params.get(name).sizes().vec().get();
      long[] have = targetShapes.get(name);
      if (have != null && !Arrays.equals(want, have)) {
        wrongShape.add(name + " is " + Arrays.toString(have) + ", the model needs " + Arrays.toString(want));
      }
      used.addAll(src.keys());
    }
    List<String> unexpected = new ArrayList<>();
    for (String k : checkpointShapes.keySet()) {
      if (!used.contains(k) && !ClipLayout.IGNORED.contains(ClipLayout.stripPrefix(k))) unexpected.add(k);
    }
    if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongShape.isEmpty()) {
      StringBuilder sb = new StringBuilder(file + " (" + layout + " layout) does not load into CLIP " + model.config());
      if (!missing.isEmpty()) sb.append("\n  missing: ").append(missing);
      if (!unexpected.isEmpty()) sb.append("\n  unexpected: ").append(unexpected);
      if (!wrongShape.isEmpty()) sb.append("\n  wrong shape: ").append(wrongShape);
      throw new ClipLayoutException(sb.toString(), missing, unexpected);
    }
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (String name : paramNames) {
        try (PointerScope scope = new PointerScope()) {  // per parameter: the staging tensors go at once
          ClipLayout.Source src = sources.get(name);
          List<Tensor> parts = new ArrayList<>();
          for (String k : src.keys()) {
            float[] values = ckpt.readFloats(k);
            long[] shape = checkpointShapes.get(k);
            parts.add(Tensor.create(values, shape.length == 0 ? new long[] {} : shape));
          }
          Tensor value = switch (src.transform()) {
            case IDENTITY -> parts.get(0);
            case TRANSPOSE -> parts.get(0).t();
            case CONCAT -> torch.cat(new TensorVector(parts.toArray(new Tensor[0])), 0);
          };
          params.get(name).copy_(value);
        }
      }
    }
  }
}
