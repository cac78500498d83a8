package dev.mergetune.clip.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JPEG and PNG files of every kind made here, read with Pillow's modes and values; broken files named in errors. */
class ImageDecoderTest {
  @TempDir Path dir;

  private Path write(String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }

  private static int u(byte b) {
    return b & 0xff;
  }

  // ------------------------------------------------------------------ PNG

  @Test
  void greyPngIsLAndReplicatedToRgb() throws Exception {
    int[] grey = {0, 17, 128, 255, 3, 250};
    PilImage im = ImageDecoder.read(write("g.png", TestImages.png(3, 2, TestImages.GREY, 8, grey, null, null)));
    assertEquals(PilMode.L, im.mode());
    assertEquals(3, im.width());
    assertEquals(2, im.height());
    byte[] rgb = im.toRgb();
    for (int i = 0; i < grey.length; i++) {
      for (int c = 0; c < 3; c++) assertEquals(grey[i], u(rgb[3 * i + c]));
    }
  }

  @Test
  void lowBitDepthGreyIsScaledAsPillowUnpacksIt() throws Exception {
    int[] two = {0, 1, 2, 3, 3, 2, 1};
    PilImage l2 = ImageDecoder.read(write("l2.png", TestImages.png(7, 1, TestImages.GREY, 2, two, null, null)));
    assertEquals(PilMode.L, l2.mode());
    for (int i = 0; i < two.length; i++) assertEquals(two[i] * 85, u(l2.pixels()[i]));
    int[] four = {0, 1, 7, 15, 9};
    PilImage l4 = ImageDecoder.read(write("l4.png", TestImages.png(5, 1, TestImages.GREY, 4, four, null, null)));
    for (int i = 0; i < four.length; i++) assertEquals(four[i] * 17, u(l4.pixels()[i]));
    int[] one = {0, 1, 1, 0, 1, 0, 0, 0, 1};
    PilImage l1 = ImageDecoder.read(write("l1.png", TestImages.png(9, 1, TestImages.GREY, 1, one, null, null)));
    assertEquals(PilMode.BILEVEL, l1.mode());
    for (int i = 0; i < one.length; i++) assertEquals(one[i] * 255, u(l1.pixels()[i]));
  }

  @Test
  void rgbaDropsAlphaWithoutCompositing() throws Exception {
    int[] rgba = {10, 20, 30, 0, 200, 100, 50, 128, 1, 2, 3, 255};
    PilImage im = ImageDecoder.read(write("a.png", TestImages.png(3, 1, TestImages.RGBA, 8, rgba, null, null)));
    assertEquals(PilMode.RGBA, im.mode());
    byte[] rgb = im.toRgb();
    assertArrayEquals(new byte[] {10, 20, 30, (byte) 200, 100, 50, 1, 2, 3}, rgb);  // not blended with white
    int[] la = {90, 0, 180, 255};
    PilImage g = ImageDecoder.read(write("la.png", TestImages.png(2, 1, TestImages.GREY_ALPHA, 8, la, null, null)));
    assertEquals(PilMode.LA, g.mode());
    assertArrayEquals(new byte[] {90, 90, 90, (byte) 180, (byte) 180, (byte) 180}, g.toRgb());
  }

  @Test
  void palettePngKeepsIndicesAndIgnoresTransparency() throws Exception {
    byte[] plte = {(byte) 255, 0, 0, 0, (byte) 255, 0, 0, 0, (byte) 255};
    byte[] trns = {0, (byte) 128};  // index 0 fully transparent: still red after convert("RGB")
    int[] idx = {0, 1, 2, 3};  // index 3 is beyond the palette: black, as in Pillow's zeroed palette (10.1 on)
    Path f = write("p.png", TestImages.png(4, 1, TestImages.PALETTE, 8, idx, plte, trns));
    PilImage im = ImageDecoder.read(f);
    assertEquals(PilMode.P, im.mode());
    assertArrayEquals(new byte[] {0, 1, 2, 3}, im.pixels());
    assertArrayEquals(new byte[] {(byte) 255, 0, 0, 0, (byte) 255, 0, 0, 0, (byte) 255, 0, 0, 0}, im.toRgb());
    PilImage p2 = ImageDecoder.read(write("p2.png", TestImages.png(4, 1, TestImages.PALETTE, 2, idx, plte, null)));
    assertArrayEquals(new byte[] {0, 1, 2, 3}, p2.pixels());
  }

  @Test
  void sixteenBitPngsAsPillowReadsThem() throws Exception {
    int[] grey16 = {0, 255, 256, 65535, 0x1234};
    PilImage g = ImageDecoder.read(write("g16.png", TestImages.png(5, 1, TestImages.GREY, 16, grey16, null, null)));
    assertEquals(PilMode.I16, g.mode());
    for (int i = 0; i < grey16.length; i++) assertEquals(grey16[i], g.pixels16()[i]);
    byte[] rgb = g.toRgb();  // Pillow's I;16 → RGB clips at 255, it does not scale
    int[] expected = {0, 255, 255, 255, 255};
    for (int i = 0; i < expected.length; i++) assertEquals(expected[i], u(rgb[3 * i]));

    int[] rgb16 = {0x12FF, 0x0080, 0xFFFF, 0x00FF, 0x8000, 0x7FFF};
    PilImage c = ImageDecoder.read(write("c16.png", TestImages.png(2, 1, TestImages.RGB, 16, rgb16, null, null)));
    assertEquals(PilMode.RGB, c.mode());
    assertArrayEquals(new byte[] {0x12, 0x00, (byte) 0xFF, 0x00, (byte) 0x80, 0x7F}, c.pixels());  // high bytes

    int[] la16 = {0xABCD, 0x1200, 0x0101, 0xFFFF};
    PilImage la = ImageDecoder.read(write("la16.png", TestImages.png(2, 1, TestImages.GREY_ALPHA, 16, la16, null,
        null)));
    assertEquals(PilMode.RGBA, la.mode());
    assertArrayEquals(new byte[] {(byte) 0xAB, (byte) 0xAB, (byte) 0xAB, 0x12, 1, 1, 1, (byte) 0xFF}, la.pixels());

    int[] rgba16 = {0x0100, 0x0200, 0x0300, 0x0400};
    PilImage a = ImageDecoder.read(write("a16.png", TestImages.png(1, 1, TestImages.RGBA, 16, rgba16, null, null)));
    assertArrayEquals(new byte[] {1, 2, 3, 4}, a.pixels());
  }

  @Test
  void oddSizedPngsKeepTheirSize() throws Exception {
    for (int[] s : new int[][] {{33, 17}, {1, 1}, {500, 3}, {3, 500}}) {
      int[] px = TestImages.noise(s[0] * s[1] * 3, 8, s[0] + 7L * s[1]);
      PilImage im = ImageDecoder.read(write("o.png", TestImages.png(s[0], s[1], TestImages.RGB, 8, px, null, null)));
      assertEquals(s[0], im.width());
      assertEquals(s[1], im.height());
      for (int i = 0; i < px.length; i++) assertEquals(px[i], u(im.pixels()[i]));
    }
  }

  // ------------------------------------------------------------------ JPEG

  @Test
  void colourAndGreyJpegs() throws Exception {
    int w = 40;
    int h = 24;
    int[] rgb = new int[w * h * 3];
    for (int i = 0; i < w * h; i++) {
      rgb[3 * i] = 200;
      rgb[3 * i + 1] = 100;
      rgb[3 * i + 2] = 50;
    }
    PilImage c = ImageDecoder.read(write("c.jpg", TestImages.jpeg(TestImages.rgbImage(w, h, rgb), 0.95f)));
    assertEquals(PilMode.RGB, c.mode());
    assertEquals(w, c.width());
    for (int i = 0; i < rgb.length; i++) assertTrue(Math.abs(u(c.pixels()[i]) - rgb[i]) <= 3, "sample " + i);

    int[] grey = TestImages.pattern(33, 17, 1, 5);
    PilImage g = ImageDecoder.read(write("g.jpg", TestImages.jpeg(TestImages.greyImage(33, 17, grey), 0.95f)));
    assertEquals(PilMode.L, g.mode());
    double err = 0;
    for (int i = 0; i < grey.length; i++) err += Math.abs(u(g.pixels()[i]) - grey[i]);
    assertTrue(err / grey.length < 4, "mean error " + err / grey.length);
  }

  /** Pillow reads every 4-component JPEG as Adobe-inverted CMYK ("CMYK;I") and converts with cmyk2rgb. */
  @Test
  void cmykJpegIsInvertedAndConvertedAsPillowDoes() throws Exception {
    int w = 16;
    int h = 16;
    int[] cmyk = new int[w * h * 4];
    for (int i = 0; i < w * h; i++) {
      cmyk[4 * i] = 10;
      cmyk[4 * i + 1] = 200;
      cmyk[4 * i + 2] = 100;
      cmyk[4 * i + 3] = 50;
    }
    PilImage im = ImageDecoder.read(write("k.jpg", TestImages.cmykJpeg(w, h, cmyk, 0.95f)));
    assertEquals(PilMode.CMYK, im.mode());
    int[] inverted = {245, 55, 155, 205};
    for (int i = 0; i < 4; i++) assertTrue(Math.abs(u(im.pixels()[i]) - inverted[i]) <= 2, "band " + i);
    // cmyk2rgb of (245, 55, 155, 205): nk = 50; 50 − MULDIV255(c, 50) = 2, 39, 20
    byte[] rgb = PilImage.of(PilMode.CMYK, 1, 1, new byte[] {(byte) 245, 55, (byte) 155, (byte) 205}).toRgb();
    assertArrayEquals(new byte[] {2, 39, 20}, rgb);
  }

  @Test
  void libjpegColourSpaceRule() {
    Path p = Path.of("x.jpg");
    int[] rgbIds = {82, 71, 66};
    int[] jfifIds = {1, 2, 3};
    assertEquals(false, ImageDecoder.jpegIsRgb(new ImageDecoder.JpegHeader(true, false, -1, 8, rgbIds)));
    assertEquals(true, ImageDecoder.jpegIsRgb(new ImageDecoder.JpegHeader(false, true, 0, 8, jfifIds)));
    assertEquals(false, ImageDecoder.jpegIsRgb(new ImageDecoder.JpegHeader(false, true, 1, 8, rgbIds)));
    assertEquals(true, ImageDecoder.jpegIsRgb(new ImageDecoder.JpegHeader(false, false, -1, 8, rgbIds)));
    assertEquals(false, ImageDecoder.jpegIsRgb(new ImageDecoder.JpegHeader(false, false, -1, 8, jfifIds)));
    assertEquals(false, ImageDecoder.jpegIsRgb(new ImageDecoder.JpegHeader(false, false, -1, 8, new int[] {0, 1, 2})));
    byte[] jpeg = TestImages.jpeg(TestImages.rgbImage(8, 8, new int[8 * 8 * 3]), 0.9f);
    ImageDecoder.JpegHeader header = ImageDecoder.jpegHeader(jpeg, p);
    assertTrue(header.jfif());
    assertEquals(8, header.precision());
    assertArrayEquals(new int[] {1, 2, 3}, header.componentIds());
  }

  // ------------------------------------------------------------------ broken files

  private void assertFails(Path file, String expectedFragment) {
    ImageDecodeException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> assertThrows(ImageDecodeException.class, () -> ImageDecoder.read(file)));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertEquals(file, e.file());
    assertTrue(e.getMessage().contains(expectedFragment), e.getMessage());
  }

  private static byte[] photoJpeg() {
    int w = 200;
    int h = 150;
    return TestImages.jpeg(TestImages.rgbImage(w, h, TestImages.noise(w * h * 3, 8, 9)), 0.9f);
  }

  @Test
  void truncatedJpegIsAnError() throws Exception {
    byte[] jpeg = photoJpeg();
    ImageDecoder.read(write("whole.jpg", jpeg));
    assertFails(write("half.jpg", Arrays.copyOf(jpeg, jpeg.length / 2)), "truncated");
    assertFails(write("noeoi.jpg", Arrays.copyOf(jpeg, jpeg.length - 2)), "truncated");  // as Pillow: an error too
    assertFails(write("header.jpg", Arrays.copyOf(jpeg, 40)), "JPEG");
  }

  @Test
  void truncatedPngIsAnError() throws Exception {
    byte[] png = TestImages.png(64, 64, TestImages.RGB, 8, TestImages.noise(64 * 64 * 3, 8, 1), null, null);
    assertFails(write("half.png", Arrays.copyOf(png, png.length / 2)), "corrupt");
    assertFails(write("sig.png", Arrays.copyOf(png, 12)), "corrupt");
  }

  @Test
  void garbageEmptyAndForeignFilesAreErrors() throws Exception {
    assertFails(write("empty.jpg", new byte[0]), "empty file");
    byte[] garbage = ImageResampleTest.bytes(5000, 77);
    garbage[0] = 0x13;
    assertFails(write("garbage.png", garbage), "not a JPEG or PNG");
    byte[] fakePng = garbage.clone();
    System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, fakePng, 0, 8);
    assertFails(write("fake.png", fakePng), "corrupt");
    byte[] fakeJpeg = garbage.clone();
    fakeJpeg[0] = (byte) 0xFF;
    fakeJpeg[1] = (byte) 0xD8;
    fakeJpeg[2] = (byte) 0xFF;
    assertFails(write("fake.jpg", fakeJpeg), "JPEG");
    assertFails(write("text.png", "hello, not an image\n".getBytes(StandardCharsets.UTF_8)), "not a JPEG or PNG");
    ByteArrayOutputStream gif = new ByteArrayOutputStream();
    ImageIO.write(TestImages.rgbImage(4, 4, new int[48]), "gif", gif);
    assertFails(write("image.gif", gif.toByteArray()), "a GIF file");
    assertFails(dir.resolve("missing.png"), "no such file");
    assertFails(Files.createDirectory(dir.resolve("folder.png")), "cannot read");
  }

  /** The content decides, as in Pillow: a PNG named .jpg is a PNG, a JPEG named .png a JPEG. */
  @Test
  void wrongExtensionIsReadByContent() throws Exception {
    int[] px = TestImages.noise(5 * 4 * 3, 8, 3);
    PilImage im = ImageDecoder.read(write("really-a-png.jpg", TestImages.png(5, 4, TestImages.RGB, 8, px, null, null)));
    assertEquals(PilMode.RGB, im.mode());
    assertEquals(px[7], u(im.pixels()[7]));
    PilImage j = ImageDecoder.read(write("really-a-jpeg.png", photoJpeg()));
    assertEquals(200, j.width());
  }

  @Test
  void decompressionBombIsRefusedBeforeDecoding() throws Exception {
    byte[] small = TestImages.png(1, 1, TestImages.GREY, 8, new int[] {0}, null, null);
    byte[] bomb = small.clone();  // IHDR claims 20000 x 20000; the CRC is fixed so that only the size is wrong
    int ihdr = 8 + 8;
    putInt(bomb, ihdr, 20000);
    putInt(bomb, ihdr + 4, 20000);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bomb, ihdr - 4, 4 + 13);
    putInt(bomb, ihdr + 13, (int) crc.getValue());
    assertFails(write("bomb.png", bomb), "decompression bomb");
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }
}
