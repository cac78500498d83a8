package dev.mergetune.world;

import dev.mergetune.clip.image.PngEncoder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.data.Sample;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pixels say what the labels say, read back through ImageIO's PNG decoder (not our encoder). */
class RenderedConceptsTest {
  @TempDir static Path dir;
  static World world;

  @BeforeAll
  static void generate() throws IOException {
    world = TinyWorlds.generate(dir.resolve("w"), 11, 8);
  }

  /** Mean RGB of the saturated pixels (backgrounds are grey, R = G = B) and how many there are. */
  static double[] saturatedMean(BufferedImage im) {
    double[] sum = new double[4];
    for (int y = 0; y < im.getHeight(); y++) {
      for (int x = 0; x < im.getWidth(); x++) {
        int v = im.getRGB(x, y);
        int r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
        if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
          sum[0] += r;
          sum[1] += g;
          sum[2] += b;
          sum[3]++;
        }
      }
    }
    return new double[] {sum[0] / sum[3], sum[1] / sum[3], sum[2] / sum[3], sum[3]};
  }

  static String nearestColour(double[] rgb) {
    String best = null;
    double bestD = Double.MAX_VALUE;
    for (Concepts.Colour c : Concepts.COLOURS) {
      double d = Math.pow(rgb[0] - c.r(), 2) + Math.pow(rgb[1] - c.g(), 2) + Math.pow(rgb[2] - c.b(), 2);
      if (d < bestD) {
        bestD = d;
        best = c.name();
      }
    }
    return best;
  }

  @Test
  void zeroShotImagesShowTheirColour() throws IOException {
    Dataset combos = ImageFolderSource.read(world.zeroShotRoot());
    assertEquals(64, combos.numClasses());
    for (Sample s : combos.samples()) {
      BufferedImage im = ImageIO.read(s.image().toFile());
      assertEquals(32, im.getWidth());
      double[] m = saturatedMean(im);
      assertTrue(m[3] >= 6, s.image() + ": only " + m[3] + " coloured pixels");
      String named = combos.className(s.label()).split(" ")[0];
      assertEquals(named, nearestColour(m), s.image() + " mean " + java.util.Arrays.toString(m));
    }
  }

  @Test
  void renderedColourMatchesTheNominalValue() throws IOException {
    for (Concepts.Colour c : Concepts.COLOURS) {
      Scene s = new Scene("square", c.name(), "stripes", "large", 16, 16, 11, 0.3, Domain.PHOTO, 0.2, 1.0, 1);
      BufferedImage im = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(SceneRenderer.render(s, 32), 32, 32)));
      int v = im.getRGB(16, 16);  // the centre is deep inside the square
      assertEquals(c.r(), (v >> 16) & 255, c.name());
      assertEquals(c.g(), (v >> 8) & 255, c.name());
      assertEquals(c.b(), v & 255, c.name());
    }
  }

  @Test
  void sizesAndSketchesAsLabelled() throws IOException {
    double small = 0;
    double large = 0;
    for (int i = 0; i < 8; i++) {
      for (String size : Concepts.SIZES) {
        Scene s = SceneSampler.draw(new dev.mergetune.data.SplitMix64(i), 32, "square", "red", "dots", size, Domain.PHOTO);
        double n = saturatedMean(ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(SceneRenderer.render(s, 32),
            32, 32))))[3];
        if (size.equals("small")) small += n; else large += n;
      }
    }
    // radius 0.38 vs 0.25 of the side: about (0.38 / 0.25)² = 2.3 times the area
    assertTrue(large > 1.9 * small && large < 2.8 * small, "large shapes cover more pixels: " + large + " vs " + small);
    Dataset sketches = ImageFolderSource.read(world.root().resolve("domains/shapes-sketch"));
    for (Sample s : sketches.samples()) {
      assertEquals(0.0, saturatedMean(ImageIO.read(s.image().toFile()))[3], s.image() + " is a colourless sketch");
    }
  }
}
