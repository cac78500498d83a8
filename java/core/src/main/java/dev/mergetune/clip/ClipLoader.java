package dev.mergetune.clip;

import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
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
 * OpenAI TorchScript archive, torch.save dict — through {@link Checkpoints}), key layout ({@link ClipLayout}:
 * OpenAI / open_clip, Hugging Face) and place (a file, or a Hugging Face / open_clip snapshot folder:
 * {@link ClipModelFiles}). The configuration — heads, activation, MLP width, LayerNorm ε, LayerScale included — is
 * the one the checkpoint records or the caller names ({@link ClipConfigResolver}); where neither says it, loading
 * fails with a {@link ClipConfigUnknownException} saying what to pass. Every parameter must be found with its exact
 * shape, and every checkpoint tensor must be used — otherwise a {@link ClipLayoutException} lists all missing,
 * unexpected and mis-shaped keys. Weights are copied as float32 (fp16/bf16 checkpoints are widened, as
 * {@code clip.load(…, device="cpu")} does).
 */
public final class ClipLoader {
  private ClipLoader() {}

  /** Opens and loads a checkpoint file or snapshot folder whose configuration it records. */
  public static ClipModel load(Path path) {
    return load(path, null);
  }

  /**
   * Same, with a {@code --model-config} value (null: the recorded one) — see {@link ClipConfigResolver#parseSpec}.
   */
  public static ClipModel load(Path path, String modelConfig) {
    ClipModelFiles files = ClipModelFiles.of(path);
    try (Checkpoint ckpt = Checkpoints.open(files.weights())) {
      ClipShapes shapes = ClipShapes.of(ckpt);
      ResolvedClipConfig resolved = ClipConfigResolver.resolve(files, ckpt, shapes, modelConfig);
      return load(ckpt, shapes, resolved);
    }
  }

  /** An opened checkpoint, its configuration as it records it. */
  public static ClipModel load(Checkpoint ckpt) {
    ClipShapes shapes = ClipShapes.of(ckpt);
    return load(ckpt, shapes, ClipConfigResolver.resolve(ClipModelFiles.of(ckpt.path()), ckpt, shapes, null));
  }

  /**
   * A checkpoint that must be the same model as {@code other} (the end of an interpolation path, a ConDU expert of
   * θ0): loaded with its recorded configuration (or {@code modelConfig}), which must equal {@code other}'s; one that
   * records none takes {@code other}'s — the only configuration it can have for the operation to make sense — and
   * its {@link ClipModel#origin()} says so.
   */
  public static ClipModel loadSameModelAs(Path path, String modelConfig, ClipModel other) {
    ClipModel m;
    try {
      m = load(path, modelConfig);
    } catch (ClipConfigUnknownException e) {
      m = load(path, ClipConfigJson.write(other.config()));
      return m.setOrigin(other.origin() + ", taken for " + path.getFileName() + ", which records none");
    }
    if (!m.config().equals(other.config())) {
      String d = String.join("; ", m.config().differences(other.config()));
      m.close();
      throw new IllegalArgumentException(path + " is a different model from " + other.origin() + ": " + d);
    }
    return m;
  }

  /**
   * The configuration {@code path} would load with (null {@code modelConfig}: the recorded one), checked against the
   * tensors' dimensions, without loading the weights.
   */
  public static ResolvedClipConfig resolve(Path path, String modelConfig) {
    try (Checkpoint ckpt = Checkpoints.open(ClipModelFiles.of(path).weights())) {
      return resolve(ckpt, modelConfig);
    }
  }

  /** The same for an opened checkpoint. */
  public static ResolvedClipConfig resolve(Checkpoint ckpt, String modelConfig) {
    ClipShapes shapes = ClipShapes.of(ckpt);
    ResolvedClipConfig r = ClipConfigResolver.resolve(ClipModelFiles.of(ckpt.path()), ckpt, shapes, modelConfig);
    checkDimensions(r, shapes, ckpt.path().toString());
    return r;
  }

  private static ClipModel load(Checkpoint ckpt, ClipShapes shapes, ResolvedClipConfig resolved) {
    checkDimensions(resolved, shapes, ckpt.path().toString());
    ClipModel model = new ClipModel(resolved.config());
    try {
      copyWeights(model, ckpt, shapes.layout(), shapes.sources(), shapes.checkpointShapes(), shapes.targetShapes(),
          ckpt.path() + " (" + shapes.layout() + " layout, configuration from " + resolved.source() + ")");
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    model.setOrigin(resolved.origin());
    return model;
  }

  /**
   * The dimensions the shapes show (widths, layers, MLP widths, patch, grid, context, vocabulary, embedding) against
   * the configuration, each difference named: a clearer message than the per-tensor shape list that follows.
   */
  private static void checkDimensions(ResolvedClipConfig r, ClipShapes shapes, String file) {
    ClipConfig d;
    try {
      d = OpenAiBuildModel.dimensions(shapes.targetShapes());
    } catch (IllegalArgumentException e) {
      throw new ClipLayoutException(file + " (" + shapes.layout() + " layout): " + e.getMessage(), List.of(), List.of());
    }
    ClipConfig c = r.config();
    List<String> diffs = new ArrayList<>();
    dim(diffs, "embed_dim", c.embedDim(), d.embedDim());
    dim(diffs, "image_size", c.imageResolution(), d.imageResolution());
    dim(diffs, "patch_size", c.visionPatchSize(), d.visionPatchSize());
    dim(diffs, "context_length", c.contextLength(), d.contextLength());
    dim(diffs, "vocab_size", c.vocabSize(), d.vocabSize());
    dim(diffs, "vision.width", c.visionWidth(), d.visionWidth());
    dim(diffs, "vision.layers", c.visionLayers(), d.visionLayers());
    dim(diffs, "vision.mlp_width", c.vision().mlpWidth(), d.vision().mlpWidth());
    dim(diffs, "text.width", c.textWidth(), d.textWidth());
    dim(diffs, "text.layers", c.textLayers(), d.textLayers());
    dim(diffs, "text.mlp_width", c.text().mlpWidth(), d.text().mlpWidth());
    if (!diffs.isEmpty()) {
      throw new ClipLayoutException(file + ": the tensors do not fit the configuration from " + r.source()
          + " (configuration vs tensors): " + String.join("; ", diffs), List.of(), List.of());
    }
  }

  private static void dim(List<String> diffs, String name, int config, int tensors) {
    if (config != tensors) diffs.add(name + ": " + config + " vs " + tensors);
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
            requireFinite(ckpt, k, values);
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

  /**
   * Refuses non-finite weights by tensor name: a model with one NaN weight computes NaN features for every input
   * (issue 25: {@code embed} wrote all-NaN features with exit code 0), so every command that runs a model stops here.
   */
  static void requireFinite(Checkpoint ckpt, String tensor, float[] values) {
    int first = -1;
    long count = 0;
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        if (first < 0) first = i;
        count++;
      }
    }
    if (first >= 0) {
      throw new dev.mergetune.tensors.CheckpointFormatException(ckpt.path(), "tensor '" + tensor + "' holds "
          + count + " non-finite value(s) (" + values[first] + " at element " + first + "); a model with NaN/Inf "
          + "weights computes NaN for every input: refused");
    }
  }
}
