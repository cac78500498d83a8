package dev.mergetune.clip.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.image.RandomResizedCrop.Box;
import dev.mergetune.data.SplitMix64;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** torchvision's RandomResizedCrop rules, the Pillow-exact resize path, flips and the determinism of the draws. */
class RandomResizedCropTest {
  @TempDir Path dir;

  private static PilImage rgb(int w, int h, long seed) {
    byte[] px = new byte[w * h * 3];
    int[] s = TestImages.pattern(w, h, 3, seed);
    for (int i = 0; i < px.length; i++) px[i] = (byte) s[i];
    return PilImage.of(PilMode.RGB, w, h, px);
  }

  /** A box is inside the image and, unless it is the fallback, consistent with the drawn area and ratio ranges. */
  private static void checkBox(Box b, int w, int h, double sMin, double sMax, double rMin, double rMax) {
    String where = b + " in " + w + "x" + h;
    assertTrue(b.width() > 0 && b.height() > 0, where);
    assertTrue(b.left() >= 0 && b.top() >= 0, where);
    assertTrue(b.left() + b.width() <= w && b.top() + b.height() <= h, where);
    if (b.fallback()) return;
    assertTrue(b.attempt() < RandomResizedCrop.ATTEMPTS, where);
    // w = round(sqrt(T·r)), h = round(sqrt(T/r)): T·r in [(w−½)², (w+½)²], T/r in [(h−½)², (h+½)²]
    double area = (double) w * h;
    double tLo = (b.width() - 0.5) * (b.height() - 0.5);
    double tHi = (b.width() + 0.5) * (b.height() + 0.5);
    assertTrue(tHi >= sMin * area - 1e-9 && tLo <= sMax * area + 1e-9, where + ": area outside the scale range");
    double rLo = (b.width() - 0.5) / (b.height() + 0.5);
    double rHi = (b.width() + 0.5) / (b.height() - 0.5);
    assertTrue(rHi >= rMin - 1e-12 && rLo <= rMax + 1e-12, where + ": ratio outside the ratio range");
  }

  @Test
  void boxesFollowTorchvisionsRules() {
    SplittableRandom sizes = new SplittableRandom(7);
    double[][] scales = {{0.08, 1.0}, {0.9, 1.0}, {0.5, 0.5}};
    int fallbacks = 0;
    for (int trial = 0; trial < 3000; trial++) {
      int w = 1 + sizes.nextInt(sizes.nextBoolean() ? 40 : 1200);
      int h = 1 + sizes.nextInt(sizes.nextBoolean() ? 40 : 1200);
      double[] s = scales[trial % scales.length];
      Box b = RandomResizedCrop.params(w, h, s[0], s[1], RandomResizedCrop.RATIO_MIN, RandomResizedCrop.RATIO_MAX,
          new SplitMix64(trial));
      checkBox(b, w, h, s[0], s[1], RandomResizedCrop.RATIO_MIN, RandomResizedCrop.RATIO_MAX);
      if (b.fallback()) fallbacks++;
    }
    assertTrue(fallbacks > 0 && fallbacks < 3000, "fallbacks: " + fallbacks);
  }

  @Test
  void drawsSpreadOverTheWholeRanges() {
    int w = 1000;
    int h = 1000;
    double minFrac = 1;
    double maxFrac = 0;
    double minRatio = 10;
    double maxRatio = 0;
    int minTop = h;
    int maxBottomGap = h;
    for (int i = 0; i < 4000; i++) {
      Box b = RandomResizedCrop.params(w, h, 0.08, 1.0, 0.75, 4.0 / 3.0, new SplitMix64(SplitMix64.derive(1, i)));
      if (b.fallback()) continue;
      double frac = (double) b.width() * b.height() / (w * h);
      double ratio = (double) b.width() / b.height();
      minFrac = Math.min(minFrac, frac);
      maxFrac = Math.max(maxFrac, frac);
      minRatio = Math.min(minRatio, ratio);
      maxRatio = Math.max(maxRatio, ratio);
      minTop = Math.min(minTop, b.top());
      maxBottomGap = Math.min(maxBottomGap, h - b.top() - b.height());
    }
    assertTrue(minFrac < 0.09 && maxFrac > 0.95, minFrac + " " + maxFrac);
    assertTrue(minRatio < 0.77 && maxRatio > 1.30, minRatio + " " + maxRatio);
    assertEquals(0, minTop);
    assertEquals(0, maxBottomGap);
  }

  @Test
  void extremeImagesFallBackToTheClampedCentreCrop() {
    for (long seed = 0; seed < 50; seed++) {
      // 500 wide, 3 high: ratio 166 > 4/3 → h = 3, w = round(3 · 4/3) = 4, j = (500 − 4) // 2 = 248
      assertEquals(new Box(0, 248, 3, 4, -1),
          RandomResizedCrop.params(500, 3, 0.08, 1.0, 0.75, 4.0 / 3.0, new SplitMix64(seed)));
      // 3 wide, 500 high: ratio < 3/4 → w = 3, h = round(3 / 0.75) = 4, i = 248
      assertEquals(new Box(248, 0, 4, 3, -1),
          RandomResizedCrop.params(3, 500, 0.08, 1.0, 0.75, 4.0 / 3.0, new SplitMix64(seed)));
      // 7 x 3 with the MTIL scale: h = 3, w = round(4.0) = 4, j = 1
      assertEquals(new Box(0, 1, 3, 4, -1),
          RandomResizedCrop.params(7, 3, 0.9, 1.0, 0.75, 4.0 / 3.0, new SplitMix64(seed)));
      // ratio inside the range but every area too large: the whole image
      assertEquals(new Box(0, 0, 100, 90, -1),
          RandomResizedCrop.params(90, 100, 2.0, 3.0, 0.75, 4.0 / 3.0, new SplitMix64(seed)));
    }
    // 11 x 2: too wide; h = 2, w = round(2.6666) = 3, j = (11 − 3) // 2 = 4
    assertEquals(new Box(0, 4, 2, 3, -1), RandomResizedCrop.params(11, 2, 0.9, 1.0, 0.75, 4.0 / 3.0, new SplitMix64(3)));
  }

  @Test
  void wholeSquareCropEqualsTheEvalTransformBitForBit() throws Exception {
    // scale (1, 1) and ratio (1, 1): the box is the whole image; a square image then goes through the same
    // Pillow resize to n × n as CLIP's eval transform (whose centre crop is empty)
    for (int[] c : new int[][] {{300, 224}, {97, 32}, {224, 224}, {20, 32}, {513, 7}}) {
      PilImage img = rgb(c[0], c[0], c[0]);
      RandomResizedCrop whole = RandomResizedCrop.of(c[1], 1.0, 1.0, 5).withRatio(1.0, 1.0);
      ClipImageTransform eval = ClipImageTransform.of(c[1]);
      assertEquals(new Box(0, 0, c[0], c[0], 0), whole.draw(c[0], c[0], 3, 9).box());
      assertArrayEquals(eval.apply(img), whole.apply(img, 3, 9), c[0] + " -> " + c[1]);
    }
    // through a file written by ImageIO, and in grey and palette modes (resized in their own mode, as eval does)
    Path png = dir.resolve("sq.png");
    ImageIO.write(TestImages.rgbImage(150, 150, TestImages.noise(150 * 150 * 3, 8, 2)), "png", png.toFile());
    PilImage decoded = ImageDecoder.read(png);
    RandomResizedCrop whole = RandomResizedCrop.of(64, 1.0, 1.0, 0).withRatio(1.0, 1.0);
    assertArrayEquals(ClipImageTransform.of(64).apply(decoded), whole.apply(decoded, 0, 0));
    byte[] grey = new byte[60 * 60];
    for (int i = 0; i < grey.length; i++) grey[i] = (byte) (i * 31 + i / 60);
    PilImage greyImage = PilImage.of(PilMode.L, 60, 60, grey);
    assertArrayEquals(ClipImageTransform.of(16).apply(greyImage),
        RandomResizedCrop.of(16, 1.0, 1.0, 0).withRatio(1.0, 1.0).apply(greyImage, 1, 1));
  }

  @Test
  void rgbFirstMattersForPaletteImages() {
    byte[] idx = new byte[40 * 40];
    for (int i = 0; i < idx.length; i++) idx[i] = (byte) ((i * 7) % 5);
    byte[] pal = new byte[768];
    for (int i = 0; i < pal.length; i++) pal[i] = (byte) (i * 53);
    PilImage p = PilImage.palette(40, 40, idx, pal);
    PilImage asRgb = PilImage.of(PilMode.RGB, 40, 40, p.toRgb());
    RandomResizedCrop whole = RandomResizedCrop.of(24, 1.0, 1.0, 0).withRatio(1.0, 1.0);
    // CLIP/ZSCL order: a palette image is resized with NEAREST, as the eval transform does
    assertArrayEquals(ClipImageTransform.of(24).apply(p), whole.apply(p, 0, 0));
    // Dassl's order: converted to RGB on reading, then bicubic
    assertArrayEquals(ClipImageTransform.of(24).apply(asRgb), whole.withRgbFirst(true).apply(p, 0, 0));
    assertFalse(Arrays.equals(whole.apply(p, 0, 0), whole.withRgbFirst(true).apply(p, 0, 0)));
  }

  @Test
  void flipMirrorsEachRow() {
    int n = 20;
    PilImage img = rgb(50, 50, 11);
    float[] plain = ClipImageTransform.of(n).apply(img);
    RandomResizedCrop flipped = RandomResizedCrop.of(n, 1.0, 1.0, 0).withRatio(1.0, 1.0).withFlip(1.0);
    assertTrue(flipped.draw(50, 50, 0, 0).flip());
    float[] out = flipped.apply(img, 0, 0);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
          assertEquals(Float.floatToIntBits(plain[(c * n + y) * n + x]),
              Float.floatToIntBits(out[(c * n + y) * n + (n - 1 - x)]), "c" + c + " y" + y + " x" + x);
        }
      }
    }
    assertFalse(Arrays.equals(plain, out));
    // p = 0.5: about half the samples are mirrored, and the decision is part of the sample's draw
    RandomResizedCrop half = RandomResizedCrop.coop(n, 3);
    long mirrored = IntStream.range(0, 2000).filter(i -> half.draw(500, 400, 2, i).flip()).count();
    assertTrue(mirrored > 900 && mirrored < 1100, "mirrored " + mirrored);
    assertFalse(RandomResizedCrop.mtil(n, 3).draw(500, 400, 2, 0).flip());
  }

  @Test
  void drawsDependOnSeedEpochAndIndexOnly() {
    PilImage img = rgb(320, 240, 4);
    RandomResizedCrop a = RandomResizedCrop.coop(32, 42);
    RandomResizedCrop b = RandomResizedCrop.coop(32, 42);
    float[] ref = a.apply(img, 3, 17);
    assertArrayEquals(ref, b.apply(img, 3, 17));
    // the same from many threads at once, in any order
    List<float[]> parallel = IntStream.range(0, 16).parallel().mapToObj(i -> b.apply(img, 3, 17)).toList();
    for (float[] f : parallel) assertArrayEquals(ref, f);
    // other draws interleaved in between do not matter
    a.apply(img, 9, 1);
    assertArrayEquals(ref, a.apply(img, 3, 17));
    assertFalse(Arrays.equals(ref, a.apply(img, 4, 17)), "another epoch");
    assertFalse(Arrays.equals(ref, a.apply(img, 3, 18)), "another sample");
    assertFalse(Arrays.equals(ref, a.withSeed(43).apply(img, 3, 17)), "another seed");
    assertNotEquals(a.draw(320, 240, 0, 0), a.draw(320, 240, 1, 0));
    assertEquals(a.draw(320, 240, 0, 0), b.draw(320, 240, 0, 0));
  }

  @Test
  void drawsAreFixedByTheDocumentedStreams() {
    // computed independently (a few lines of Python implementing SplitMix64.derive, nextDouble, nextInt and the
    // get_params rule as documented): the draws are defined by the code, not by the JVM or the machine
    RandomResizedCrop coop = RandomResizedCrop.coop(224, 42);
    assertEquals(new RandomResizedCrop.Draw(new Box(0, 47, 239, 266, 2), false), coop.draw(320, 240, 0, 0));
    assertEquals(new RandomResizedCrop.Draw(new Box(72, 22, 84, 99, 0), true), coop.draw(320, 240, 1, 0));
    assertEquals(new RandomResizedCrop.Draw(new Box(67, 80, 74, 88, 0), true), coop.draw(320, 240, 0, 5));
    assertEquals(new RandomResizedCrop.Draw(new Box(134, 129, 100, 114, 0), true),
        coop.withSeed(7).draw(320, 240, 3, 17));
  }

  @Test
  void idsNameEverythingTheOutputDependsOn() {
    assertEquals("eval:resize-crop:224", ClipImageTransform.of(224).id());
    assertEquals("eval:resize-crop:224:pillow<12.2", ClipImageTransform.of(224).withPillowBefore12_2().id());
    assertEquals("train:rrc:224:0.9-1.0:noflip:seed=42", RandomResizedCrop.mtil(224, 42).id());
    assertEquals("train:rrc:224:0.08-1.0:flip=0.5:rgb-first:seed=1", RandomResizedCrop.coop(224, 1).id());
    assertEquals("train:rrc:32:1.0-1.0:ratio=1.0-1.0:noflip:seed=0",
        RandomResizedCrop.of(32, 1, 1, 0).withRatio(1, 1).id());
    assertEquals("train:rrc:224:0.9-1.0:noflip:pillow<12.2:seed=42",
        RandomResizedCrop.mtil(224, 42).withPillowBefore12_2().id());
    assertTrue(RandomResizedCrop.mtil(224, 42).isRandom());
    assertFalse(ClipImageTransform.of(224).isRandom());
    assertEquals(42, RandomResizedCrop.mtil(224, 42).seed().getAsLong());
    assertTrue(ClipImageTransform.of(224).seed().isEmpty());
  }

  @Test
  void invalidRangesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.of(224, 1.0, 0.9, 0));
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.of(224, -0.1, 0.9, 0));
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.mtil(224, 0).withRatio(0, 1));
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.mtil(224, 0).withRatio(2, 1));
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.mtil(224, 0).withFlip(1.5));
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.of(0, 0.9, 1.0, 0));
  }

  @Test
  void tinyImagesStillGiveAFullSizeOutput() throws Exception {
    Path png = dir.resolve("one.png");
    ImageIO.write(TestImages.rgbImage(1, 1, new int[] {10, 200, 30}), "png", png.toFile());
    assertTrue(Files.size(png) > 0);
    PilImage one = ImageDecoder.read(png);
    float[] out = RandomResizedCrop.coop(8, 0).apply(one, 0, 0);
    assertEquals(3 * 8 * 8, out.length);
    ClipImageTransform eval = ClipImageTransform.of(8);
    for (int i = 0; i < 64; i++) {
      assertEquals(eval.normalise(0, 10), out[i]);
      assertEquals(eval.normalise(1, 200), out[64 + i]);
    }
  }
}
