package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SharedFixtures;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The clip-tiny fixture made by the original CLIP code: each of its three files loads and reproduces the reference
 * implementation's features and logits to 1e-4 relative — the TorchScript archive by OpenAI's build_model rules
 * without flags, the two state dicts (which do not say whose model they are) with {@code --model-config openai},
 * and without it they are refused with a message naming what to pass.
 */
class ClipFixtureTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static float[] values(Tensor t) {
    Tensor c = t.contiguous();
    float[] out = new float[(int) c.numel()];
    ((java.nio.FloatBuffer) c.createBuffer()).get(out);
    return out;
  }

  /** max |a − b| / max |b|: the relative error of a whole output. */
  static double relativeError(float[] got, float[] want) {
    double worst = 0;
    double scale = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return worst / scale;
  }

  @ParameterizedTest
  @ValueSource(strings = {"model.safetensors", "model.jit.pt", "state_dict.pt"})
  void everyFileReproducesTheReferenceOutputs(String file) {
    Path path = SharedFixtures.clipTiny(file);
    ClipModel model = file.endsWith(".jit.pt") ? ClipLoader.load(path) : ClipLoader.load(path, "openai");
    ClipConfig c = model.config();
    assertEquals(ClipConfig.of(64, 32, 2, 128, 8, 2, 77, 49408, 64, 1, 2, Activation.QUICK_GELU), c);
    Path inputs = SharedFixtures.clipTiny("inputs.safetensors");
    Path expected = SharedFixtures.clipTiny("expected.safetensors");
    try (SafetensorsFile in = SafetensorsFile.open(inputs); SafetensorsFile want = SafetensorsFile.open(expected);
        NoGradGuard g = new NoGradGuard()) {
      Tensor images = Tensor.create(in.readFloats("images"), 5, 3, 32, 32);
      long[] ids = new long[9 * 77];
      ByteBuffer b = in.bytes("tokens");
      b.asLongBuffer().get(ids);
      Tensor tokens = Tensor.create(ids, 9, 77);
      Tensor img = model.encodeImage(images);
      Tensor txt = model.encodeText(tokens);
      float[] wantImg = want.readFloats("image_features");
      float[] wantTxt = want.readFloats("text_features");
      double eImg = relativeError(values(img), wantImg);
      double eTxt = relativeError(values(txt), wantTxt);
      double eLogits = relativeError(values(model.logitsPerImage(img, txt)), want.readFloats("logits_per_image"));
      System.out.printf("%s: relative error image %.2e, text %.2e, logits %.2e%n", file, eImg, eTxt, eLogits);
      assertTrue(eImg < 1e-4, file + ": image features off by " + eImg);
      assertTrue(eTxt < 1e-4, file + ": text features off by " + eTxt);
      assertTrue(eLogits < 1e-4, file + ": logits off by " + eLogits);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"model.safetensors", "state_dict.pt"})
  void aStateDictWithoutItsConfigurationIsRefusedNamingWhatToPass(String file) {
    Path path = SharedFixtures.clipTiny(file);  // outside the lambda: its skip must not look like a wrong exception
    ClipConfigUnknownException e = org.junit.jupiter.api.Assertions.assertThrows(ClipConfigUnknownException.class,
        () -> ClipLoader.load(path));
    assertTrue(e.getMessage().contains(file) && e.getMessage().contains("--model-config")
        && e.getMessage().contains("openai") && e.getMessage().contains("ViT-B-16-quickgelu"), e.getMessage());
  }
}
