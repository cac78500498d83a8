package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.SharedFixtures;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune zeroshot} on the fixture CLIP and a generated image folder, against the model's own logits. */
class ZeroshotCommandTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  @Test
  void accuracyEqualsTheArgmaxOfOpenAisLogits() throws Exception {
    Path model = SharedFixtures.clipTiny("model.safetensors");
    Path vocab = SharedFixtures.clipBpeVocabulary();
    String[] classes = {"red_square", "green_circle", "blue_stripes"};
    List<Path> files = new ArrayList<>();
    int[] labels = new int[9];
    for (int c = 0; c < 3; c++) {
      Path folder = Files.createDirectories(dir.resolve("data").resolve(classes[c]));
      for (int k = 0; k < 3; k++) {
        BufferedImage b = new BufferedImage(30 + 7 * k, 40 - 3 * c, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < b.getHeight(); y++) {
          for (int x = 0; x < b.getWidth(); x++) b.setRGB(x, y, (c == 0 ? 0xff0000 : c == 1 ? 0x00ff00 : 0x0000ff) ^ ((x * 31 + y * k) & 0x3f3f3f));
        }
        Path f = folder.resolve("img" + k + ".png");
        ImageIO.write(b, "png", f.toFile());
        files.add(f);
        labels[c * 3 + k] = c;
      }
    }
    CliRunner.Result r = CliRunner.run("zeroshot", "--model", model.toString(), "--model-config", "openai",
        "--vocab", vocab.toString(),
        "--data", dir.resolve("data").toString(), "--no-progress", "--batch", "4");
    assertEquals(0, r.exitCode(), r.out());

    // The same through the model alone: logits_per_image of the images against "a photo of a <name>." texts.
    ClipModel clip = ClipLoader.load(model, "openai");
    List<String> prompts = List.of("a photo of a red square.", "a photo of a green circle.", "a photo of a blue stripes.");
    int hits = 0;
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor images = ImageBatch.loadTensor(files, ClipImageTransform.of(32), 1);
      Tensor tokens = ClipTokenTensors.tokenize(ClipTokenizer.load(vocab), prompts, 77, Truncation.TRUNCATE);
      Tensor logits = clip.logitsPerImage(clip.encodeImage(images), clip.encodeText(tokens)).contiguous();
      float[] v = new float[27];
      ((java.nio.FloatBuffer) logits.createBuffer()).get(v);
      for (int i = 0; i < 9; i++) {
        int best = 0;
        for (int c = 1; c < 3; c++) if (v[i * 3 + c] > v[i * 3 + best]) best = c;
        if (best == labels[i]) hits++;
      }
    }
    String want = String.format(Locale.ROOT, "top-1 %.1f%%", 100.0 * hits / 9);
    assertTrue(r.out().contains(want) && r.out().contains("top-5 100.0%"), want + " in\n" + r.out());

    Path names = dir.resolve("names.txt");
    Files.writeString(names, "only one\n");
    CliRunner.Result bad = CliRunner.run("zeroshot", "--model", model.toString(), "--vocab", vocab.toString(),
        "--data", dir.resolve("data").toString(), "--classes", names.toString(), "--no-progress");
    assertEquals(1, bad.exitCode());
    assertTrue(bad.out().contains("1 names for the 3 classes"), bad.out());
  }
}
