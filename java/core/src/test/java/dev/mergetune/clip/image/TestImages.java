package dev.mergetune.clip.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** Test images made on the spot: a minimal PNG encoder for every colour type and depth, and JPEGs through ImageIO. */
final class TestImages {
  static final int GREY = 0;
  static final int RGB = 2;
  static final int PALETTE = 3;
  static final int GREY_ALPHA = 4;
  static final int RGBA = 6;

  private TestImages() {}

  static int channels(int colorType) {
    return switch (colorType) {
      case GREY, PALETTE -> 1;
      case RGB -> 3;
      case GREY_ALPHA -> 2;
      case RGBA -> 4;
      default -> throw new IllegalArgumentException("colour type " + colorType);
    };
  }

  /**
   * A PNG file: samples row-major and interleaved, each 0 .. 2^bitDepth − 1; {@code plte} (RGB triples) and
   * {@code trns} are written when not null.
   */
  static byte[] png(int w, int h, int colorType, int bitDepth, int[] samples, byte[] plte, byte[] trns) {
    int ch = channels(colorType);
    if (samples.length != w * h * ch) throw new IllegalArgumentException("need " + w * h * ch + " samples");
    int rowBytes = (w * ch * bitDepth + 7) / 8;
    byte[] raw = new byte[h * (rowBytes + 1)];
    for (int y = 0; y < h; y++) {
      int base = y * (rowBytes + 1);
      raw[base] = 0;  // filter: none
      long bitPos = 0;
      for (int i = 0; i < w * ch; i++) {
        int v = samples[y * w * ch + i];
        if (bitDepth == 16) {
          raw[base + 1 + 2 * i] = (byte) (v >>> 8);
          raw[base + 2 + 2 * i] = (byte) v;
        } else if (bitDepth == 8) {
          raw[base + 1 + i] = (byte) v;
        } else {
          int byteIndex = (int) (bitPos / 8);
          int shift = 8 - bitDepth - (int) (bitPos % 8);
          raw[base + 1 + byteIndex] |= (byte) (v << shift);
          bitPos += bitDepth;
        }
      }
    }
    return dev.mergetune.clip.image.PngEncoder.container(w, h, bitDepth, colorType, plte, trns, raw);
  }

  /** Random samples below 2^bits, reproducible from the seed. */
  static int[] noise(int n, int bits, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] s = new int[n];
    for (int i = 0; i < n; i++) s[i] = r.nextInt(1 << bits);
    return s;
  }

  /** A smooth pattern with some texture: what photographs look like more than noise does. */
  static int[] pattern(int w, int h, int ch, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] s = new int[w * h * ch];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < ch; c++) {
          double wave = StrictMath.sin(0.07 * x * (c + 1) + 0.05 * y) * StrictMath.cos(0.03 * y * (2 - c % 2));
          double v = 127.5 + 100 * wave + r.nextInt(21) - 10;
          s[(y * w + x) * ch + c] = (int) Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    return s;
  }

  /** An 8-bit RGB image of the given samples (R, G, B interleaved). */
  static BufferedImage rgbImage(int w, int h, int[] rgb) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    WritableRaster r = img.getRaster();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        r.setPixel(x, y, new int[] {rgb[i], rgb[i + 1], rgb[i + 2]});
      }
    }
    return img;
  }

  /** An 8-bit grey image. */
  static BufferedImage greyImage(int w, int h, int[] grey) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setPixels(0, 0, w, h, grey);
    return img;
  }

  /** A baseline JPEG written by ImageIO (JFIF; YCbCr 4:2:0 for colour). */
  static byte[] jpeg(BufferedImage img, float quality) {
    return writeJpeg(new IIOImage(img, null, null), quality);
  }

  /** A four-component JPEG from a raw CMYK raster (ImageIO writes it without an Adobe marker). */
  static byte[] cmykJpeg(int w, int h, int[] cmyk, float quality) {
    WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
    raster.setPixels(0, 0, w, h, cmyk);
    return writeJpeg(new IIOImage(raster, null, null), quality);
  }

  private static byte[] writeJpeg(IIOImage image, float quality) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, image, param);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
  }
}
