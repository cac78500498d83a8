package dev.mergetune.clip.image;

import dev.mergetune.data.SplitMix64;
import java.util.OptionalLong;

/**
 * The training augmentation of the CLIP fine-tuning recipes: torchvision's {@code RandomResizedCrop(size, scale,
 * ratio, interpolation=BICUBIC)} on a Pillow image, optionally {@code RandomHorizontalFlip(p)}, then CLIP's
 * ToTensor and Normalize, exactly as {@link ClipImageTransform} ends.
 * <pre>
 *   ZSCL / ConDU (MTIL):  RandomResizedCrop(224, scale=(0.9, 1.0), BICUBIC), convert("RGB"), ToTensor, Normalize
 *                         → {@link #mtil(int, long)}
 *   CoOp (Dassl):         read_image (convert("RGB") on open), RandomResizedCrop(224, scale=(0.08, 1.0), BICUBIC),
 *                         RandomHorizontalFlip(0.5), ToTensor, Normalize → {@link #coop(int, long)}
 * </pre>
 *
 * <h2>What follows torchvision exactly</h2>
 * <ul>
 *   <li>The crop rule of {@code RandomResizedCrop.get_params} ({@link #params}): up to 10 attempts, each drawing an
 *       area fraction uniform in {@code scale} and an aspect ratio log-uniform in {@code ratio}, with
 *       {@code w = round(sqrt(area·fraction·ratio))}, {@code h = round(sqrt(area·fraction / ratio))} (Python's round,
 *       half to even); the first attempt with {@code 0 < w ≤ width} and {@code 0 < h ≤ height} takes its top row
 *       uniform in {@code [0, height − h]} and its left column uniform in {@code [0, width − w]}; if none fits, the
 *       centre crop of the whole image clamped to the ratio range ({@code w = round(h · max ratio)} for too-wide
 *       images, {@code h = round(w / min ratio)} for too-tall ones, offsets by floor division).
 *   <li>{@code F.resized_crop} on a Pillow image: Pillow's {@code crop} then {@code resize((size, size), BICUBIC)},
 *       here {@link PilImage#crop} and {@link PilResample} (bit-exact, with Pillow's mode rules: a palette image is
 *       resized with NEAREST unless it was converted to RGB first). The flip is Pillow's FLIP_LEFT_RIGHT, an exact
 *       mirror. ToTensor and Normalize are {@link ClipImageTransform}'s own code.
 * </ul>
 * So for a given crop box and flip decision the output is the reference's output, bit for bit (checked against the
 * evaluation path, which is checked against Pillow: a whole-image square crop resized to {@code size} equals
 * {@code ClipImageTransform.of(size)} on that image).
 *
 * <h2>What does not: the random draws</h2>
 * The reference draws from torch's global generator ({@code torch.empty(1).uniform_}, {@code torch.randint},
 * {@code torch.rand}), whose state depends on the worker process, the order in which samples reach the worker and
 * everything else drawn before; it cannot be reproduced and is not. Here every sample has its own
 * {@link SplitMix64} stream seeded by {@code SplitMix64.derive(tag, seed, epoch, index)} (index = the sample's
 * position in its dataset), drawn in double precision (torch draws the fraction and log-ratio in float32). The same
 * (seed, epoch, index) gives the same crop and flip on every machine, in every thread and in any order — a resumed
 * run draws what the interrupted one would have — but never the crops torch would have drawn. Statistically the
 * draws follow the same distributions.
 *
 * <p>Immutable and thread-safe.
 */
public final class RandomResizedCrop implements Transform {
  /** torchvision's default ratio range (3/4, 4/3), as the Python doubles. */
  public static final double RATIO_MIN = 3.0 / 4.0;
  public static final double RATIO_MAX = 4.0 / 3.0;
  /** torchvision's number of attempts before the centre-crop fallback. */
  public static final int ATTEMPTS = 10;
  /** Separates these streams from every other use of the same seed ("rrc-aug1"). */
  static final long STREAM_TAG = 0x7272632D61756731L;

  /**
   * A crop box as {@code get_params} returns it, {@code (i, j, h, w)} = (top, left, height, width), and the attempt
   * that produced it (0 to 9), or −1 for the centre-crop fallback.
   */
  public record Box(int top, int left, int height, int width, int attempt) {
    public boolean fallback() {
      return attempt < 0;
    }
  }

  /** What one sample draws: its crop box and whether it is mirrored. */
  public record Draw(Box box, boolean flip) {}

  private final double scaleMin;
  private final double scaleMax;
  private final double ratioMin;
  private final double ratioMax;
  private final double flipProbability;
  private final long seed;
  private final boolean rgbFirst;
  private final ClipImageTransform tail;

  private RandomResizedCrop(ClipImageTransform tail, double scaleMin, double scaleMax, double ratioMin,
      double ratioMax, double flipProbability, boolean rgbFirst, long seed) {
    if (!(scaleMin >= 0) || !(scaleMax >= scaleMin) || Double.isInfinite(scaleMax)) {
      throw new IllegalArgumentException("scale must be a finite range 0 <= min <= max: " + scaleMin + ", " + scaleMax);
    }
    if (!(ratioMin > 0) || !(ratioMax >= ratioMin) || Double.isInfinite(ratioMax)) {
      throw new IllegalArgumentException("ratio must be a finite range 0 < min <= max: " + ratioMin + ", " + ratioMax);
    }
    if (!(flipProbability >= 0 && flipProbability <= 1)) {
      throw new IllegalArgumentException("flip probability must be in [0, 1]: " + flipProbability);
    }
    this.tail = tail;
    this.scaleMin = scaleMin;
    this.scaleMax = scaleMax;
    this.ratioMin = ratioMin;
    this.ratioMax = ratioMax;
    this.flipProbability = flipProbability;
    this.rgbFirst = rgbFirst;
    this.seed = seed;
  }

  /**
   * {@code RandomResizedCrop(size, scale=(scaleMin, scaleMax), interpolation=BICUBIC)} with the default ratio range,
   * no flip, the crop taken in the image's own mode (RGB conversion after the resize, as CLIP's transforms do).
   */
  public static RandomResizedCrop of(int size, double scaleMin, double scaleMax, long seed) {
    return new RandomResizedCrop(ClipImageTransform.of(size), scaleMin, scaleMax, RATIO_MIN, RATIO_MAX, 0.0, false,
        seed);
  }

  /** ZSCL's and ConDU's training transform (methods §2.5): scale (0.9, 1.0), bicubic, no flip. */
  public static RandomResizedCrop mtil(int size, long seed) {
    return of(size, 0.9, 1.0, seed);
  }

  /**
   * CoOp's training transform through Dassl: the image converted to RGB when read, scale (0.08, 1.0) (Dassl's
   * default {@code INPUT.RRCROP_SCALE}), bicubic, horizontal flip with probability 0.5.
   */
  public static RandomResizedCrop coop(int size, long seed) {
    return of(size, 0.08, 1.0, seed).withFlip(0.5).withRgbFirst(true);
  }

  /** The same with another aspect-ratio range (width / height). */
  public RandomResizedCrop withRatio(double min, double max) {
    return new RandomResizedCrop(tail, scaleMin, scaleMax, min, max, flipProbability, rgbFirst, seed);
  }

  /** The same followed by {@code RandomHorizontalFlip(p)}; 0 for none. */
  public RandomResizedCrop withFlip(double p) {
    return new RandomResizedCrop(tail, scaleMin, scaleMax, ratioMin, ratioMax, p, rgbFirst, seed);
  }

  /** Whether the image is converted to RGB before the crop (Dassl's {@code read_image}) rather than after it. */
  public RandomResizedCrop withRgbFirst(boolean first) {
    return new RandomResizedCrop(tail, scaleMin, scaleMax, ratioMin, ratioMax, flipProbability, first, seed);
  }

  /** The same with another seed. */
  public RandomResizedCrop withSeed(long newSeed) {
    return new RandomResizedCrop(tail, scaleMin, scaleMax, ratioMin, ratioMax, flipProbability, rgbFirst, newSeed);
  }

  /** The resampling order of Pillow before 12.2 for very tall crops (see {@link PilResample}). */
  public RandomResizedCrop withPillowBefore12_2() {
    return new RandomResizedCrop(tail.withPillowBefore12_2(), scaleMin, scaleMax, ratioMin, ratioMax,
        flipProbability, rgbFirst, seed);
  }

  @Override
  public String id() {
    StringBuilder sb = new StringBuilder("train:rrc:").append(size()).append(':').append(scaleMin).append('-')
        .append(scaleMax);
    if (ratioMin != RATIO_MIN || ratioMax != RATIO_MAX) sb.append(":ratio=").append(ratioMin).append('-').append(ratioMax);
    sb.append(flipProbability == 0 ? ":noflip" : ":flip=" + flipProbability);
    if (rgbFirst) sb.append(":rgb-first");
    if (!tail.tallImagesVerticalFirst()) sb.append(":pillow<12.2");
    return sb.append(":seed=").append(seed).toString();
  }

  @Override
  public int size() {
    return tail.size();
  }

  @Override
  public boolean isRandom() {
    return true;
  }

  @Override
  public OptionalLong seed() {
    return OptionalLong.of(seed);
  }

  public double scaleMin() {
    return scaleMin;
  }

  public double scaleMax() {
    return scaleMax;
  }

  public double ratioMin() {
    return ratioMin;
  }

  public double ratioMax() {
    return ratioMax;
  }

  public double flipProbability() {
    return flipProbability;
  }

  /** The generator of sample {@code index} in epoch {@code epoch}: independent of every other sample and epoch. */
  public SplitMix64 generator(long epoch, long index) {
    return new SplitMix64(SplitMix64.derive(STREAM_TAG, seed, epoch, index));
  }

  /** The crop box and flip that sample {@code index} draws in epoch {@code epoch} for an image of this size. */
  public Draw draw(int width, int height, long epoch, long index) {
    SplitMix64 rng = generator(epoch, index);
    Box box = params(width, height, scaleMin, scaleMax, ratioMin, ratioMax, rng);
    boolean flip = flipProbability > 0 && rng.nextDouble() < flipProbability;
    return new Draw(box, flip);
  }

  /**
   * torchvision's {@code RandomResizedCrop.get_params} for a {@code width × height} image, drawing from
   * {@code rng} (per attempt: the area fraction, the log aspect ratio, then, if the box fits, the top row and the
   * left column).
   */
  public static Box params(int width, int height, double scaleMin, double scaleMax, double ratioMin, double ratioMax,
      SplitMix64 rng) {
    if (width < 1 || height < 1) throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
    double area = (double) height * width;
    double logMin = StrictMath.log(ratioMin);  // StrictMath: the same bits on every JVM
    double logMax = StrictMath.log(ratioMax);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      double targetArea = area * (scaleMin + (scaleMax - scaleMin) * rng.nextDouble());
      double aspectRatio = StrictMath.exp(logMin + (logMax - logMin) * rng.nextDouble());
      double w = Math.rint(Math.sqrt(targetArea * aspectRatio));  // int(round(...)): half to even
      double h = Math.rint(Math.sqrt(targetArea / aspectRatio));
      if (0 < w && w <= width && 0 < h && h <= height) {
        int wi = (int) w;
        int hi = (int) h;
        int top = rng.nextInt(height - hi + 1);
        int left = rng.nextInt(width - wi + 1);
        return new Box(top, left, hi, wi, attempt);
      }
    }
    double inRatio = (double) width / (double) height;
    int w;
    int h;
    if (inRatio < Math.min(ratioMin, ratioMax)) {
      w = width;
      h = (int) Math.rint(w / Math.min(ratioMin, ratioMax));
    } else if (inRatio > Math.max(ratioMin, ratioMax)) {
      h = height;
      w = (int) Math.rint(h * Math.max(ratioMin, ratioMax));
    } else {
      w = width;
      h = height;
    }
    return new Box((height - h) / 2, (width - w) / 2, h, w, -1);
  }

  /**
   * The uint8 RGB image (HWC, size × size × 3) that ToTensor receives for sample {@code index} in epoch
   * {@code epoch}: optional RGB conversion, crop, bicubic resize, RGB conversion, optional mirror.
   */
  public byte[] rgb(PilImage image, long epoch, long index) {
    PilImage source = rgbFirst && image.mode() != PilMode.RGB
        ? PilImage.of(PilMode.RGB, image.width(), image.height(), image.toRgb())
        : image;
    Draw draw = draw(source.width(), source.height(), epoch, index);
    Box b = draw.box();
    int s = size();
    PilImage cropped = source.crop(b.left(), b.top(), b.width(), b.height());
    byte[] rgb = PilResample.resize(cropped, s, s, tail.tallImagesVerticalFirst()).toRgb();
    if (draw.flip()) mirror(rgb, s, s);
    return rgb;
  }

  @Override
  public void apply(PilImage image, long epoch, long index, float[] out, int offset) {
    tail.normalise(rgb(image, epoch, index), out, offset);
  }

  /** Pillow's {@code transpose(FLIP_LEFT_RIGHT)} of an interleaved RGB image, in place. */
  static void mirror(byte[] rgb, int width, int height) {
    for (int y = 0; y < height; y++) {
      int row = y * width * 3;
      for (int a = 0, z = width - 1; a < z; a++, z--) {
        int pa = row + 3 * a;
        int pz = row + 3 * z;
        for (int c = 0; c < 3; c++) {
          byte t = rgb[pa + c];
          rgb[pa + c] = rgb[pz + c];
          rgb[pz + c] = t;
        }
      }
    }
  }

  @Override
  public String toString() {
    return id();
  }
}
