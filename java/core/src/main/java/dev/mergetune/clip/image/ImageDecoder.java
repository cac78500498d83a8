package dev.mergetune.clip.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.w3c.dom.Node;

/**
 * Reads a JPEG or PNG file into the {@link PilImage} that Pillow's {@code Image.open(path)} would give, through
 * the JDK's own decoders (javax.imageio; no extra library), with Pillow's choices of mode and sample values.
 *
 * <p>The format is told by the file's first bytes, as Pillow does, never by its name: a PNG called
 * {@code photo.jpg} is read as a PNG. Anything else (empty, unreadable, truncated, corrupt, another format) throws
 * an {@link ImageDecodeException} whose message starts with the file's path.
 *
 * <h2>PNG</h2> Lossless; every sample is Pillow's (PngImagePlugin's mode table and unpackers):
 * <ul>
 *   <li>grey 1 bit → mode 1 (0/255); grey 2 and 4 bits → L scaled by 85 and 17; grey 8 → L; grey 16 → I;16;
 *   <li>RGB 8 → RGB; RGB 16 → RGB of the high bytes (Pillow's "RGB;16B" unpacker truncates, it does not round);
 *   <li>palette (any depth) → P with the PLTE entries and black beyond them (an index past the PLTE is invalid
 *       PNG; current Pillow, 10.1 on, makes it black, while Pillow 9.4 was measured to give grey (i, i, i));
 *   <li>grey+alpha 8 → LA; grey+alpha 16 → RGBA of the high bytes (Pillow's "LA;16B");
 *       RGBA 8 → RGBA; RGBA 16 → RGBA of the high bytes;
 *   <li>tRNS, gAMA, iCCP and the other ancillary chunks change no sample (Pillow keeps tRNS in {@code info} only,
 *       and applies neither gamma nor ICC profiles on open).
 * </ul>
 * A 16-bit grey PNG therefore arrives as I;16, which {@code convert("RGB")} clips at 255: Pillow turns almost every
 * 16-bit grey photograph white, and so does this class, deliberately.
 *
 * <h2>JPEG</h2> The entropy decoding, inverse DCT and chroma upsampling are the JDK's bundled IJG libjpeg 6b (read
 * as a raw raster, so that the JDK applies no ICC profile and none of its own colour-space guesses); the colour
 * space is then decided as libjpeg decides it for Pillow (JFIF marker → YCbCr; Adobe marker transform 0 → RGB,
 * else YCbCr; otherwise component ids 'R','G','B' → RGB, else YCbCr) and YCbCr → RGB uses libjpeg's fixed-point
 * tables. Four-component JPEGs become Pillow's CMYK: YCCK (Adobe transform 2) converted as libjpeg does, and every
 * sample inverted, since Pillow always reads CMYK JPEGs with the Adobe convention ("CMYK;I"). A JPEG whose data ends
 * early, even just before the end-of-image marker, is an error, as it is in Pillow (unless
 * {@code ImageFile.LOAD_TRUNCATED_IMAGES}); libjpeg's other warnings (extraneous bytes, corrupt data that it
 * recovers from) are ignored, as Pillow ignores them. EXIF orientation is not applied, as Pillow's {@code open}
 * does not apply it.
 *
 * <p>Pillow decodes with libjpeg-turbo; the JDK uses the IJG libjpeg 6b bundled with it, or the system libjpeg
 * where the JDK is built that way (Debian's and Ubuntu's OpenJDK packages link the system libjpeg-turbo). Compared
 * once during development against Pillow 9.4.0 with libjpeg-turbo 2.1.5: the decoded pixels were identical for
 * baseline 4:4:4, 4:2:2 and 4:2:0, progressive 4:2:0, grey, RGB (Adobe transform 0), CMYK and YCCK (Adobe
 * transform 0, 1, 2) files, on Temurin 25 (bundled libjpeg 6b) and on Debian's OpenJDK 17 (libjpeg-turbo);
 * vertical-only chroma subsampling
 * (4:4:0) was identical with libjpeg-turbo but differed by up to 11 levels with libjpeg 6b, which upsamples it by
 * replication where libjpeg-turbo 2.1 and later interpolate. The JDK cannot decode arithmetic-coded, lossless or
 * 12-bit JPEGs (an error here; Pillow rejects 12-bit too).
 *
 * <p>Images of more than {@value #MAX_PIXELS} pixels are refused, as Pillow's {@code DecompressionBombError} refuses
 * them, before any pixel memory is allocated.
 */
public final class ImageDecoder {
  /** Pillow's DecompressionBombError threshold: twice {@code Image.MAX_IMAGE_PIXELS} (1024³ / 4 / 3). */
  public static final long MAX_PIXELS = 2L * (1024L * 1024 * 1024 / 4 / 3);

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ImageDecoder() {}

  /** Reads and decodes {@code file}. */
  public static PilImage read(Path file) {
    dev.mergetune.io.InputFiles.problem(file).filter(p -> !p.equals("no such file")).ifPresent(p -> {
      throw new ImageDecodeException(file, p, null);
    });
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ImageDecodeException(file, "no such file", e);
    } catch (IOException e) {
      throw new ImageDecodeException(file, "cannot read the file: " + e.getMessage(), e);
    } catch (OutOfMemoryError e) {
      throw new ImageDecodeException(file, "the file is too large to read into memory", e);
    }
    return decode(bytes, file);
  }

  /** Decodes the bytes of an image file; {@code name} is only used in error messages. */
  public static PilImage decode(byte[] bytes, Path name) {
    if (bytes.length == 0) throw new ImageDecodeException(name, "empty file, not an image");
    try {
      if (startsWith(bytes, PNG_SIGNATURE)) return decodePng(bytes, name);
      if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xFF && (bytes[1] & 0xff) == 0xD8 && (bytes[2] & 0xff) == 0xFF) {
        return decodeJpeg(bytes, name);
      }
    } catch (ImageDecodeException e) {
      throw e;
    } catch (IOException | RuntimeException e) {  // ImageIO reports corrupt data in many ways
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new ImageDecodeException(name, "corrupt or unsupported image data: " + message, e);
    }
    String other = otherFormat(bytes);
    throw new ImageDecodeException(name, other != null
        ? "a " + other + " file; only JPEG and PNG images are read"
        : "not a JPEG or PNG image (unrecognised content)");
  }

  // ------------------------------------------------------------------------------------------------ PNG

  private static PilImage decodePng(byte[] bytes, Path name) throws IOException {
    ImageReader reader = reader("png");
    try (MemoryCacheImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, false);
      int w = reader.getWidth(0);
      int h = reader.getHeight(0);
      checkSize(w, h, name);
      IIOMetadata metadata = reader.getImageMetadata(0);
      Node root = metadata.getAsTree("javax_imageio_png_1.0");
      Node ihdr = child(root, "IHDR");
      if (ihdr == null) throw new ImageDecodeException(name, "PNG without an IHDR chunk");
      int bitDepth = Integer.parseInt(attribute(ihdr, "bitDepth"));
      String colorType = attribute(ihdr, "colorType");
      BufferedImage image = reader.read(0);
      Raster raster = image.getRaster();
      if (raster.getWidth() != w || raster.getHeight() != h) {
        throw new ImageDecodeException(name, "decoded size differs from the header");
      }
      switch (colorType) {
        case "Grayscale":
          if (bitDepth == 16) return PilImage.i16(w, h, samples16(raster, 1));
          if (bitDepth == 1) return PilImage.of(PilMode.BILEVEL, w, h, scaled(raster, 1, 255));
          return PilImage.of(PilMode.L, w, h, scaled(raster, 1, 255 / ((1 << bitDepth) - 1)));
        case "RGB":
          return PilImage.of(PilMode.RGB, w, h, bitDepth == 16 ? highBytes(raster, 3) : scaled(raster, 3, 1));
        case "Palette":
          return PilImage.palette(w, h, scaled(raster, 1, 1), palette(root, name));
        case "GrayAlpha":
          if (bitDepth == 16) return PilImage.of(PilMode.RGBA, w, h, greyAlphaToRgba(highBytes(raster, 2)));
          return PilImage.of(PilMode.LA, w, h, scaled(raster, 2, 1));
        case "RGBAlpha":
          return PilImage.of(PilMode.RGBA, w, h, bitDepth == 16 ? highBytes(raster, 4) : scaled(raster, 4, 1));
        default:
          throw new ImageDecodeException(name, "PNG colour type " + colorType + " is not supported");
      }
    } finally {
      reader.dispose();
    }
  }

  /** The first {@code bands} bands of every pixel, times {@code factor}, as bytes. */
  private static byte[] scaled(Raster raster, int bands, int factor) {
    int w = raster.getWidth();
    int h = raster.getHeight();
    int rasterBands = raster.getNumBands();
    if (rasterBands < bands) throw new IllegalStateException("decoder gave " + rasterBands + " bands, need " + bands);
    byte[] out = new byte[w * h * bands];
    int[] row = new int[w * rasterBands];
    for (int y = 0; y < h; y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
      for (int x = 0; x < w; x++) {
        for (int b = 0; b < bands; b++) out[(y * w + x) * bands + b] = (byte) (row[x * rasterBands + b] * factor);
      }
    }
    return out;
  }

  /** The high bytes of 16-bit samples (Pillow's ";16B" unpackers). */
  private static byte[] highBytes(Raster raster, int bands) {
    int w = raster.getWidth();
    int h = raster.getHeight();
    int rasterBands = raster.getNumBands();
    byte[] out = new byte[w * h * bands];
    int[] row = new int[w * rasterBands];
    for (int y = 0; y < h; y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
      for (int x = 0; x < w; x++) {
        for (int b = 0; b < bands; b++) out[(y * w + x) * bands + b] = (byte) (row[x * rasterBands + b] >>> 8);
      }
    }
    return out;
  }

  private static char[] samples16(Raster raster, int band) {
    int w = raster.getWidth();
    int h = raster.getHeight();
    int rasterBands = raster.getNumBands();
    char[] out = new char[w * h];
    int[] row = new int[w * rasterBands];
    for (int y = 0; y < h; y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
      for (int x = 0; x < w; x++) out[y * w + x] = (char) row[x * rasterBands + band - 1];
    }
    return out;
  }

  /** Pillow's "LA;16B" unpacker into RGBA: the grey high byte three times, then the alpha high byte. */
  private static byte[] greyAlphaToRgba(byte[] la) {
    byte[] out = new byte[la.length * 2];
    for (int i = 0; i < la.length / 2; i++) {
      out[4 * i] = out[4 * i + 1] = out[4 * i + 2] = la[2 * i];
      out[4 * i + 3] = la[2 * i + 1];
    }
    return out;
  }

  /** A 256-entry palette from PLTE, black where PLTE has no entry (Pillow's calloc'ed palette). */
  private static byte[] palette(Node root, Path name) {
    Node plte = child(root, "PLTE");
    if (plte == null) throw new ImageDecodeException(name, "palette PNG without a PLTE chunk");
    byte[] palette = new byte[768];
    for (Node e = plte.getFirstChild(); e != null; e = e.getNextSibling()) {
      if (!"PLTEEntry".equals(e.getNodeName())) continue;
      int index = Integer.parseInt(attribute(e, "index"));
      if (index < 0 || index > 255) continue;
      palette[3 * index] = (byte) Integer.parseInt(attribute(e, "red"));
      palette[3 * index + 1] = (byte) Integer.parseInt(attribute(e, "green"));
      palette[3 * index + 2] = (byte) Integer.parseInt(attribute(e, "blue"));
    }
    return palette;
  }

  // ------------------------------------------------------------------------------------------------ JPEG

  /** What libjpeg learns from the markers before the first scan. */
  record JpegHeader(boolean jfif, boolean adobe, int adobeTransform, int precision, int[] componentIds) {}

  private static PilImage decodeJpeg(byte[] bytes, Path name) throws IOException {
    JpegHeader header = jpegHeader(bytes, name);
    if (header.precision() != 8) {
      throw new ImageDecodeException(name, "cannot handle " + header.precision() + "-bit JPEG samples");
    }
    int components = header.componentIds().length;
    if (components != 1 && components != 3 && components != 4) {
      throw new ImageDecodeException(name, "cannot handle a JPEG with " + components + " components");
    }
    ImageReader reader = reader("jpeg");
    List<String> warnings = new ArrayList<>();
    Raster raster;
    int w;
    int h;
    try (MemoryCacheImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
      w = reader.getWidth(0);
      h = reader.getHeight(0);
      checkSize(w, h, name);
      raster = reader.readRaster(0, null);  // raw components: no ICC profile, no colour conversion by the JDK
    } finally {
      reader.dispose();
    }
    for (String warning : warnings) {
      if (warning != null && warning.contains("Missing EOI")) {
        throw new ImageDecodeException(name, "image file is truncated (the JPEG data ends early)");
      }
    }
    if (raster.getNumBands() != components || raster.getWidth() != w || raster.getHeight() != h) {
      throw new ImageDecodeException(name, "decoded JPEG differs from its header");
    }
    byte[] raw = scaled(raster, components, 1);
    if (components == 1) return PilImage.of(PilMode.L, w, h, raw);
    if (components == 3) {
      if (!jpegIsRgb(header)) JpegColor.yccToRgb(raw);
      return PilImage.of(PilMode.RGB, w, h, raw);
    }
    boolean ycck = header.adobe() && header.adobeTransform() != 0;  // libjpeg: transform 2, or unknown, is YCCK
    if (ycck) JpegColor.ycckToCmyk(raw);
    for (int i = 0; i < raw.length; i++) raw[i] = (byte) ~raw[i];  // Pillow's "CMYK;I": Adobe's inverted CMYK
    return PilImage.of(PilMode.CMYK, w, h, raw);
  }

  /** libjpeg's default_decompress_parms for three components: is the colour space RGB (not YCbCr)? */
  static boolean jpegIsRgb(JpegHeader header) {
    if (header.jfif()) return false;
    if (header.adobe()) return header.adobeTransform() == 0;
    int[] id = header.componentIds();
    return id[0] == 'R' && id[1] == 'G' && id[2] == 'B';
  }

  /** Walks the JPEG markers up to the first scan, as libjpeg's marker reader does for APP0, APP14 and SOFn. */
  static JpegHeader jpegHeader(byte[] b, Path name) {
    boolean jfif = false;
    boolean adobe = false;
    int transform = -1;
    int precision = -1;
    int[] ids = null;
    int pos = 2;
    while (true) {
      while (pos < b.length && (b[pos] & 0xff) != 0xFF) pos++;  // libjpeg skips garbage before a marker
      while (pos < b.length && (b[pos] & 0xff) == 0xFF) pos++;  // and fill bytes
      if (pos >= b.length) break;
      int marker = b[pos++] & 0xff;
      if (marker == 0xD9 || marker == 0xDA) break;  // EOI or the first scan
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
      if (pos + 2 > b.length) break;
      int length = ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
      if (length < 2 || pos + length > b.length) break;
      int data = pos + 2;
      int dataLength = length - 2;
      if (marker == 0xE0 && dataLength >= 14 && startsWithAt(b, data, "JFIF\0")) {
        jfif = true;
      } else if (marker == 0xEE && dataLength >= 12 && startsWithAt(b, data, "Adobe")) {
        adobe = true;
        transform = b[data + 11] & 0xff;
      } else if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
          && ids == null && dataLength >= 6) {
        precision = b[data] & 0xff;
        int n = b[data + 5] & 0xff;
        if (dataLength < 6 + 3 * n) throw new ImageDecodeException(name, "corrupt JPEG frame header");
        ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = b[data + 6 + 3 * i] & 0xff;
      }
      pos += length;
    }
    if (ids == null) throw new ImageDecodeException(name, "JPEG without a frame header (truncated or corrupt)");
    return new JpegHeader(jfif, adobe, transform, precision, ids);
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private static ImageReader reader(String format) {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
    if (!readers.hasNext()) throw new IllegalStateException("this JDK has no ImageIO " + format + " reader");
    return readers.next();
  }

  private static void checkSize(int w, int h, Path name) {
    if (w < 1 || h < 1) throw new ImageDecodeException(name, "image size " + w + "x" + h + " is empty");
    if ((long) w * h > MAX_PIXELS) {
      throw new ImageDecodeException(name, "image size " + w + "x" + h + " (" + ((long) w * h)
          + " pixels) exceeds the limit of " + MAX_PIXELS + " pixels, a possible decompression bomb");
    }
  }

  private static Node child(Node parent, String name) {
    for (Node c = parent.getFirstChild(); c != null; c = c.getNextSibling()) {
      if (name.equals(c.getNodeName())) return c;
    }
    return null;
  }

  private static String attribute(Node node, String name) {
    Node a = node.getAttributes().getNamedItem(name);
    if (a == null) throw new IllegalStateException(node.getNodeName() + " has no " + name);
    return a.getNodeValue();
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    if (b.length < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) if (b[i] != prefix[i]) return false;
    return true;
  }

  private static boolean startsWithAt(byte[] b, int at, String ascii) {
    byte[] p = ascii.getBytes(StandardCharsets.ISO_8859_1);
    if (at + p.length > b.length) return false;
    for (int i = 0; i < p.length; i++) if (b[at + i] != p[i]) return false;
    return true;
  }

  /** Names a few other image formats by their signatures, for the error message. */
  private static String otherFormat(byte[] b) {
    if (startsWithAt(b, 0, "GIF87a") || startsWithAt(b, 0, "GIF89a")) return "GIF";
    if (startsWithAt(b, 0, "BM")) return "BMP";
    if (startsWithAt(b, 0, "RIFF") && startsWithAt(b, 8, "WEBP")) return "WebP";
    if (startsWithAt(b, 0, "II*\0") || startsWithAt(b, 0, "MM\0*")) return "TIFF";
    if (b.length >= 12 && startsWithAt(b, 4, "ftyp")) return "HEIF/AVIF (ISO media)";
    return null;
  }
}
