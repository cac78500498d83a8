package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.SharedFixtures;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Hugging Face CLIPModel-layout file made here from the fixture's OpenAI weights (the mapping written out
 * independently of ClipLayout: q/k/v split from in_proj, projections transposed, HF names) loads into the same
 * model; and layouts that are not CLIP fail naming their keys.
 */
class HuggingFaceLayoutTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static final Pattern BLOCK = Pattern.compile("(visual\\.)?transformer\\.resblocks\\.(\\d+)\\.(.+)");

  /** OpenAI name → HF tensors (name, shape, values). */
  private static void toHf(String name, long[] shape, float[] v, List<TensorSource> out) {
    Matcher m = BLOCK.matcher(name);
    if (m.matches()) {
      String p = (m.group(1) != null ? "vision_model" : "text_model") + ".encoder.layers." + m.group(2) + ".";
      String rest = m.group(3);
      if (rest.equals("attn.in_proj_weight") || rest.equals("attn.in_proj_bias")) {
        int third = v.length / 3;
        String[] qkv = {"q_proj", "k_proj", "v_proj"};
        for (int i = 0; i < 3; i++) {
          long[] s = shape.clone();
          s[0] /= 3;
          out.add(TensorSource.ofFloats(p + "self_attn." + qkv[i] + (rest.endsWith("weight") ? ".weight" : ".bias"), s,
              Arrays.copyOfRange(v, i * third, (i + 1) * third), DType.F32));
        }
        return;
      }
      String hf = rest.replace("attn.out_proj", "self_attn.out_proj").replace("ln_1", "layer_norm1")
          .replace("ln_2", "layer_norm2").replace("mlp.c_fc", "mlp.fc1").replace("mlp.c_proj", "mlp.fc2");
      out.add(TensorSource.ofFloats(p + hf, shape, v, DType.F32));
      return;
    }
    switch (name) {
      case "text_projection", "visual.proj" -> {
        float[] t = new float[v.length];
        int rows = (int) shape[0], cols = (int) shape[1];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
        String hf = name.equals("visual.proj") ? "visual_projection.weight" : "text_projection.weight";
        out.add(TensorSource.ofFloats(hf, new long[] {cols, rows}, t, DType.F32));
      }
      default -> {
        String hf = Map.ofEntries(
            Map.entry("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
            Map.entry("positional_embedding", "text_model.embeddings.position_embedding.weight"),
            Map.entry("ln_final.weight", "text_model.final_layer_norm.weight"),
            Map.entry("ln_final.bias", "text_model.final_layer_norm.bias"),
            Map.entry("visual.class_embedding", "vision_model.embeddings.class_embedding"),
            Map.entry("visual.conv1.weight", "vision_model.embeddings.patch_embedding.weight"),
            Map.entry("visual.positional_embedding", "vision_model.embeddings.position_embedding.weight"),
            Map.entry("visual.ln_pre.weight", "vision_model.pre_layrnorm.weight"),
            Map.entry("visual.ln_pre.bias", "vision_model.pre_layrnorm.bias"),
            Map.entry("visual.ln_post.weight", "vision_model.post_layernorm.weight"),
            Map.entry("visual.ln_post.bias", "vision_model.post_layernorm.bias"),
            Map.entry("logit_scale", "logit_scale")).get(name);
        if (hf == null) throw new IllegalStateException("no HF name for " + name);
        out.add(TensorSource.ofFloats(hf, shape, v, DType.F32));
      }
    }
  }

  @Test
  void anHfFileOfTheSameWeightsGivesTheSameFeatures() throws Exception {
    Path openai = SharedFixtures.clipTiny("model.safetensors");
    Path hf = dir.resolve("hf.safetensors");
    List<TensorSource> tensors = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(openai)) {
      for (TensorInfo t : f.tensors().values()) toHf(t.name(), t.shape(), f.readFloats(t.name()), tensors);
    }
    long[] ids = new long[77];
    ByteBuffer b = ByteBuffer.allocate(8 * 77).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 77; i++) b.putLong(i * 8, i);
    tensors.add(TensorSource.ofBytes("text_model.embeddings.position_ids", DType.I64, new long[] {1, 77}, b));
    SafetensorsWriter.write(hf, tensors, Map.of());

    ClipModel a = ClipLoader.load(openai);
    ClipModel h = ClipLoader.load(hf);
    assertEquals(a.config(), h.config());
    try (SafetensorsFile in = SafetensorsFile.open(SharedFixtures.clipTiny("inputs.safetensors"));
        NoGradGuard g = new NoGradGuard()) {
      Tensor images = Tensor.create(in.readFloats("images"), 5, 3, 32, 32);
      in.bytes("tokens").asLongBuffer().get(ids = new long[9 * 77]);
      Tensor tokens = Tensor.create(ids, 9, 77);
      assertArrayEquals(ClipFixtureTest.values(a.encodeImage(images)), ClipFixtureTest.values(h.encodeImage(images)));
      assertArrayEquals(ClipFixtureTest.values(a.encodeText(tokens)), ClipFixtureTest.values(h.encodeText(tokens)));
    }
  }

  @Test
  void unknownAndIncompleteLayoutsNameTheirKeys() throws Exception {
    Path other = dir.resolve("resnet.safetensors");
    SafetensorsWriter.write(other, List.of(TensorSource.ofFloats("fc.weight", new long[] {2}, new float[2], DType.F32)), Map.of());
    ClipLayoutException e = assertThrows(ClipLayoutException.class, () -> ClipLoader.load(other));
    assertTrue(e.getMessage().contains("not a CLIP checkpoint") && e.getMessage().contains("fc.weight"), e.getMessage());

    // The fixture without one tensor and with a stray one: both named.
    Path broken = dir.resolve("broken.safetensors");
    List<TensorSource> tensors = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(SharedFixtures.clipTiny("model.safetensors"))) {
      for (TensorInfo t : f.tensors().values()) {
        if (t.name().equals("visual.ln_post.bias")) continue;
        tensors.add(TensorSource.ofFloats(t.name(), t.shape(), f.readFloats(t.name()), DType.F32));
      }
    }
    tensors.add(TensorSource.ofFloats("visual.extra_head.weight", new long[] {3}, new float[3], DType.F32));
    SafetensorsWriter.write(broken, tensors, Map.of());
    ClipLayoutException b = assertThrows(ClipLayoutException.class, () -> ClipLoader.load(broken));
    assertEquals(List.of("visual.ln_post.bias"), b.missing());
    assertEquals(List.of("visual.extra_head.weight"), b.unexpected());
    assertTrue(b.getMessage().contains("broken.safetensors"), b.getMessage());
  }
}
