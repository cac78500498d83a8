package dev.mergetune.clip.image;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)}, reproduced from Pillow's own C code (src/libImaging/Resample.c,
 * Geometry.c and Convert.c of python-pillow/Pillow, and the mode rules of {@code Image.resize} in Image.py).
 *
 * <h2>What it does, step for step as Pillow</h2>
 * <ul>
 *   <li>Same size: the image is returned unchanged.
 *   <li>Modes P and 1: Pillow silently swaps BICUBIC for NEAREST; nearest neighbour with Pillow's affine scale
 *       ({@code ImagingScaleAffine}: source coordinate {@code a·0.5} advanced by repeated addition of
 *       {@code a = in/out} in double precision, truncated).
 *   <li>Modes LA and RGBA: premultiplied as Pillow converts to "La"/"RGBa" ({@code MULDIV255}), resampled, and
 *       unpremultiplied ({@code clip8(255·c / alpha)} in integer division; alpha 0 and 255 left alone).
 *   <li>8-bit modes: the separable convolution of {@code ImagingResample} with the bicubic kernel (a = −0.5,
 *       support 2, widened by the downscale factor so that shrinking antialiases). Per output pixel the window is
 *       {@code [(int)(centre − support + 0.5), (int)(centre + support + 0.5))} clipped to the image, the weights
 *       {@code K((x + xmin − centre + 0.5) / max(scale, 1))} are computed and normalised in double precision, then
 *       turned into 22-bit fixed point ({@code PRECISION_BITS = 32 − 8 − 2}, rounded half away from zero); each
 *       pass sums {@code sample · weight} in 32-bit integers from {@code 1 << 21}, shifts right by 22 and clips to
 *       0..255. Horizontal pass first (over only the rows the vertical pass will read), then vertical; a pass whose
 *       size does not change is skipped.
 *   <li>I;16: the same windows with the double-precision weights, summed in double, rounded half away from zero
 *       and clipped to 0..65535 after each pass ({@code CLIP16}, Pillow 12.3).
 *   <li>Images more than 100 times taller than wide that shrink vertically are resized vertically first, as
 *       Pillow 12.2 and later do; {@code tallImagesVerticalFirst = false} gives the order of earlier releases.
 * </ul>
 *
 * <h2>Exactness</h2>
 * The integer arithmetic is Pillow's, and the double-precision steps are written in the same order as Pillow's C,
 * which Java evaluates in strict IEEE 754 double. The result is therefore bit-identical to a Pillow built without
 * fused multiply-add contraction (the x86-64 wheels and distribution packages); a build that contracts the kernel
 * polynomial into FMA instructions (possible with clang or on arm64) can, in rare cases, round a weight to a
 * different 22-bit integer and change a pixel by one. Checked exactly against the expected outputs published in
 * Pillow's own test suite (Tests/test_image_resample.py) in {@code ImageResampleTest}, and, once during development,
 * against Pillow 9.4.0 on 53 generated PNG and JPEG files in every mode at three output sizes (identical but for the
 * two version differences below; some of those outputs are recorded in {@code ImageTransformTest}).
 *
 * <h2>Pillow versions</h2>
 * <ul>
 *   <li>Before 12.2 tall images are resized horizontally first: {@code tallImagesVerticalFirst = false}.
 *   <li>16-bit grey PNGs: Pillow before 10.3 opened them as mode I (32-bit) and kept the intermediate row sums
 *       unclipped, which after {@code convert("RGB")} differs from this class by up to tens of levels on noisy
 *       images (verified against Pillow 9.4.0 by emulating that path); Pillow 10.3 and 10.4 refuse to resize I;16
 *       with BICUBIC ("image has wrong mode"); Pillow 11.0 to 12.2 store an intermediate value above 65535 as
 *       0xFF00 plus its low byte instead of 65535, which after the final clip at 255 cannot matter except in
 *       contrived images. This class follows Pillow 12.3.
 * </ul>
 */
public final class PilResample {
  static final int PRECISION_BITS = 32 - 8 - 2;
  static final double BICUBIC_SUPPORT = 2.0;

  private PilResample() {}

  /**
   * {@code Image.resize((width, height), BICUBIC)} of Pillow on {@code image}, mode rules included.
   *
   * @param tallImagesVerticalFirst true for Pillow 12.2 and later (an image more than 100× taller than wide that
   *     shrinks vertically is resampled vertically first), false for earlier releases
   */
  public static PilImage resize(PilImage image, int width, int height, boolean tallImagesVerticalFirst) {
    if (width < 1 || height < 1) throw new IllegalArgumentException("height and width must be > 0");
    int inW = image.width();
    int inH = image.height();
    if (inW == width && inH == height) return image;
    boolean verticalFirst = tallImagesVerticalFirst && inH > (long) inW * 100 && height < inH;
    switch (image.mode()) {
      case P, BILEVEL -> {
        return image.withPixels(width, height, nearest(image.pixels(), inW, inH, width, height));
      }
      case LA, RGBA -> {
        int bands = image.mode().bands();
        byte[] pre = premultiply(image.pixels(), bands);
        byte[] out = resample8(pre, bands, inW, inH, width, height, verticalFirst);
        unpremultiply(out, bands);
        return image.withPixels(width, height, out);
      }
      case I16 -> {
        return image.withPixels16(width, height, resample16(image.pixels16(), inW, inH, width, height, verticalFirst));
      }
      default -> {
        int bands = image.mode().bands();
        return image.withPixels(width, height,
            resample8(image.pixels(), bands, inW, inH, width, height, verticalFirst));
      }
    }
  }

  /** Pillow's bicubic_filter with a = −0.5, term for term. */
  static double bicubic(double x) {
    final double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
  }

  /** One pass: output i reads {@code bounds[2i + 1]} inputs from {@code bounds[2i]}, with normalised weights. */
  static final class Coefficients {
    final int ksize;
    final int[] bounds;
    final double[] weights;

    Coefficients(int ksize, int[] bounds, double[] weights) {
      this.ksize = ksize;
      this.bounds = bounds;
      this.weights = weights;
    }

    /** normalize_coeffs_8bpc: round half away from zero to 22-bit fixed point. */
    int[] fixedPoint() {
      int[] k = new int[weights.length];
      for (int i = 0; i < k.length; i++) {
        double w = weights[i];
        k[i] = w < 0 ? (int) (-0.5 + w * (1 << PRECISION_BITS)) : (int) (0.5 + w * (1 << PRECISION_BITS));
      }
      return k;
    }
  }

  /** precompute_coeffs for the bicubic filter over the source interval [in0, in1). */
  static Coefficients coefficients(int inSize, float in0, float in1, int outSize) {
    double scale = (double) (in1 - in0) / outSize;
    double filterscale = scale;
    if (filterscale < 1.0) filterscale = 1.0;
    double support = BICUBIC_SUPPORT * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    if ((long) outSize * ksize > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("resampling " + inSize + " to " + outSize + " needs too many coefficients");
    }
    double[] kk = new double[outSize * ksize];
    int[] bounds = new int[outSize * 2];
    double invFilterscale = 1.0 / filterscale;
    for (int xx = 0; xx < outSize; xx++) {
      double center = in0 + (xx + 0.5) * scale;
      double ww = 0.0;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) xmin = 0;
      int xmax = (int) (center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      int base = xx * ksize;
      for (int x = 0; x < xmax; x++) {
        double w = bicubic((x + xmin - center + 0.5) * invFilterscale);
        kk[base + x] = w;
        ww += w;
      }
      if (ww != 0.0) {
        for (int x = 0; x < xmax; x++) kk[base + x] /= ww;
      }
      bounds[2 * xx] = xmin;
      bounds[2 * xx + 1] = xmax;
    }
    return new Coefficients(ksize, bounds, kk);
  }

  /** ImagingResampleInner over 8-bit interleaved samples, full-image box. */
  static byte[] resample8(byte[] in, int bands, int inW, int inH, int outW, int outH, boolean verticalFirst) {
    if (verticalFirst) {
      byte[] tmp = resample8(in, bands, inW, inH, inW, outH, false);
      return resample8(tmp, bands, inW, outH, outW, outH, false);
    }
    boolean needHorizontal = outW != inW;
    boolean needVertical = outH != inH;
    Coefficients vertical = coefficients(inH, 0f, (float) inH, outH);
    int yFirst = vertical.bounds[0];
    int yLast = vertical.bounds[outH * 2 - 2] + vertical.bounds[outH * 2 - 1];
    byte[] cur = in;
    int curW = inW;
    if (needHorizontal) {
      Coefficients horizontal = coefficients(inW, 0f, (float) inW, outW);
      for (int i = 0; i < outH; i++) vertical.bounds[i * 2] -= yFirst;
      cur = horizontal8(in, bands, inW, yFirst, yLast - yFirst, outW, horizontal);
      curW = outW;
    }
    if (needVertical) cur = vertical8(cur, bands, curW, outH, vertical);
    return cur == in ? in.clone() : cur;
  }

  private static byte[] horizontal8(byte[] in, int bands, int inW, int rowOffset, int rows, int outW, Coefficients c) {
    int[] k = c.fixedPoint();
    int[] bounds = c.bounds;
    int ksize = c.ksize;
    byte[] out = new byte[outW * rows * bands];
    int[] ss = new int[bands];
    for (int yy = 0; yy < rows; yy++) {
      int rowBase = (yy + rowOffset) * inW;
      int outBase = yy * outW;
      for (int xx = 0; xx < outW; xx++) {
        int xmin = bounds[2 * xx];
        int xmax = bounds[2 * xx + 1];
        int kb = xx * ksize;
        for (int b = 0; b < bands; b++) ss[b] = 1 << (PRECISION_BITS - 1);
        for (int x = 0; x < xmax; x++) {
          int p = (rowBase + x + xmin) * bands;
          int w = k[kb + x];
          for (int b = 0; b < bands; b++) ss[b] += (in[p + b] & 0xff) * w;
        }
        int o = (outBase + xx) * bands;
        for (int b = 0; b < bands; b++) out[o + b] = clip8Shifted(ss[b]);
      }
    }
    return out;
  }

  private static byte[] vertical8(byte[] in, int bands, int width, int outH, Coefficients c) {
    int[] k = c.fixedPoint();
    int[] bounds = c.bounds;
    int ksize = c.ksize;
    byte[] out = new byte[width * outH * bands];
    int rowLen = width * bands;
    int[] ss = new int[rowLen];
    for (int yy = 0; yy < outH; yy++) {
      int ymin = bounds[2 * yy];
      int ymax = bounds[2 * yy + 1];
      int kb = yy * ksize;
      java.util.Arrays.fill(ss, 1 << (PRECISION_BITS - 1));
      for (int y = 0; y < ymax; y++) {  // same sums as Pillow's per-pixel loop, accumulated row by row
        int w = k[kb + y];
        int p = (y + ymin) * rowLen;
        for (int i = 0; i < rowLen; i++) ss[i] += (in[p + i] & 0xff) * w;
      }
      int o = yy * rowLen;
      for (int i = 0; i < rowLen; i++) out[o + i] = clip8Shifted(ss[i]);
    }
    return out;
  }

  /** clip8: the accumulator shifted right by PRECISION_BITS and clipped to 0..255 (Pillow's lookup table). */
  static byte clip8Shifted(int ss) {
    int v = ss >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : (v > 255 ? 255 : v));
  }

  /** ImagingResampleInner for I;16 (ImagingResample{Horizontal,Vertical}_16bpc), full-image box. */
  static char[] resample16(char[] in, int inW, int inH, int outW, int outH, boolean verticalFirst) {
    if (verticalFirst) {
      char[] tmp = resample16(in, inW, inH, inW, outH, false);
      return resample16(tmp, inW, outH, outW, outH, false);
    }
    boolean needHorizontal = outW != inW;
    boolean needVertical = outH != inH;
    Coefficients vertical = coefficients(inH, 0f, (float) inH, outH);
    int yFirst = vertical.bounds[0];
    int yLast = vertical.bounds[outH * 2 - 2] + vertical.bounds[outH * 2 - 1];
    char[] cur = in;
    int curW = inW;
    if (needHorizontal) {
      Coefficients h = coefficients(inW, 0f, (float) inW, outW);
      for (int i = 0; i < outH; i++) vertical.bounds[i * 2] -= yFirst;
      int rows = yLast - yFirst;
      char[] out = new char[outW * rows];
      for (int yy = 0; yy < rows; yy++) {
        int rowBase = (yy + yFirst) * inW;
        for (int xx = 0; xx < outW; xx++) {
          int xmin = h.bounds[2 * xx];
          int xmax = h.bounds[2 * xx + 1];
          double ss = 0.0;
          for (int x = 0; x < xmax; x++) ss += in[rowBase + x + xmin] * h.weights[xx * h.ksize + x];
          out[yy * outW + xx] = (char) clip16(roundUp(ss));
        }
      }
      cur = out;
      curW = outW;
    }
    if (needVertical) {
      char[] out = new char[curW * outH];
      for (int yy = 0; yy < outH; yy++) {
        int ymin = vertical.bounds[2 * yy];
        int ymax = vertical.bounds[2 * yy + 1];
        for (int xx = 0; xx < curW; xx++) {
          double ss = 0.0;
          for (int y = 0; y < ymax; y++) ss += cur[(y + ymin) * curW + xx] * vertical.weights[yy * vertical.ksize + y];
          out[yy * curW + xx] = (char) clip16(roundUp(ss));
        }
      }
      cur = out;
    }
    return cur == in ? in.clone() : cur;
  }

  /** Pillow's ROUND_UP: half away from zero, then truncation to int. */
  static int roundUp(double f) {
    return (int) (f >= 0.0 ? f + 0.5 : f - 0.5);
  }

  static int clip16(int v) {
    return v <= 0 ? 0 : (v < 65536 ? v : 65535);
  }

  /** ImagingScaleAffine (NEAREST) over one byte per pixel, full-image box, fill = 1 (uncovered pixels are 0). */
  static byte[] nearest(byte[] in, int inW, int inH, int outW, int outH) {
    double a0 = (double) ((float) inW - 0f) / outW;
    double a4 = (double) ((float) inH - 0f) / outH;
    int[] xintab = new int[outW];
    int xmin = outW;
    int xmax = 0;
    double xo = 0.0 + a0 * 0.5;
    for (int x = 0; x < outW; x++) {
      int xin = xo < 0.0 ? -1 : (int) xo;
      if (xin >= 0 && xin < inW) {
        xmax = x + 1;
        if (x < xmin) xmin = x;
        xintab[x] = xin;
      }
      xo += a0;
    }
    byte[] out = new byte[outW * outH];
    double yo = 0.0 + a4 * 0.5;
    for (int y = 0; y < outH; y++) {
      int yi = yo < 0.0 ? -1 : (int) yo;
      if (yi >= 0 && yi < inH) {
        for (int x = xmin; x < xmax; x++) out[y * outW + x] = in[yi * inW + xintab[x]];
      }
      yo += a4;
    }
    return out;
  }

  /** RGBA → RGBa and LA → La: colour bands times alpha with MULDIV255; alpha is the last band. */
  static byte[] premultiply(byte[] in, int bands) {
    byte[] out = new byte[in.length];
    for (int p = 0; p < in.length; p += bands) {
      int alpha = in[p + bands - 1] & 0xff;
      for (int b = 0; b < bands - 1; b++) out[p + b] = (byte) PilImage.mulDiv255(in[p + b] & 0xff, alpha);
      out[p + bands - 1] = (byte) alpha;
    }
    return out;
  }

  /** RGBa → RGBA and La → LA in place: clip8(255·c / alpha) in integer division, alpha 0 and 255 untouched. */
  static void unpremultiply(byte[] px, int bands) {
    for (int p = 0; p < px.length; p += bands) {
      int alpha = px[p + bands - 1] & 0xff;
      if (alpha == 255 || alpha == 0) continue;
      for (int b = 0; b < bands - 1; b++) px[p + b] = (byte) PilImage.clip8((255 * (px[p + b] & 0xff)) / alpha);
    }
  }
}
