package dev.mergetune.clip.image;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A fixed PNG encoding (8-bit RGB, no interlace, filter type 0 on every row, zlib level 9, no ancillary chunks), so
 * the same pixels give the same bytes whatever ImageIO's writer would choose.
 */
public final class PngEncoder {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  private PngEncoder() {}

  /** {@code rgb}: packed 0xRRGGBB, row-major, {@code width × height}. */
  public static byte[] encode(int[] rgb, int width, int height) {
    if (rgb.length != width * height) throw new IllegalArgumentException(rgb.length + " pixels for " + width + "x" + height);
    byte[] raw = new byte[height * (1 + 3 * width)];
    int p = 0;
    for (int y = 0; y < height; y++) {
      raw[p++] = 0;  // filter: none
      for (int x = 0; x < width; x++) {
        int v = rgb[y * width + x];
        raw[p++] = (byte) (v >>> 16);
        raw[p++] = (byte) (v >>> 8);
        raw[p++] = (byte) v;
      }
    }
    return container(width, height, 8, 2, null, null, raw);  // 8-bit RGB
  }

  /**
   * A PNG file around scanlines already laid out and filtered ({@code scanlines}: per row the filter byte, then the
   * packed samples): signature, IHDR, PLTE and tRNS when not null, one zlib level-9 IDAT, IEND. No interlace.
   */
  public static byte[] container(int width, int height, int bitDepth, int colourType, byte[] plte, byte[] trns,
      byte[] scanlines) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(scanlines.length / 2 + 64);
    out.writeBytes(SIGNATURE);
    byte[] ihdr = new byte[13];
    putInt(ihdr, 0, width);
    putInt(ihdr, 4, height);
    ihdr[8] = (byte) bitDepth;
    ihdr[9] = (byte) colourType;
    chunk(out, "IHDR", ihdr);
    if (plte != null) chunk(out, "PLTE", plte);
    if (trns != null) chunk(out, "tRNS", trns);
    chunk(out, "IDAT", deflate(scanlines));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static byte[] deflate(byte[] data) {
    Deflater d = new Deflater(9);
    try {
      d.setInput(data);
      d.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      while (!d.finished()) out.write(buf, 0, d.deflate(buf));
      return out.toByteArray();
    } finally {
      d.end();
    }
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] len = new byte[4];
    putInt(len, 0, data.length);
    out.writeBytes(len);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    byte[] c = new byte[4];
    putInt(c, 0, (int) crc.getValue());
    out.writeBytes(c);
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }
}
