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
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Hugging Face CLIPModel-layout snapshot made here from the fixture's OpenAI weights (the mapping written out
 * independently of ClipLayout: q/k/v split from in_proj, projections transposed, HF names; a config.json with the
 * fixture's heads and QuickGELU) loads into the same model; the same weights without their config.json are refused,
 * naming it; and layouts that are not CLIP fail naming their keys.
 */
class HuggingFaceLayoutTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static void toHf(String name, long[] shape, float[] v, List<TensorSource> out) {
    TinyClipFiles.toHf(name, shape, v, out);
  }

  @Test
  void anHfFileOfTheSameWeightsGivesTheSameFeatures() throws Exception {
    Path openai = SharedFixtures.clipTiny("model.safetensors");
    Path snapshot = java.nio.file.Files.createDirectories(dir.resolve("snapshot"));
    Path hf = snapshot.resolve("model.safetensors");
    List<TensorSource> tensors = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(openai)) {
      for (TensorInfo t : f.tensors().values()) toHf(t.name(), t.shape(), f.readFloats(t.name()), tensors);
    }
    long[] ids = new long[77];
    ByteBuffer b = ByteBuffer.allocate(8 * 77).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 77; i++) b.putLong(i * 8, i);
    tensors.add(TensorSource.ofBytes("text_model.embeddings.position_ids", DType.I64, new long[] {1, 77}, b));
    SafetensorsWriter.write(hf, tensors, Map.of());
    Path loose = dir.resolve("hf.safetensors");
    java.nio.file.Files.copy(hf, loose);
    java.nio.file.Files.writeString(snapshot.resolve("config.json"), "{\"model_type\": \"clip\", \"projection_dim\": 64,"
        + " \"text_config\": {\"hidden_size\": 64, \"intermediate_size\": 256, \"num_hidden_layers\": 2,"
        + " \"num_attention_heads\": 1, \"max_position_embeddings\": 77, \"vocab_size\": 49408, \"hidden_act\": \"quick_gelu\"},"
        + " \"vision_config\": {\"hidden_size\": 128, \"intermediate_size\": 512, \"num_hidden_layers\": 2,"
        + " \"num_attention_heads\": 2, \"image_size\": 32, \"patch_size\": 8, \"hidden_act\": \"quick_gelu\","
        + " \"layer_norm_eps\": 1e-05}}");

    ClipModel a = ClipLoader.load(openai, "openai");
    ClipModel h = ClipLoader.load(snapshot);
    assertEquals(a.config(), h.config());
    ClipConfigUnknownException refused = assertThrows(ClipConfigUnknownException.class, () -> ClipLoader.load(loose));
    assertTrue(refused.getMessage().contains("config.json"), refused.getMessage());
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
    ClipLayoutException b = assertThrows(ClipLayoutException.class, () -> ClipLoader.load(broken, "openai"));
    assertEquals(List.of("visual.ln_post.bias"), b.missing());
    assertEquals(List.of("visual.extra_head.weight"), b.unexpected());
    assertTrue(b.getMessage().contains("broken.safetensors"), b.getMessage());
  }
}
