package dev.mergetune.clip.image;

/**
 * libjpeg's colour conversions (jdcolor.c, the same in IJG libjpeg 6b and libjpeg-turbo): YCbCr → RGB and
 * YCCK → CMYK with 16-bit fixed-point tables ({@code SCALEBITS = 16}, {@code FIX(x) = (int)(x · 65536 + 0.5)}),
 * results clipped to 0..255.
 */
final class JpegColor {
  private static final int SCALEBITS = 16;
  private static final int ONE_HALF = 1 << (SCALEBITS - 1);
  private static final int[] CR_R = new int[256];
  private static final int[] CB_B = new int[256];
  private static final int[] CR_G = new int[256];
  private static final int[] CB_G = new int[256];

  static {
    for (int i = 0; i < 256; i++) {
      int x = i - 128;
      CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
      CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
      CR_G[i] = -fix(0.71414) * x;
      CB_G[i] = -fix(0.34414) * x + ONE_HALF;
    }
  }

  private JpegColor() {}

  private static int fix(double x) {
    return (int) (x * (1L << SCALEBITS) + 0.5);
  }

  private static int clamp(int v) {
    return v < 0 ? 0 : (v > 255 ? 255 : v);
  }

  /** ycc_rgb_convert in place on interleaved Y, Cb, Cr triples. */
  static void yccToRgb(byte[] px) {
    for (int p = 0; p < px.length; p += 3) {
      int y = px[p] & 0xff;
      int cb = px[p + 1] & 0xff;
      int cr = px[p + 2] & 0xff;
      px[p] = (byte) clamp(y + CR_R[cr]);
      px[p + 1] = (byte) clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
      px[p + 2] = (byte) clamp(y + CB_B[cb]);
    }
  }

  /** ycck_cmyk_convert in place on interleaved Y, Cb, Cr, K quadruples: C, M, Y are 255 minus R, G, B; K passes. */
  static void ycckToCmyk(byte[] px) {
    for (int p = 0; p < px.length; p += 4) {
      int y = px[p] & 0xff;
      int cb = px[p + 1] & 0xff;
      int cr = px[p + 2] & 0xff;
      px[p] = (byte) clamp(255 - (y + CR_R[cr]));
      px[p + 1] = (byte) clamp(255 - (y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS)));
      px[p + 2] = (byte) clamp(255 - (y + CB_B[cb]));
    }
  }
}
