package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ReferenceClip;
import dev.mergetune.clip.TinyClipFiles;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands on real-layout checkpoints with no flags beyond the paths: a Hugging Face snapshot folder made here
 * (config.json, model.safetensors, vocab.json, merges.txt; a GELU model with head width 80) through {@code embed}
 * (features against the double-precision reference to 1e-5), {@code zeroshot} and {@code info}; and the reported
 * round trip — {@code merge --method wise-ft --alpha 0.1} of the demo's tiny CLIP, then {@code zeroshot} on the
 * output — giving what {@code path} gives at α = 0.1.
 */
class ClipFamiliesCliTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static final List<String> MERGES = List.of("p h", "ph o", "t o</w>", "pho to</w>", "c a", "ca t</w>");

  @Test
  void aHuggingFaceSnapshotRunsWithoutFlagsAndGivesTheReferenceFeatures() throws Exception {
    Path snap = dir.resolve("snapshot");
    int vocab = TinyClipFiles.writeHfTokenizer(snap, MERGES);
    TinyClipFiles.Arch a = new TinyClipFiles.Arch(40, 32, 8, 12, vocab,
        new ReferenceClip.Tower(160, 2, 2, 320, false, 1e-5, false),
        new ReferenceClip.Tower(80, 2, 1, 320, false, 1e-5, false));
    TinyClipFiles.Weights w = TinyClipFiles.random(a, 31);
    TinyClipFiles.writeHuggingFace(snap, w, a, 1);
    ReferenceClip ref = w.reference(a);

    float[] images = TinyClipFiles.images(3, 32, 32);
    Path imageFile = dir.resolve("images.safetensors");
    SafetensorsWriter.write(imageFile, List.of(TensorSource.ofFloats("images", new long[] {3, 3, 32, 32}, images,
        DType.F32)), Map.of());
    List<String> texts = List.of("a photo", "a cat", "photo of a cat.");
    Path textFile = dir.resolve("texts.json");
    new ObjectMapper().writeValue(textFile.toFile(), texts);
    Path out = dir.resolve("features.safetensors");
    CliRunner.Result r = CliRunner.run("embed", "--model", snap.toString(), "--images", imageFile.toString(),
        "--texts", textFile.toString(), "--no-progress", "--out", out.toString());
    assertEquals(0, r.exitCode(), r.out());

    ClipTokenizer tok = ClipTokenizer.loadHuggingFace(snap.resolve("vocab.json"), snap.resolve("merges.txt"));
    int[][] ids = tok.tokenize(texts, a.context(), Truncation.ERROR);
    long[] tokens = new long[texts.size() * a.context()];
    for (int i = 0; i < ids.length; i++) for (int j = 0; j < a.context(); j++) tokens[i * a.context() + j] = ids[i][j];
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      double img = ReferenceClip.relativeError(f.readFloats("image_features"), ref.image(images, 3));
      double txt = ReferenceClip.relativeError(f.readFloats("text_features"), ref.text(tokens, texts.size()));
      System.out.printf("HF snapshot through embed: relative error image %.2e, text %.2e%n", img, txt);
      assertTrue(img < 1e-5 && txt < 1e-5, "image " + img + ", text " + txt);
    }

    Path data = dir.resolve("data");
    writeImages(data, List.of("cat", "photo"), 3);
    CliRunner.Result zs = CliRunner.run("zeroshot", "--model", snap.toString(), "--data", data.toString(),
        "--no-progress");
    assertEquals(0, zs.exitCode(), zs.out());
    assertTrue(zs.out().contains("6 images, 2 classes") && zs.out().contains("top-1"), zs.out());

    CliRunner.Result info = CliRunner.run("info", snap.toString());
    assertEquals(0, info.exitCode(), info.out());
    for (String s : new String[] {"hugging-face", "config.json", "2 heads × 80", "gelu", "vocab.json", "32 px, patch 8"}) {
      assertTrue(info.out().contains(s), s + " in:\n" + info.out());
    }
  }

  private static void writeImages(Path root, List<String> classes, int perClass) throws Exception {
    Random r = new Random(3);
    for (String c : classes) {
      Path d = Files.createDirectories(root.resolve(c));
      for (int k = 0; k < perClass; k++) {
        BufferedImage b = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) b.setRGB(x, y, r.nextInt(0xffffff));
        ImageIO.write(b, "png", d.resolve("img" + k + ".png").toFile());
      }
    }
  }

  private static double number(Pattern p, String out) {
    Matcher m = p.matcher(out);
    assertTrue(m.find(), p + " in:\n" + out);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void wiseFtOfTheDemoModelThenZeroshotEqualsThePathAtTheSameAlpha() throws Exception {
    Path demo = Path.of("../../demo/tiny-clip/tiny-clip.safetensors");
    Path vocab = Path.of("../../demo/tiny-clip/world-bpe.txt.gz");
    assertTrue(Files.isRegularFile(demo), "the committed demo model is missing: " + demo.toAbsolutePath());
    Path ft = dir.resolve("ft.safetensors");  // a "fine-tuned" copy: every weight moved by N(0, 0.05²), no metadata
    List<TensorSource> moved = new ArrayList<>();
    Random rnd = new Random(9);
    try (Checkpoint c = Checkpoints.open(demo)) {
      for (TensorInfo t : c.tensors().values()) {
        float[] v = c.readFloats(t.name());
        for (int i = 0; i < v.length; i++) v[i] += (float) (0.05 * rnd.nextGaussian());
        moved.add(TensorSource.ofFloats(t.name(), t.shape(), v, DType.F32));
      }
    }
    SafetensorsWriter.write(ft, moved, Map.of());
    Path data = dir.resolve("data");
    writeImages(data, List.of("red circle", "blue square", "green star"), 4);
    Path wise = dir.resolve("wise.safetensors");
    CliRunner.Result m = CliRunner.run("merge", "--method", "wise-ft", "--base", demo.toString(), "--models",
        ft.toString(), "--alpha", "0.1", "--out", wise.toString());
    assertEquals(0, m.exitCode(), m.out());
    CliRunner.Result zs = CliRunner.run("zeroshot", "--model", wise.toString(), "--data", data.toString(), "--vocab",
        vocab.toString(), "--no-progress");
    assertEquals(0, zs.exitCode(), zs.out());
    CliRunner.Result path = CliRunner.run("path", "--from", demo.toString(), "--to", ft.toString(), "--alphas", "0,0.1",
        "--data", data.toString(), "--out", dir.resolve("path").toString(), "--no-progress");
    assertEquals(0, path.exitCode(), path.out());
    assertTrue(path.out().contains("ft.safetensors records no model configuration"), path.out());
    double merged = number(Pattern.compile("top-1 ([0-9.]+)%"), zs.out());
    double onPath = number(Pattern.compile("α 0.1: top-1 ([0-9.]+)%"), path.out());
    System.out.printf("wise-ft 0.1 → zeroshot %.2f%%, path at 0.1 %.2f%%%n", merged, onPath);
    assertEquals(onPath, merged, 1e-9, zs.out() + "\n" + path.out());
  }
}
