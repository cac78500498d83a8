package dev.mergetune.protocol;

import dev.mergetune.clip.Activation;
import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Small inputs for protocol tests: random tiny CLIP checkpoints, generated image folders and CoOp-style split files,
 * and an independent zero-shot evaluation straight through {@link ClipModel#logitsPerImage}.
 */
public final class ProtocolFixtures {
  /** embed 32, 32 px images in 16 px patches, 2 + 2 layers of width 64, the real vocabulary size. */
  public static final ClipConfig TINY = ClipConfig.of(32, 32, 2, 64, 16, 1, 77, 49408, 64, 1, 2, Activation.QUICK_GELU);

  private ProtocolFixtures() {}

  /** A randomly initialised tiny CLIP saved as safetensors. */
  public static Path tinyClip(Path file, long seed) throws IOException {
    ClipModel m = new ClipModel(TINY).initialize(seed);
    ClipCheckpoints.save(m, file, Map.of());
    return file;
  }

  /** One labelled image file. */
  public record Image(Path file, int label) {}

  /** Class folders under {@code dir} (sorted names = labels), {@code perClass} PNG images each. */
  public static List<Image> imageFolder(Path dir, List<String> classes, int perClass, int salt) throws IOException {
    List<Image> out = new ArrayList<>();
    for (int c = 0; c < classes.size(); c++) {
      Path folder = Files.createDirectories(dir.resolve(classes.get(c)));
      for (int k = 0; k < perClass; k++) {
        Path f = folder.resolve("img" + k + ".png");
        write(f, c, k, salt);
        out.add(new Image(f, c));
      }
    }
    return out;
  }

  /**
   * A CoOp Caltech101 folder under {@code root} (caltech-101/101_ObjectCategories/&lt;class&gt;/imgK.png and
   * split_zhou_Caltech101.json whose train, val and test splits all list every image).
   */
  public static List<Image> coopCaltech(Path root, List<String> classes, int perClass) throws IOException {
    Path dir = root.resolve("caltech-101");
    List<Image> images = imageFolder(dir.resolve("101_ObjectCategories"), classes, perClass, 3);
    StringBuilder entries = new StringBuilder("[");
    for (Image im : images) {
      if (entries.length() > 1) entries.append(", ");
      entries.append("[\"").append(classes.get(im.label())).append('/').append(im.file().getFileName()).append("\", ")
          .append(im.label()).append(", \"").append(classes.get(im.label())).append("\"]");
    }
    entries.append(']');
    Files.writeString(dir.resolve("split_zhou_Caltech101.json"),
        "{\"train\": " + entries + ", \"val\": " + entries + ", \"test\": " + entries + "}");
    return images;
  }

  private static void write(Path f, int c, int k, int salt) throws IOException {
    int[] colours = {0xd02020, 0x20b040, 0x2040d0, 0xd0d020, 0x20d0d0, 0xb020b0};
    BufferedImage b = new BufferedImage(36 + 5 * k, 40 - 2 * c, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < b.getHeight(); y++) {
      for (int x = 0; x < b.getWidth(); x++) {
        b.setRGB(x, y, colours[c % colours.length] ^ (((x * (7 + salt)) + y * (k + 1) * (c + 2)) & 0x3f3f3f));
      }
    }
    ImageIO.write(b, "png", f.toFile());
  }

  /** The images of {@code images} whose labels are in [from, to), relabelled from 0. */
  public static List<Image> subset(List<Image> images, int from, int to) {
    List<Image> out = new ArrayList<>();
    for (Image im : images) if (im.label() >= from && im.label() < to) out.add(new Image(im.file(), im.label() - from));
    return out;
  }

  /** logits_per_image of the images against one prompt per class, straight through the model. */
  public static float[][] logits(ClipModel clip, ClipTokenizer tokenizer, List<Image> images, List<String> prompts) {
    List<Path> files = images.stream().map(Image::file).toList();
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor x = ImageBatch.loadTensor(files, ClipImageTransform.of(clip.config().imageResolution()), 1);
      Tensor tokens = ClipTokenTensors.tokenize(tokenizer, prompts, 77, Truncation.TRUNCATE);
      Tensor logits = clip.logitsPerImage(clip.encodeImage(x), clip.encodeText(tokens)).contiguous();
      float[] v = new float[images.size() * prompts.size()];
      ((java.nio.FloatBuffer) logits.createBuffer()).get(v);
      float[][] out = new float[images.size()][prompts.size()];
      for (int i = 0; i < out.length; i++) System.arraycopy(v, i * prompts.size(), out[i], 0, prompts.size());
      return out;
    }
  }

  /** Top-1 in percent, ties to the first maximum (written out here, not through eval.Accuracy). */
  public static double top1(float[][] logits, List<Image> images) {
    int hits = 0;
    for (int i = 0; i < logits.length; i++) {
      int best = 0;
      for (int c = 1; c < logits[i].length; c++) if (logits[i][c] > logits[i][best]) best = c;
      if (best == images.get(i).label()) hits++;
    }
    return 100.0 * hits / logits.length;
  }

  /** Mean cross-entropy, in double. */
  public static double loss(float[][] logits, List<Image> images) {
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      double lse = 0;
      for (float v : logits[i]) lse += Math.exp(v);
      sum += Math.log(lse) - logits[i][images.get(i).label()];
    }
    return sum / logits.length;
  }

  /** One prompt per class name. */
  public static List<String> prompts(String template, List<String> names) {
    return names.stream().map(n -> template.replace("{}", n)).toList();
  }
}
