package dev.mergetune.cli;

import dev.mergetune.clip.Activation;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SharedFixtures;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune embed}: the fixture's reference features through the CLI, and image folders on a random tiny CLIP. */
class EmbedCommandTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static double relativeError(float[] got, float[] want) {
    double worst = 0;
    double scale = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return worst / scale;
  }

  @Test
  void theFixturesFeaturesFromItsTextsAndImages() throws Exception {
    Path model = SharedFixtures.clipTiny("model.jit.pt");
    Path vocab = SharedFixtures.clipBpeVocabulary();
    JsonNode tokens = new ObjectMapper().readTree(SharedFixtures.clipTiny("tokens.json").toFile());
    List<String> texts = new ArrayList<>();
    JsonNode list = tokens.has("texts") ? tokens.get("texts") : tokens;
    list.forEach(n -> texts.add(n.isTextual() ? n.asText() : n.get("text").asText()));
    Path textFile = dir.resolve("texts.json");
    new ObjectMapper().writeValue(textFile.toFile(), texts);
    Path out = dir.resolve("features.safetensors");
    CliRunner.Result r = CliRunner.run("embed", "--model", model.toString(), "--vocab", vocab.toString(),
        "--images", SharedFixtures.clipTiny("inputs.safetensors").toString(), "--texts", textFile.toString(),
        "--no-progress", "--cache", dir.resolve("cache").toString(), "--out", out.toString());
    assertEquals(0, r.exitCode(), r.out());
    try (SafetensorsFile got = SafetensorsFile.open(out);
        SafetensorsFile want = SafetensorsFile.open(SharedFixtures.clipTiny("expected.safetensors"))) {
      double img = relativeError(got.readFloats("image_features"), want.readFloats("image_features"));
      double txt = relativeError(got.readFloats("text_features"), want.readFloats("text_features"));
      assertTrue(img < 1e-4 && txt < 1e-4, "relative errors " + img + ", " + txt);
      assertEquals(texts.size(), got.info("text_features").shape()[0]);
    }
    // A second run is served from the cache and writes the same bytes.
    Path again = dir.resolve("again.safetensors");
    assertEquals(0, CliRunner.run("embed", "--model", model.toString(), "--vocab", vocab.toString(), "--texts",
        textFile.toString(), "--no-progress", "--cache", dir.resolve("cache").toString(), "--out", again.toString()).exitCode());
    try (SafetensorsFile a = SafetensorsFile.open(out); SafetensorsFile b = SafetensorsFile.open(again)) {
      assertArrayEquals(a.readFloats("text_features"), b.readFloats("text_features"));
    }
  }

  @Test
  void anImageFolderOnATinyModelEqualsTheApiAndBadImagesAreNamed() throws Exception {
    ClipConfig cfg = ClipConfig.of(32, 32, 2, 64, 16, 1, 16, 300, 64, 1, 2, Activation.QUICK_GELU);
    ClipModel m = new ClipModel(cfg).initialize(21);
    Path model = dir.resolve("tiny.safetensors");
    ClipCheckpoints.save(m, model, Map.of());
    Path images = Files.createDirectories(dir.resolve("imgs"));
    int[][] sizes = {{40, 33}, {17, 50}, {32, 32}};
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      BufferedImage b = new BufferedImage(sizes[i][0], sizes[i][1], i == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_ARGB);
      for (int y = 0; y < b.getHeight(); y++) for (int x = 0; x < b.getWidth(); x++) b.setRGB(x, y, 0xff000000 | (x * 7 + y * 13 + i * 50) * 0x010203);
      Path f = images.resolve("img" + i + ".png");
      ImageIO.write(b, "png", f.toFile());
      files.add(f);
    }
    Path out = dir.resolve("f.safetensors");
    CliRunner.Result r = CliRunner.run("embed", "--model", model.toString(), "--images", images.toString(),
        "--normalize", "--no-progress", "--batch", "2", "--out", out.toString());
    assertEquals(0, r.exitCode(), r.out());
    float[] want;
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor batch = ImageBatch.loadTensor(files, ClipImageTransform.of(32), 1);
      Tensor f = ClipModel.normalize(m.encodeImage(batch)).contiguous();
      want = new float[(int) f.numel()];
      ((java.nio.FloatBuffer) f.createBuffer()).get(want);
    }
    try (SafetensorsFile got = SafetensorsFile.open(out)) {
      assertArrayEquals(want, got.readFloats("image_features"), 1e-6f);
      assertEquals("[\"img0.png\",\"img1.png\",\"img2.png\"]", got.metadata().get("mergetune.images"));
    }
    Files.write(images.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    CliRunner.Result bad = CliRunner.run("embed", "--model", model.toString(), "--images", images.toString(),
        "--no-progress", "--out", dir.resolve("never.safetensors").toString());
    assertEquals(1, bad.exitCode());
    assertTrue(bad.out().contains("broken.png"), bad.out());
    assertFalse(Files.exists(dir.resolve("never.safetensors")));
  }
}
