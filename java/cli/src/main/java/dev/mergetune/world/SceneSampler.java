package dev.mergetune.world;

import dev.mergetune.data.SplitMix64;

/** Draws where and how a scene of given concepts appears: radius by size, position, rotation, texture phase, brightness. */
final class SceneSampler {
  /** Radius as a fraction of the image side, before a ±10 % jitter. */
  static final double SMALL = 0.25;
  static final double LARGE = 0.38;
  /** Shapes are upright up to ±17°: a square turned 45° would be a diamond, and names should stay true. */
  static final double MAX_TILT = 0.3;
  /** The centre is at most this fraction of the side away from the image centre (and the shape stays inside). */
  static final double MAX_OFFSET = 0.12;

  private SceneSampler() {}

  static Scene draw(SplitMix64 r, int size, String shape, String colour, String texture, String sizeWord, Domain domain) {
    double base = sizeWord.equals("small") ? SMALL : sizeWord.equals("large") ? LARGE : Double.NaN;
    if (Double.isNaN(base)) throw new IllegalArgumentException("unknown size '" + sizeWord + "'");
    double radius = size * base * (0.9 + 0.2 * r.nextDouble());
    // near the centre: a ViT with 8 px patches learns shapes far faster when their parts fall on similar patches
    double span = Math.min(size * MAX_OFFSET, size / 2.0 - radius - 0.5);
    double cx = size / 2.0 + span * (2 * r.nextDouble() - 1);
    double cy = size / 2.0 + span * (2 * r.nextDouble() - 1);
    double rotation = MAX_TILT * (2 * r.nextDouble() - 1);
    double phase = r.nextDouble();
    double brightness = 0.88 + 0.2 * r.nextDouble();
    return new Scene(shape, colour, texture, sizeWord, cx, cy, radius, rotation, domain, phase, brightness, r.nextLong());
  }

  static <T> T pick(SplitMix64 r, java.util.List<T> items) {
    return items.get(r.nextInt(items.size()));
  }
}
