package dev.mergetune.world;

import dev.mergetune.data.SplitMix64;

/**
 * Renders a {@link Scene} as a square RGB image (packed 0xRRGGBB per pixel, row-major). Shape coverage is
 * anti-aliased by 4 × 4 supersampling; everything is plain double arithmetic and {@link SplitMix64} draws, so the
 * same scene gives the same pixels on every machine.
 */
public final class SceneRenderer {
  private static final int SUB = 4;
  /** Background grey levels: dark, so that the colours stand out. */
  static final int BG_LO = 45;
  static final int BG_HI = 105;
  static final int SKETCH_PAPER = 235;
  static final int SKETCH_INK = 30;
  static final double NOISE_SIGMA = 32;

  private SceneRenderer() {}

  public static int[] render(Scene s, int size) {
    double[] cover = coverage(s, size, 1.0);
    double[] inner = s.domain() == Domain.SKETCH ? coverage(s, size, 0.72) : null;
    Concepts.Colour c = Concepts.colour(s.colour());
    double[] fill = {c.r() * s.brightness(), c.g() * s.brightness(), c.b() * s.brightness()};
    SplitMix64 noise = new SplitMix64(s.noiseSeed());
    int[] out = new int[size * size];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int i = y * size + x;
        double[] rgb = new double[3];
        if (s.domain() == Domain.SKETCH) {
          double a = Math.max(0, cover[i] - inner[i]);  // the outline: the shape minus a shrunk copy of it
          for (int k = 0; k < 3; k++) rgb[k] = SKETCH_PAPER * (1 - a) + SKETCH_INK * a;
        } else {
          double bg = background(s.texture(), x, y, size, s.phase());
          double a = cover[i];
          for (int k = 0; k < 3; k++) rgb[k] = bg * (1 - a) + fill[k] * a;
          if (s.domain() == Domain.NOISE) {
            for (int k = 0; k < 3; k++) rgb[k] += NOISE_SIGMA * gaussian(noise);
          } else if (s.domain() == Domain.PALETTE) {
            double r = rgb[0];
            rgb[0] = rgb[1];
            rgb[1] = rgb[2];
            rgb[2] = r;
            for (int k = 0; k < 3; k++) rgb[k] = a * rgb[k] + (1 - a) * (255 - bg);
          }
        }
        out[i] = (clamp(rgb[0]) << 16) | (clamp(rgb[1]) << 8) | clamp(rgb[2]);
      }
    }
    return out;
  }

  /** The fraction of each pixel's 4 × 4 sub-samples inside the shape scaled by {@code scale} about its centre. */
  static double[] coverage(Scene s, int size, double scale) {
    double cos = Math.cos(s.rotation());
    double sin = Math.sin(s.rotation());
    double r = s.radius() * scale;
    double[] out = new double[size * size];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int hits = 0;
        for (int sy = 0; sy < SUB; sy++) {
          for (int sx = 0; sx < SUB; sx++) {
            double px = x + (sx + 0.5) / SUB - s.cx();
            double py = y + (sy + 0.5) / SUB - s.cy();
            double u = (cos * px + sin * py) / r;
            double v = (-sin * px + cos * py) / r;
            if (u * u + v * v <= 1.0 && ShapeGeometry.inside(s.shape(), u, v)) hits++;
          }
        }
        out[y * size + x] = hits / (double) (SUB * SUB);
      }
    }
    return out;
  }

  /** The grey level of a texture at a pixel; patterns scale with the image so that 32 and 64 px look alike. */
  static double background(String texture, int x, int y, int size, double phase) {
    double k = size / 32.0;
    double xs = x / k;
    double ys = y / k;
    switch (texture) {
      case "stripes":
        return (((int) Math.floor((xs + ys) / 3.0 + phase * 2)) & 1) == 0 ? BG_LO : BG_HI;
      case "dots": {
        double px = xs + phase * 5;
        double py = ys + phase * 5;
        double dx = px - 5 * Math.floor(px / 5) - 2.5;
        double dy = py - 5 * Math.floor(py / 5) - 2.5;
        return dx * dx + dy * dy <= 1.3 * 1.3 ? BG_HI : BG_LO;
      }
      case "checks":
        return ((((int) Math.floor(xs / 4 + phase)) + ((int) Math.floor(ys / 4 + phase))) & 1) == 0 ? BG_LO : BG_HI;
      case "waves":
        return BG_LO + (BG_HI - BG_LO) * (0.5 + 0.5 * Math.sin(2 * Math.PI * (ys / 7.0 + phase)
            + 1.2 * Math.sin(2 * Math.PI * xs / 12.0)));
      default:
        throw new IllegalArgumentException("unknown texture '" + texture + "'");
    }
  }

  /** A standard normal draw (Box–Muller, one of the pair). */
  static double gaussian(SplitMix64 r) {
    double u1 = 1.0 - r.nextDouble();  // (0, 1]
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static int clamp(double v) {
    long r = Math.round(v);
    return (int) Math.max(0, Math.min(255, r));
  }
}
