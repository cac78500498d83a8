package dev.mergetune.world;

import java.util.List;

/**
 * The world's fixed concept inventory: shapes × colours × background textures × sizes. Every list is in a fixed order
 * (the order of the generator's draws), and every name is one lower-case word, so captions and class names tokenize
 * into whole-word tokens of the world's own vocabulary ({@link WorldVocabulary}).
 */
public final class Concepts {
  private Concepts() {}

  /** A named colour and its nominal sRGB value (the renderer fills shapes with it, up to a brightness jitter). */
  public record Colour(String name, int r, int g, int b) {}

  public static final List<String> SHAPES =
      List.of("circle", "square", "triangle", "star", "cross", "ring", "diamond", "moon");

  /** Saturated colours, far from each other and from the grey backgrounds. */
  public static final List<Colour> COLOURS = List.of(
      new Colour("red", 220, 40, 40),
      new Colour("green", 50, 180, 60),
      new Colour("blue", 50, 90, 235),
      new Colour("yellow", 235, 215, 40),
      new Colour("orange", 245, 135, 30),
      new Colour("purple", 145, 55, 195),
      new Colour("cyan", 60, 215, 225),
      new Colour("pink", 245, 130, 205));

  /** Background textures, all grey (R = G = B), so colour words only ever name the shape. */
  public static final List<String> TEXTURES = List.of("stripes", "dots", "checks", "waves");

  public static final List<String> SIZES = List.of("small", "large");

  public static Colour colour(String name) {
    for (Colour c : COLOURS) if (c.name().equals(name)) return c;
    throw new IllegalArgumentException("unknown colour '" + name + "'");
  }

  /** The class name of a shape × colour combination: "red circle". */
  public static String combo(String colour, String shape) {
    return colour + " " + shape;
  }
}
