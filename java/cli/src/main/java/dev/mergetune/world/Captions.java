package dev.mergetune.world;

import dev.mergetune.data.SplitMix64;
import java.util.List;
import java.util.TreeSet;

/**
 * Caption templates of the pre-training pairs and the prompt templates of the downstream datasets. Placeholders:
 * {size} {colour} {shape} {texture}; a prompt template has one {} for the class name. Captions of photos mention
 * some of the scene's concepts (never a wrong one); sketches and noisy photos say so.
 */
public final class Captions {
  private Captions() {}

  static final List<String> PHOTO = List.of(
      "a photo of a {size} {colour} {shape} on {texture}",
      "a photo of a {colour} {shape}",
      "a {colour} {shape} on {texture}",
      "a {size} {colour} {shape}",
      "a photo of a {shape}",
      "a photo of a {colour} shape",
      "a photo of a shape on {texture}",
      "a {size} {shape} on {texture}");
  static final List<String> NOISE = List.of("a noisy photo of a {colour} {shape}", "a noisy photo of a {shape}");
  static final List<String> SKETCH = List.of("a sketch of a {shape}", "a sketch of a {size} {shape}");

  /** Zero-shot / CoOp prompt templates, by what the class names are. */
  public static final List<String> OBJECT_PROMPTS = List.of("a photo of a {}");
  public static final List<String> COLOUR_PROMPTS = List.of("a photo of a {} shape");
  public static final List<String> TEXTURE_PROMPTS = List.of("a photo of a shape on {}");

  /** A caption of the scene, its template drawn from {@code r}. */
  static String caption(SplitMix64 r, Scene s) {
    List<String> templates = switch (s.domain()) {
      case PHOTO -> PHOTO;
      case NOISE -> NOISE;
      case SKETCH -> SKETCH;
      case PALETTE -> throw new IllegalArgumentException("palette-swapped scenes are test-only and have no caption");
    };
    return fill(SceneSampler.pick(r, templates), s);
  }

  static String fill(String template, Scene s) {
    return template.replace("{size}", s.size()).replace("{colour}", s.colour()).replace("{shape}", s.shape())
        .replace("{texture}", s.texture());
  }

  /** Every word any caption or prompt can contain, sorted: what the world's vocabulary must spell as one token each. */
  public static List<String> words() {
    TreeSet<String> words = new TreeSet<>();
    List<List<String>> all = List.of(PHOTO, NOISE, SKETCH, OBJECT_PROMPTS, COLOUR_PROMPTS, TEXTURE_PROMPTS);
    for (List<String> group : all) {
      for (String t : group) {
        for (String w : t.split(" ")) if (!w.startsWith("{")) words.add(w);
      }
    }
    words.addAll(Concepts.SHAPES);
    for (Concepts.Colour c : Concepts.COLOURS) words.add(c.name());
    words.addAll(Concepts.TEXTURES);
    words.addAll(Concepts.SIZES);
    return List.copyOf(words);
  }
}
