package dev.mergetune.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.Activation;
import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipConfigJson;
import dev.mergetune.clip.ClipConfigUnknownException;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ClipTower;
import dev.mergetune.clip.TinyClipFiles;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merge keeps what is needed to reload the model: WiSE-FT (α = 0.1) of the demo's tiny CLIP (2 heads of width 32,
 * which heads = width / 64 would get wrong) and a fine-tuned copy reloads as the same model, with the logits of the
 * interpolated weights computed here in double; inputs that are different models are refused.
 */
class MergeModelConfigTest {
  static final Path DEMO = Path.of("../../demo/tiny-clip/tiny-clip.safetensors");
  static final float ALPHA = 0.1f;
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
    assertTrue(Files.isRegularFile(DEMO), "the committed demo model is missing: " + DEMO.toAbsolutePath());
  }

  /** The demo model with every float perturbed by N(0, 0.02²), as a fine-tuned model; metadata as given. */
  private Path fineTuned(String name, boolean withConfig) throws IOException {
    List<TensorSource> out = new ArrayList<>();
    Random r = new Random(5);
    try (Checkpoint c = Checkpoints.open(DEMO)) {
      for (TensorInfo t : c.tensors().values()) {
        float[] v = c.readFloats(t.name());
        for (int i = 0; i < v.length; i++) v[i] += (float) (0.02 * r.nextGaussian());
        out.add(TensorSource.ofFloats(t.name(), t.shape(), v, DType.F32));
      }
    }
    Path f = dir.resolve(name);
    Map<String, String> meta = new LinkedHashMap<>();
    if (withConfig) {
      try (ClipModel m = ClipLoader.load(DEMO)) {
        meta.put(ClipConfigJson.METADATA_KEY, ClipConfigJson.write(m.config()));
      }
    }
    SafetensorsWriter.write(f, out, meta);
    return f;
  }

  /** logits_per_image of random images and world-vocabulary token rows. */
  private static float[] logits(ClipModel m) {
    ClipConfig c = m.config();
    float[] images = TinyClipFiles.images(3, c.imageResolution(), 21);
    long[] tokens = TinyClipFiles.tokens(5, c.contextLength(), c.vocabSize(), 22);
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor l = m.logitsPerImage(m.encodeImage(Tensor.create(images, 3, 3, c.imageResolution(), c.imageResolution())),
          m.encodeText(Tensor.create(tokens, 5, c.contextLength())));
      float[] out = new float[(int) l.numel()];
      ((java.nio.FloatBuffer) l.contiguous().createBuffer()).get(out);
      return out;
    }
  }

  /** A model whose every weight is (1 − α)·a + α·b, computed in double and rounded once. */
  private static ClipModel interpolated(ClipModel a, ClipModel b, double alpha) {
    ClipModel mid = new ClipModel(a.config());
    Map<String, Tensor> sa = a.stateDict();
    Map<String, Tensor> sb = b.stateDict();
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : mid.stateDict().entrySet()) {
        float[] x = values(sa.get(e.getKey()));
        float[] y = values(sb.get(e.getKey()));
        float[] z = new float[x.length];
        for (int i = 0; i < z.length; i++) z[i] = (float) ((1 - alpha) * x[i] + alpha * (double) y[i]);
        e.getValue().copy_(Tensor.create(z, e.getValue().sizes().vec().get()));
      }
    }
    return mid;
  }

  private static float[] values(Tensor t) {
    float[] out = new float[(int) t.numel()];
    ((java.nio.FloatBuffer) t.contiguous().createBuffer()).get(out);
    return out;
  }

  private static double relative(float[] got, float[] want) {
    double worst = 0;
    double scale = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return worst / scale;
  }

  @Test
  void wiseFtOfTheDemoModelReloadsAsTheSameModelWithTheInterpolatedLogits() throws IOException {
    for (boolean recorded : new boolean[] {true, false}) {  // the fine-tuned input with and without its own record
      Path ft = fineTuned("ft-" + recorded + ".safetensors", recorded);
      Path out = dir.resolve("wise-" + recorded + ".safetensors");
      StreamingMerge.run(DEMO, List.of(ft), LinearMerge.wiseFt(new float[] {ALPHA}), List.of(out));
      try (ClipModel a = ClipLoader.load(DEMO); ClipModel b = ClipLoader.load(ft, ClipConfigJson.write(a.config()));
          ClipModel merged = ClipLoader.load(out); ClipModel want = interpolated(a, b, ALPHA)) {
        assertEquals(a.config(), merged.config());
        assertEquals(2, merged.config().visionHeads());
        double e = relative(logits(merged), logits(want));
        System.out.printf("wise-ft %.1f reloaded (fine-tuned input %s its configuration): logits relative error %.2e%n",
            ALPHA, recorded ? "records" : "without", e);
        assertTrue(e < 1e-5, "logits differ by " + e);
        // what the reloaded file would be with heads = width / 64 (the loader's old guess): another model entirely
        ClipConfig guessed = new ClipConfig(a.config().embedDim(), a.config().imageResolution(),
            a.config().visionPatchSize(), a.config().contextLength(), a.config().vocabSize(),
            ClipTower.openAi(64, 2, 1, Activation.QUICK_GELU), ClipTower.openAi(64, 2, 1, Activation.QUICK_GELU));
        try (ClipModel wrong = ClipLoader.load(stripped(out), ClipConfigJson.write(guessed))) {
          assertTrue(relative(logits(wrong), logits(want)) > 1e-2, "one head instead of two should change the logits");
        }
      }
    }
  }

  /** The merged file without the carried configuration: refused, not loaded with a guess. */
  private Path stripped(Path merged) throws IOException {
    Path f = dir.resolve("stripped-" + merged.getFileName());
    List<TensorSource> out = new ArrayList<>();
    try (Checkpoint c = Checkpoints.open(merged)) {
      for (TensorInfo t : c.tensors().values()) out.add(TensorSource.ofFloats(t.name(), t.shape(), c.readFloats(t.name()), DType.F32));
    }
    SafetensorsWriter.write(f, out, Map.of());
    ClipConfigUnknownException e = assertThrows(ClipConfigUnknownException.class, () -> ClipLoader.load(f));
    assertTrue(e.getMessage().contains("--model-config"), e.getMessage());
    return f;
  }

  @Test
  void inputsThatAreDifferentModelsAreRefusedAndNothingIsWritten() throws IOException {
    Path ft = fineTuned("ft.safetensors", false);
    ClipConfig demo;
    try (ClipModel m = ClipLoader.load(DEMO)) {
      demo = m.config();
    }
    ClipConfig gelu = new ClipConfig(demo.embedDim(), demo.imageResolution(), demo.visionPatchSize(),
        demo.contextLength(), demo.vocabSize(), ClipTower.openAi(64, 2, 2, Activation.GELU),
        ClipTower.openAi(64, 2, 2, Activation.GELU));
    Path geluFt = dir.resolve("gelu-ft.safetensors");
    try (ClipModel m = ClipLoader.load(ft, ClipConfigJson.write(gelu))) {
      ClipCheckpoints.save(m, geluFt, Map.of());
    }
    Path out = dir.resolve("never.safetensors");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StreamingMerge.run(DEMO, List.of(geluFt), LinearMerge.wiseFt(new float[] {ALPHA}), List.of(out)));
    assertTrue(e.getMessage().contains("different models") && e.getMessage().contains("vision.activation: quick_gelu vs gelu")
        && e.getMessage().contains("gelu-ft.safetensors"), e.getMessage());
    assertFalse(Files.exists(out));
  }

  @Test
  void tensorsThatAreNotAClipModelMergeWithoutAConfiguration() throws IOException {
    Path a = dir.resolve("a.safetensors");
    Path b = dir.resolve("b.safetensors");
    SafetensorsWriter.write(a, List.of(TensorSource.ofFloats("w", new long[] {2}, new float[] {1, 2}, DType.F32)), Map.of());
    SafetensorsWriter.write(b, List.of(TensorSource.ofFloats("w", new long[] {2}, new float[] {3, 4}, DType.F32)), Map.of());
    Path out = dir.resolve("m.safetensors");
    List<StreamingMerge.Result> r = StreamingMerge.run(a, List.of(b), LinearMerge.wiseFt(new float[] {0.5f}), List.of(out));
    assertFalse(r.get(0).metadata().containsKey(ClipConfigJson.METADATA_KEY));
  }
}
