package dev.mergetune.clip.image;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * OpenAI CLIP's evaluation preprocessing {@code _transform(n_px)} (clip/clip.py), in Java:
 * <pre>
 *   Resize(n_px, interpolation=BICUBIC)  → {@link #resizedSize}: short side to n_px, long side
 *                                            int(n_px · long / short); Pillow bicubic ({@link PilResample})
 *   CenterCrop(n_px)                     → {@link #cropOffset}: int(round((size − n_px) / 2.0)), Python's
 *                                            round, so halves go to the even integer
 *   convert("RGB")                       → {@link PilImage#toRgb()}
 *   ToTensor()                           → float32(v) / 255 in float32
 *   Normalize(mean, std)                 → (x − mean[c]) / std[c] in float32, CHW
 * </pre>
 * applied to the {@link PilImage} that {@link ImageDecoder} gives for a file, which is what
 * {@code Image.open(path)} gives Pillow. The transforms run in that order, as in CLIP: the resize happens before
 * the RGB conversion, in the image's own mode (so a palette image is resized with NEAREST and an RGBA image on
 * premultiplied alpha, as torchvision on a Pillow image does).
 *
 * <h2>What is bit-exact</h2>
 * <ul>
 *   <li>Sizes and crop offsets: torchvision's integer formulas (the {@code int(...)} truncation of the long side,
 *       round-half-even of the crop offset), exactly.
 *   <li>Resize, crop and RGB conversion of a given {@link PilImage}: bit-identical to Pillow (x86-64 builds) by
 *       construction from Pillow's C code; see {@link PilResample} for the evidence and the one FMA caveat.
 *   <li>ToTensor and Normalize: each value is {@code ((float) v / 255f − mean[c]) / std[c]} in IEEE float32 with
 *       mean and std rounded from the double literals as {@code torch.as_tensor(..., dtype=float32)} rounds them:
 *       the same three correctly rounded float32 operations as torchvision's {@code div(255)}, {@code sub_} and
 *       {@code div_} on CPU, hence bit-identical (checked against LibTorch's own kernels in
 *       {@code ImageTransformTest}).
 *   <li>Decoding: PNG is exact; JPEG depends on the JDK's libjpeg matching Pillow's libjpeg-turbo, which it did
 *       in every case measured except 4:4:0 subsampling with the JDK's bundled libjpeg 6b (see
 *       {@link ImageDecoder}).
 * </ul>
 * The whole chain was compared during development with Pillow 9.4.0 running CLIP's transform (torchvision's size
 * and crop formulas) on 53 generated files at n_px = 224, 32 and 7: identical uint8 images and float32 bits, except
 * for the documented version differences (tall images, 16-bit grey). A few of those outputs are kept as exact
 * expectations in {@code ImageTransformTest}; no Python runs in this project or its tests.
 *
 * <p>As a {@link Transform} it is deterministic (epoch and index are ignored); its {@link #id()} is
 * {@code eval:resize-crop:<n_px>}, with {@code :pillow<12.2} for {@link #withPillowBefore12_2()}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ClipImageTransform implements Transform {
  /** CLIP's normalisation mean (R, G, B), as the Python float literals. */
  public static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
  /** CLIP's normalisation standard deviation (R, G, B), as the Python float literals. */
  public static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

  private final int size;
  private final boolean tallImagesVerticalFirst;
  private final float[][] table;  // [channel][byte value] → normalised float

  private ClipImageTransform(int size, boolean tallImagesVerticalFirst) {
    if (size < 1) throw new IllegalArgumentException("n_px must be positive: " + size);
    this.size = size;
    this.tallImagesVerticalFirst = tallImagesVerticalFirst;
    this.table = new float[3][256];
    for (int c = 0; c < 3; c++) {
      float mean = (float) MEAN[c];
      float std = (float) STD[c];
      for (int v = 0; v < 256; v++) table[c][v] = ((float) v / 255f - mean) / std;
    }
  }

  /** {@code _transform(nPx)}: 224 for ViT-B/16 and ViT-B/32, 336 for ViT-L/14@336px. */
  public static ClipImageTransform of(int nPx) {
    return new ClipImageTransform(nPx, true);
  }

  /**
   * The same transform with the resampling order of Pillow before 12.2 for images more than 100× taller than
   * wide (Pillow 12.2 resizes those vertically first); no other image is affected.
   */
  public ClipImageTransform withPillowBefore12_2() {
    return new ClipImageTransform(size, false);
  }

  /** n_px: the output is 3 × n_px × n_px. */
  @Override
  public int size() {
    return size;
  }

  /** Floats per image: 3 · n_px². */
  @Override
  public int floatsPerImage() {
    return 3 * size * size;
  }

  @Override
  public String id() {
    return "eval:resize-crop:" + size + (tallImagesVerticalFirst ? "" : ":pillow<12.2");
  }

  @Override
  public boolean isRandom() {
    return false;
  }

  @Override
  public OptionalLong seed() {
    return OptionalLong.empty();
  }

  /** The same as {@link #apply(PilImage, float[], int)}: epoch and index do not matter. */
  @Override
  public void apply(PilImage image, long epoch, long index, float[] out, int offset) {
    apply(image, out, offset);
  }

  /** Whether Pillow 12.2's vertical-first order is used for very tall images (see {@link PilResample}). */
  boolean tallImagesVerticalFirst() {
    return tallImagesVerticalFirst;
  }

  /**
   * torchvision's {@code _compute_resized_output_size(image_size, [n_px])}: {width, height} with the short side
   * n_px and the long side {@code int(n_px * long / short)} (true division in double, then truncation).
   */
  public static int[] resizedSize(int width, int height, int nPx) {
    int shortSide = Math.min(width, height);
    int longSide = Math.max(width, height);
    int newLong = (int) ((double) ((long) nPx * longSide) / shortSide);
    return width <= height ? new int[] {nPx, newLong} : new int[] {newLong, nPx};
  }

  /** torchvision's centre-crop offset {@code int(round((length − crop) / 2.0))}, round half to even. */
  public static int cropOffset(int length, int crop) {
    return (int) Math.rint((length - crop) / 2.0);
  }

  /** Resize and centre crop, still in the image's own mode: an n_px × n_px {@link PilImage}. */
  public PilImage resizeAndCrop(PilImage image) {
    int[] wh = resizedSize(image.width(), image.height(), size);
    PilImage resized = PilResample.resize(image, wh[0], wh[1], tallImagesVerticalFirst);
    // the resized image is never smaller than n_px, so torchvision's padding branch cannot arise
    return resized.crop(cropOffset(resized.width(), size), cropOffset(resized.height(), size), size, size);
  }

  /** The uint8 RGB image (HWC, n_px × n_px × 3) that ToTensor receives. */
  public byte[] rgb(PilImage image) {
    return resizeAndCrop(image).toRgb();
  }

  /** The normalised float32 tensor data, CHW (3 × n_px × n_px). */
  public float[] apply(PilImage image) {
    float[] out = new float[floatsPerImage()];
    apply(image, out, 0);
    return out;
  }

  /** Decodes {@code file} and transforms it. */
  public float[] apply(Path file) {
    return apply(ImageDecoder.read(file));
  }

  /** Writes the CHW floats of {@code image} into {@code out} from {@code offset}. */
  public void apply(PilImage image, float[] out, int offset) {
    normalise(rgb(image), out, offset);
  }

  /**
   * ToTensor and Normalize of an n_px × n_px uint8 RGB image (HWC), written as CHW floats into {@code out} from
   * {@code offset}: the tail shared by every {@link Transform} of this package.
   */
  void normalise(byte[] rgb, float[] out, int offset) {
    if (rgb.length != 3 * size * size) {
      throw new IllegalArgumentException(rgb.length + " bytes are not a " + size + "x" + size + " RGB image");
    }
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      float[] t = table[c];
      int base = offset + c * plane;
      for (int i = 0; i < plane; i++) out[base + i] = t[rgb[3 * i + c] & 0xff];
    }
  }

  /** Writes the CHW floats of {@code image} into {@code out} at absolute index {@code offset} (position untouched). */
  public void apply(PilImage image, FloatBuffer out, int offset) {
    float[] tmp = apply(image);
    out.put(offset, tmp, 0, tmp.length);
  }

  /** The normalised value of byte {@code v} in channel {@code c} (0 = R). */
  public float normalise(int c, int v) {
    return table[c][v];
  }
}
