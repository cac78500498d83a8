package dev.mergetune.world;

import java.util.Locale;

/**
 * How a scene is rendered: a clean photo, or a shifted domain for domain-generalisation tests. A sketch has no colour
 * and no texture (dark outline on white); noise adds Gaussian pixel noise; palette rotates the colour channels and
 * inverts the background's brightness, so colours change their names but shapes keep theirs.
 */
public enum Domain {
  PHOTO, SKETCH, NOISE, PALETTE;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Domain parse(String s) {
    for (Domain d : values()) if (d.id().equals(s)) return d;
    throw new IllegalArgumentException("unknown domain '" + s + "' (photo, sketch, noise, palette)");
  }
}
