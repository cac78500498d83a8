package dev.mergetune.clip.image;

import java.util.Arrays;
import java.util.Objects;

/**
 * A decoded image as Pillow would hold it: a {@link PilMode}, a size and 8-bit samples (16-bit for
 * {@link PilMode#I16}; palette indices plus a 256-entry palette for {@link PilMode#P}). Immutable; the arrays are
 * not copied on the way in or out, so do not change them.
 *
 * <p>{@link #resize} is Pillow's {@code Image.resize(size, BICUBIC)} (see {@link PilResample}), {@link #crop} its
 * {@code crop} inside the image, and {@link #toRgb} its {@code convert("RGB")}: grey is replicated, alpha is
 * dropped (not composited on any background), a palette is looked up, CMYK goes through Pillow's
 * {@code cmyk2rgb} and 16-bit grey is clipped at 255.
 */
public final class PilImage {
  private final PilMode mode;
  private final int width;
  private final int height;
  private final byte[] pixels;
  private final char[] pixels16;
  private final byte[] palette;

  private PilImage(PilMode mode, int width, int height, byte[] pixels, char[] pixels16, byte[] palette) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
    }
    this.mode = Objects.requireNonNull(mode, "mode");
    this.width = width;
    this.height = height;
    this.pixels = pixels;
    this.pixels16 = pixels16;
    this.palette = palette;
    long samples = (long) width * height * mode.bands();
    if (mode == PilMode.I16) {
      if (pixels16 == null || pixels16.length != samples) {
        throw new IllegalArgumentException("I;16 " + width + "x" + height + " needs " + samples + " samples");
      }
    } else if (pixels == null || pixels.length != samples) {
      throw new IllegalArgumentException(
          mode.pilName() + " " + width + "x" + height + " needs " + samples + " samples");
    }
    if (mode == PilMode.P && (palette == null || palette.length != 768)) {
      throw new IllegalArgumentException("a P image needs a 256-entry RGB palette (768 bytes)");
    }
  }

  /** An 8-bit image of any mode but {@link PilMode#P} and {@link PilMode#I16}; samples interleaved, row-major. */
  public static PilImage of(PilMode mode, int width, int height, byte[] pixels) {
    if (mode == PilMode.P || mode == PilMode.I16) {
      throw new IllegalArgumentException("use palette() or i16() for " + mode);
    }
    return new PilImage(mode, width, height, pixels, null, null);
  }

  /**
   * A palette image: one index per pixel and a palette of 256 RGB triples (768 bytes). Entries a file does not
   * define should be black, as in Pillow's palettes since 10.1.
   */
  public static PilImage palette(int width, int height, byte[] indices, byte[] palette) {
    return new PilImage(PilMode.P, width, height, indices, null, palette);
  }

  /** A 16-bit grey image, values 0..65535. */
  public static PilImage i16(int width, int height, char[] values) {
    return new PilImage(PilMode.I16, width, height, null, values, null);
  }

  public PilMode mode() {
    return mode;
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** The 8-bit samples (interleaved, row-major; palette indices for P); null for I;16. */
  public byte[] pixels() {
    return pixels;
  }

  /** The 16-bit samples of an I;16 image; null otherwise. */
  public char[] pixels16() {
    return pixels16;
  }

  /** The 768-byte RGB palette of a P image; null otherwise. */
  public byte[] palette() {
    return palette;
  }

  /** The same image data in another mode of the same layout (used around premultiplication). */
  PilImage withPixels(int newWidth, int newHeight, byte[] newPixels) {
    return new PilImage(mode, newWidth, newHeight, newPixels, null, palette);
  }

  PilImage withPixels16(int newWidth, int newHeight, char[] newPixels) {
    return new PilImage(mode, newWidth, newHeight, null, newPixels, null);
  }

  /**
   * Pillow's {@code Image.resize((width, height), BICUBIC)} with the resampling order of Pillow 12.2 and later; see
   * {@link PilResample#resize(PilImage, int, int, boolean)}.
   */
  public PilImage resize(int newWidth, int newHeight) {
    return PilResample.resize(this, newWidth, newHeight, true);
  }

  /** Pillow's {@code crop((left, top, left + w, top + h))} for a box inside the image. */
  public PilImage crop(int left, int top, int w, int h) {
    if (left < 0 || top < 0 || w < 1 || h < 1 || left + w > width || top + h > height) {
      throw new IllegalArgumentException("crop box " + left + "," + top + " " + w + "x" + h + " outside a "
          + width + "x" + height + " image");
    }
    if (left == 0 && top == 0 && w == width && h == height) return this;
    int bands = mode.bands();
    if (mode == PilMode.I16) {
      char[] out = new char[w * h];
      for (int y = 0; y < h; y++) System.arraycopy(pixels16, (top + y) * width + left, out, y * w, w);
      return withPixels16(w, h, out);
    }
    byte[] out = new byte[w * h * bands];
    for (int y = 0; y < h; y++) {
      System.arraycopy(pixels, ((top + y) * width + left) * bands, out, y * w * bands, w * bands);
    }
    return withPixels(w, h, out);
  }

  /** Pillow's {@code convert("RGB")}: interleaved RGB bytes, row-major (HWC). */
  public byte[] toRgb() {
    int n = width * height;
    byte[] rgb = new byte[n * 3];
    switch (mode) {
      case RGB -> System.arraycopy(pixels, 0, rgb, 0, rgb.length);
      case L, BILEVEL -> {
        for (int i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
      }
      case LA -> {  // la2rgb: the grey band, alpha dropped
        for (int i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[2 * i];
      }
      case RGBA -> {  // rgba2rgb: alpha dropped
        for (int i = 0; i < n; i++) {
          rgb[3 * i] = pixels[4 * i];
          rgb[3 * i + 1] = pixels[4 * i + 1];
          rgb[3 * i + 2] = pixels[4 * i + 2];
        }
      }
      case P -> {  // p2rgb
        for (int i = 0; i < n; i++) {
          int idx = (pixels[i] & 0xff) * 3;
          rgb[3 * i] = palette[idx];
          rgb[3 * i + 1] = palette[idx + 1];
          rgb[3 * i + 2] = palette[idx + 2];
        }
      }
      case CMYK -> {  // cmyk2rgb: nk = 255 - K; out = clip8(nk - MULDIV255(c, nk))
        for (int i = 0; i < n; i++) {
          int nk = 255 - (pixels[4 * i + 3] & 0xff);
          for (int c = 0; c < 3; c++) {
            int v = nk - mulDiv255(pixels[4 * i + c] & 0xff, nk);
            rgb[3 * i + c] = (byte) clip8(v);
          }
        }
      }
      case I16 -> {  // I16_RGB: the low byte when the high byte is zero, else 255
        for (int i = 0; i < n; i++) {
          int v = pixels16[i];
          rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte) (v > 255 ? 255 : v);
        }
      }
    }
    return rgb;
  }

  /** Pillow's MULDIV255: (a * b + 128) / 255 rounded the way its shift trick rounds. */
  static int mulDiv255(int a, int b) {
    int tmp = a * b + 128;
    return ((tmp >> 8) + tmp) >> 8;
  }

  static int clip8(int v) {
    return v <= 0 ? 0 : (v < 256 ? v : 255);
  }

  @Override
  public String toString() {
    return "PilImage[" + mode.pilName() + " " + width + "x" + height + "]";
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof PilImage other)) return false;
    return mode == other.mode && width == other.width && height == other.height
        && Arrays.equals(pixels, other.pixels) && Arrays.equals(pixels16, other.pixels16)
        && Arrays.equals(palette, other.palette);
  }

  @Override
  public int hashCode() {
    return Objects.hash(mode, width, height, Arrays.hashCode(pixels), Arrays.hashCode(pixels16));
  }
}
