package dev.mergetune.clip.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Pillow's bicubic resize: exact against the expected outputs published in Pillow's own test suite
 * (python-pillow/Pillow, Tests/test_image_resample.py), exact invariants, and an independent double-precision
 * separable bicubic written here from the formula.
 */
class ImageResampleTest {

  // ------------------------------------------------------------------ Pillow's TestImagingCoreResampleAccuracy

  /** make_case: an L image of {@code 255 − color} with the top-left and bottom-right quarters set to {@code color}. */
  private static byte[] pillowCase(int w, int h, int color) {
    byte[] px = new byte[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean dark = (x <= w / 2 - 1 && y <= h / 2 - 1) || (x >= w / 2 && y >= h / 2);
        px[y * w + x] = (byte) (dark ? color : 255 - color);
      }
    }
    return px;
  }

  /** make_sample: the expected image from the hex values of its top-left quarter, mirrored as Pillow mirrors them. */
  private static byte[] pillowSample(String data, int w, int h) {
    String hex = data.replace(" ", "");
    byte[] s = new byte[w * h];
    for (int y = 0; y < h / 2; y++) {
      for (int x = 0; x < w / 2; x++) {
        int i = y * (w / 2) + x;
        int val = Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        s[y * w + x] = (byte) val;
        s[(h - y - 1) * w + (w - x - 1)] = (byte) val;
        s[(h - y - 1) * w + x] = (byte) (255 - val);
        s[y * w + (w - x - 1)] = (byte) (255 - val);
      }
    }
    return s;
  }

  private static void checkPillowCase(int inSize, int outSize, String data) {
    byte[] grey = pillowCase(inSize, inSize, 0xE1);
    byte[] expected = pillowSample(data, outSize, outSize);
    PilImage l = PilImage.of(PilMode.L, inSize, inSize, grey).resize(outSize, outSize);
    assertArrayEquals(expected, l.pixels(), "mode L");
    byte[] rgb = new byte[grey.length * 3];  // Image.merge("RGB", [case] * 3)
    for (int i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
    byte[] out = PilImage.of(PilMode.RGB, inSize, inSize, rgb).resize(outSize, outSize).pixels();
    for (int c = 0; c < 3; c++) {
      byte[] channel = new byte[expected.length];
      for (int i = 0; i < channel.length; i++) channel[i] = out[3 * i + c];
      assertArrayEquals(expected, channel, "mode RGB, channel " + c);
    }
  }

  @Test
  void pillowSuiteReduceBicubic() {
    checkPillowCase(12, 6, "e1 e3 d4" + "e3 e5 d6" + "d4 d6 c9");
  }

  @Test
  void pillowSuiteEnlargeBicubic() {
    checkPillowCase(4, 8, "e1 e5 ee b9" + "e5 e9 f3 bc" + "ee f3 fd c1" + "b9 bc c1 a2");
  }

  /** TestCoreResampleCoefficients.test_reduce: a 400000-wide step shrunk to 5 pixels keeps exactly half of 254. */
  @Test
  void pillowSuiteCoefficientsOfHugeReduction() {
    for (int size = 400000; size < 400010; size += 2) {
      byte[] px = new byte[size];
      Arrays.fill(px, 0, size / 2, (byte) 254);
      PilImage out = PilImage.of(PilMode.L, size, 1, px).resize(5, 1);
      assertEquals(127, out.pixels()[2] & 0xff, "width " + size);
    }
  }

  /** TestCoreResampleCoefficients.test_non_zero_coefficients: a flat RGBA image stays flat through 1280 → 256. */
  @Test
  void pillowSuiteFlatImageStaysFlat() {
    int n = 1280;
    byte[] px = new byte[n * n * 4];
    for (int i = 0; i < n * n; i++) {
      px[4 * i] = 0x20;
      px[4 * i + 1] = 0x40;
      px[4 * i + 2] = 0x60;
      px[4 * i + 3] = (byte) 0xFF;
    }
    byte[] out = PilImage.of(PilMode.RGBA, n, n, px).resize(256, 256).pixels();
    for (int i = 0; i < 256 * 256; i++) {
      assertEquals(0x20, out[4 * i]);
      assertEquals(0x40, out[4 * i + 1]);
      assertEquals(0x60, out[4 * i + 2]);
      assertEquals((byte) 0xFF, out[4 * i + 3]);
    }
  }

  /**
   * TestCoreResampleAlphaCorrect.test_dirty_pixels_*: a clean colour at alpha 128 inside fully transparent "dirty"
   * pixels; premultiplied resampling must not let the dirty colour bleed into any visible pixel.
   */
  @Test
  void pillowSuiteDirtyTransparentPixelsDoNotBleed() {
    int n = 64;
    byte[] rgba = new byte[n * n * 4];
    byte[] la = new byte[n * n * 2];
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        boolean clean = x >= 16 && x < 48 && y >= 16 && y < 48;
        int i = y * n + x;
        rgba[4 * i] = (byte) (clean ? 255 : 0);
        rgba[4 * i + 1] = (byte) (clean ? 255 : 0);
        rgba[4 * i + 2] = (byte) (clean ? 0 : 255);
        rgba[4 * i + 3] = (byte) (clean ? 128 : 0);
        la[2 * i] = (byte) (clean ? 255 : 0);
        la[2 * i + 1] = (byte) (clean ? 128 : 0);
      }
    }
    byte[] o = PilImage.of(PilMode.RGBA, n, n, rgba).resize(20, 20).pixels();
    for (int i = 0; i < 400; i++) {
      if (o[4 * i + 3] == 0) continue;
      assertEquals(255, o[4 * i] & 0xff);
      assertEquals(255, o[4 * i + 1] & 0xff);
      assertEquals(0, o[4 * i + 2] & 0xff);
    }
    byte[] g = PilImage.of(PilMode.LA, n, n, la).resize(20, 20).pixels();
    for (int i = 0; i < 400; i++) if (g[2 * i + 1] != 0) assertEquals(255, g[2 * i] & 0xff);
    // and without premultiplication the blue would bleed: the property is not vacuous
    byte[] plain = PilResample.resample8(rgba, 4, n, n, 20, 20, false);
    boolean bled = false;
    for (int i = 0; i < 400; i++) bled |= plain[4 * i + 3] != 0 && plain[4 * i + 2] != 0;
    assertTrue(bled);
  }

  // ------------------------------------------------------------------ exact invariants

  @Test
  void constantImageStaysConstantAtAnySize() {
    SplittableRandom r = new SplittableRandom(3);
    for (int trial = 0; trial < 40; trial++) {
      int w = 1 + r.nextInt(300);
      int h = 1 + r.nextInt(300);
      int ow = 1 + r.nextInt(300);
      int oh = 1 + r.nextInt(300);
      int v = r.nextInt(256);
      byte[] px = new byte[w * h * 3];
      Arrays.fill(px, (byte) v);
      byte[] out = PilImage.of(PilMode.RGB, w, h, px).resize(ow, oh).pixels();
      for (byte b : out) assertEquals(v, b & 0xff, w + "x" + h + " -> " + ow + "x" + oh);
      char[] px16 = new char[w * h];
      int v16 = r.nextInt(65536);
      Arrays.fill(px16, (char) v16);
      for (char c : PilImage.i16(w, h, px16).resize(ow, oh).pixels16()) assertEquals(v16, c);
    }
  }

  @Test
  void sameSizeIsUnchanged() {
    byte[] px = bytes(224 * 224 * 3, 4);
    PilImage im = PilImage.of(PilMode.RGB, 224, 224, px);
    assertSame(im, im.resize(224, 224));
    assertArrayEquals(px, ClipImageTransform.of(224).rgb(im));
  }

  /** A pass at scale 1 would be the identity anyway: K(0) = 1 and K(±1) = K(±2) = 0. */
  @Test
  void onePassAtUnitScaleIsIdentity() {
    byte[] px = bytes(37 * 11, 5);
    byte[] out = PilResample.resample8(px, 1, 37, 11, 37, 11, false);
    assertArrayEquals(px, out);
    assertEquals(1.0, PilResample.bicubic(0), 0);
    assertEquals(0.0, PilResample.bicubic(1), 0);
    assertEquals(0.0, PilResample.bicubic(-2), 0);
    assertEquals(0.5625, PilResample.bicubic(0.5), 0);
    assertEquals(-0.0625, PilResample.bicubic(1.5), 0);
  }

  // ------------------------------------------------------------------ against an independent reference

  /**
   * The separable bicubic written plainly in double: for each output pixel the source centre (i + 0.5)·scale, the
   * kernel K(t) = 1.5|t|³ − 2.5|t|² + 1 (|t| < 1), −0.5|t|³ + 2.5|t|² − 4|t| + 2 (1 ≤ |t| < 2), stretched by
   * max(scale, 1), over the pixels whose centres fall inside the support, normalised to sum 1.
   */
  private static double[][] referenceWeights(int in, int out, int[] first) {
    double scale = (double) in / out;
    double stretch = Math.max(scale, 1.0);
    double support = 2.0 * stretch;
    double[][] w = new double[out][];
    for (int i = 0; i < out; i++) {
      double centre = (i + 0.5) * scale;
      int lo = Math.max(0, (int) Math.floor(centre - support + 0.5));
      int hi = Math.min(in, (int) Math.floor(centre + support + 0.5));
      double[] k = new double[hi - lo];
      double sum = 0;
      for (int j = lo; j < hi; j++) {
        double t = Math.abs((j + 0.5 - centre) / stretch);
        k[j - lo] = t < 1 ? (1.5 * t - 2.5) * t * t + 1 : t < 2 ? ((-0.5 * t + 2.5) * t - 4) * t + 2 : 0;
        sum += k[j - lo];
      }
      for (int j = 0; j < k.length; j++) k[j] /= sum;
      first[i] = lo;
      w[i] = k;
    }
    return w;
  }

  /** Horizontal then vertical in double, values clamped to [0, 255] after each pass but never rounded. */
  private static double[] referenceResize(byte[] px, int w, int h, int ow, int oh) {
    int[] fx = new int[ow];
    int[] fy = new int[oh];
    double[][] kx = referenceWeights(w, ow, fx);
    double[][] ky = referenceWeights(h, oh, fy);
    double[] mid = new double[ow * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < ow; x++) {
        double s = 0;
        for (int j = 0; j < kx[x].length; j++) s += (px[y * w + fx[x] + j] & 0xff) * kx[x][j];
        mid[y * ow + x] = ow == w ? px[y * w + x] & 0xff : Math.max(0, Math.min(255, s));
      }
    }
    double[] out = new double[ow * oh];
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        double s = 0;
        for (int j = 0; j < ky[y].length; j++) s += mid[(fy[y] + j) * ow + x] * ky[y][j];
        out[y * ow + x] = oh == h ? mid[y * ow + x] : Math.max(0, Math.min(255, s));
      }
    }
    return out;
  }

  /**
   * Pillow rounds after each pass: half a level after the first pass, spread by the second pass's weights (whose
   * absolute values sum to at most 1.25 for this kernel), plus half a level at the end: |difference| ≤ 1.125.
   */
  @Test
  void matchesDoublePrecisionReferenceWithinEightBitRounding() {
    SplittableRandom r = new SplittableRandom(11);
    int[][] sizes = {{33, 17, 7, 5}, {17, 33, 224, 435}, {1, 1, 224, 224}, {500, 3, 37333 / 50, 224 / 50},
        {3, 500, 224, 37333 / 40}, {64, 48, 224, 168}, {640, 480, 299, 224}, {97, 61, 97, 30}, {61, 97, 30, 97}};
    for (int[] s : sizes) {
      for (boolean smooth : new boolean[] {false, true}) {
        byte[] px = smooth ? smooth(s[0], s[1], r.nextLong()) : bytes(s[0] * s[1], r.nextLong());
        byte[] ours = PilImage.of(PilMode.L, s[0], s[1], px).resize(s[2], s[3]).pixels();
        double[] ref = referenceResize(px, s[0], s[1], s[2], s[3]);
        double worst = 0;
        int withinHalf = 0;
        for (int i = 0; i < ref.length; i++) {
          double d = Math.abs((ours[i] & 0xff) - ref[i]);
          worst = Math.max(worst, d);
          if (d <= 0.5 + 1e-9) withinHalf++;
        }
        String what = Arrays.toString(s) + (smooth ? " smooth" : " noise");
        assertTrue(worst <= 1.125 + 1e-9, what + ": worst difference " + worst);
        if (smooth) assertTrue(withinHalf >= 0.7 * ref.length, what + ": only " + withinHalf + " within half a level");
      }
    }
  }

  @Test
  void sixteenBitMatchesReferenceAndClipsToRgb() {
    int w = 40;
    int h = 30;
    char[] px = new char[w * h];
    byte[] hi = new byte[w * h];
    SplittableRandom r = new SplittableRandom(12);
    for (int i = 0; i < px.length; i++) {
      px[i] = (char) r.nextInt(256);  // within 8 bits, so the double reference applies as is
      hi[i] = (byte) px[i];
    }
    char[] ours = PilImage.i16(w, h, px).resize(17, 11).pixels16();
    double[] ref = referenceResize(hi, w, h, 17, 11);
    for (int i = 0; i < ref.length; i++) assertTrue(Math.abs(ours[i] - ref[i]) <= 1.125, "pixel " + i);
    byte[] rgb = PilImage.i16(2, 1, new char[] {200, 300}).toRgb();
    assertArrayEquals(new byte[] {(byte) 200, (byte) 200, (byte) 200, (byte) 255, (byte) 255, (byte) 255}, rgb);
  }

  // ------------------------------------------------------------------ nearest for P and 1

  @Test
  void paletteAndBilevelImagesAreResizedWithNearest() {
    byte[] idx = {0, 1, 2, 3, 4, 5, 6, 7};
    byte[] palette = new byte[768];
    for (int i = 0; i < 256; i++) palette[3 * i] = (byte) (i * 10);
    PilImage p = PilImage.palette(8, 1, idx, palette);
    assertArrayEquals(new byte[] {1, 3, 5, 7}, p.resize(4, 1).pixels());  // source x = 2i + 1
    assertArrayEquals(new byte[] {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7}, p.resize(16, 1).pixels());
    assertArrayEquals(new byte[] {2, 6}, p.resize(2, 1).pixels());  // source x = 2.0 and 6.0
    assertArrayEquals(new byte[] {(byte) 20, 0, 0, (byte) 60, 0, 0}, p.resize(2, 1).toRgb());
    byte[] bits = {0, (byte) 255, 0, (byte) 255};
    assertArrayEquals(new byte[] {0, 0, (byte) 255, (byte) 255},
        PilImage.of(PilMode.BILEVEL, 2, 2, bits).resize(4, 1).pixels());  // rows 0 and 1 at y = 1.0: row 1
  }

  @Test
  void nearestFollowsPillowsAccumulatedCoordinates() {
    byte[] src = new byte[10];
    for (int i = 0; i < 10; i++) src[i] = (byte) i;
    for (int out = 1; out <= 40; out++) {
      byte[] ours = PilResample.nearest(src, 10, 1, out, 1);
      double a = 10.0 / out;
      double x = a * 0.5;
      for (int i = 0; i < out; i++) {
        assertEquals((int) x, ours[i], "out " + out + " pixel " + i);
        x += a;
      }
    }
  }

  // ------------------------------------------------------------------ Pillow 12.2's order for tall images

  @Test
  void tallImagesAreResizedVerticallyFirstOnlyWhenAskedAndOnlyWhenTall() {
    byte[] tall = bytes(10 * 1500 * 3, 21);
    PilImage im = PilImage.of(PilMode.RGB, 10, 1500, tall);
    byte[] newer = PilResample.resize(im, 7, 1050, true).pixels();
    byte[] older = PilResample.resize(im, 7, 1050, false).pixels();
    assertNotEquals(Arrays.hashCode(newer), Arrays.hashCode(older));
    byte[] twoSteps = PilResample.resize(PilResample.resize(im, 10, 1050, false), 7, 1050, false).pixels();
    assertArrayEquals(twoSteps, newer);
    PilImage notTall = PilImage.of(PilMode.RGB, 10, 900, bytes(10 * 900 * 3, 22));
    assertArrayEquals(PilResample.resize(notTall, 7, 630, true).pixels(),
        PilResample.resize(notTall, 7, 630, false).pixels());
  }

  static byte[] bytes(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) r.nextInt(256);
    return b;
  }

  private static byte[] smooth(int w, int h, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double fx = 0.02 + 0.1 * r.nextDouble();
    double fy = 0.02 + 0.1 * r.nextDouble();
    byte[] b = new byte[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) b[y * w + x] = (byte) (int) (127.5 + 100 * StrictMath.sin(fx * x + fy * y));
    }
    return b;
  }
}
