package dev.mergetune.clip;

import java.util.Map;

/**
 * The dimensions of a CLIP ViT model, as OpenAI's {@code build_model} infers them from a state dict (OpenAI key
 * names): heads = width / 64 on both towers unless given, layers counted from the resblock keys, image resolution
 * = patch size × grid, where the grid comes from the positional embedding.
 */
public record ClipConfig(int embedDim, int imageResolution, int visionLayers, int visionWidth, int visionPatchSize,
    int visionHeads, int contextLength, int vocabSize, int textWidth, int textHeads, int textLayers) {
  public ClipConfig {
    positive("embedDim", embedDim);
    positive("imageResolution", imageResolution);
    positive("visionLayers", visionLayers);
    positive("visionWidth", visionWidth);
    positive("visionPatchSize", visionPatchSize);
    positive("visionHeads", visionHeads);
    positive("contextLength", contextLength);
    positive("vocabSize", vocabSize);
    positive("textWidth", textWidth);
    positive("textHeads", textHeads);
    positive("textLayers", textLayers);
    if (imageResolution % visionPatchSize != 0) {
      throw new IllegalArgumentException("image resolution " + imageResolution + " is not a multiple of the patch size " + visionPatchSize);
    }
    if (visionWidth % visionHeads != 0) throw new IllegalArgumentException("vision width " + visionWidth + " is not divisible by " + visionHeads + " heads");
    if (textWidth % textHeads != 0) throw new IllegalArgumentException("text width " + textWidth + " is not divisible by " + textHeads + " heads");
  }

  private static void positive(String what, int v) {
    if (v <= 0) throw new IllegalArgumentException(what + " must be positive, got " + v);
  }

  /** The same dimensions with other head counts (heads are not recorded in a state dict). */
  public ClipConfig withHeads(int vision, int text) {
    return new ClipConfig(embedDim, imageResolution, visionLayers, visionWidth, visionPatchSize, vision, contextLength,
        vocabSize, textWidth, text, textLayers);
  }

  /** Patches per side. */
  public int grid() {
    return imageResolution / visionPatchSize;
  }

  /** OpenAI ViT-B/16. */
  public static ClipConfig vitB16() {
    return new ClipConfig(512, 224, 12, 768, 16, 12, 77, 49408, 512, 8, 12);
  }

  /** OpenAI ViT-B/32. */
  public static ClipConfig vitB32() {
    return new ClipConfig(512, 224, 12, 768, 32, 12, 77, 49408, 512, 8, 12);
  }

  /** OpenAI ViT-L/14. */
  public static ClipConfig vitL14() {
    return new ClipConfig(768, 224, 24, 1024, 14, 16, 77, 49408, 768, 12, 12);
  }

  /**
   * Infers the configuration from tensor shapes under OpenAI names, as {@code clip.model.build_model} does.
   *
   * @param headWidth the width per attention head (64 in every released CLIP); heads = width / headWidth
   */
  public static ClipConfig infer(Map<String, long[]> shapes, int headWidth) {
    long[] conv = require(shapes, "visual.conv1.weight", 4);
    int visionWidth = (int) conv[0];
    int patch = (int) conv[3];
    int visionLayers = countLayers(shapes, "visual.transformer.resblocks.");
    long positions = require(shapes, "visual.positional_embedding", 2)[0];
    int grid = (int) Math.round(Math.sqrt(positions - 1));
    if ((long) grid * grid + 1 != positions) {
      throw new IllegalArgumentException("visual.positional_embedding has " + positions + " rows, not a square grid + 1");
    }
    int embedDim = (int) require(shapes, "text_projection", 2)[1];
    int contextLength = (int) require(shapes, "positional_embedding", 2)[0];
    int vocab = (int) require(shapes, "token_embedding.weight", 2)[0];
    int textWidth = (int) require(shapes, "ln_final.weight", 1)[0];
    int textLayers = countLayers(shapes, "transformer.resblocks.");
    if (visionWidth % headWidth != 0 || textWidth % headWidth != 0) {
      throw new IllegalArgumentException("widths " + visionWidth + "/" + textWidth + " are not multiples of the head width "
          + headWidth + "; give the head counts explicitly");
    }
    return new ClipConfig(embedDim, patch * grid, visionLayers, visionWidth, patch, visionWidth / headWidth,
        contextLength, vocab, textWidth, textWidth / headWidth, textLayers);
  }

  private static long[] require(Map<String, long[]> shapes, String name, int rank) {
    long[] s = shapes.get(name);
    if (s == null) throw new IllegalArgumentException("no tensor '" + name + "' to infer the CLIP configuration from");
    if (s.length != rank) throw new IllegalArgumentException("'" + name + "' has rank " + s.length + ", expected " + rank);
    return s;
  }

  private static int countLayers(Map<String, long[]> shapes, String prefix) {
    int layers = 0;
    for (String k : shapes.keySet()) {
      if (k.startsWith(prefix)) {
        String rest = k.substring(prefix.length());
        int dot = rest.indexOf('.');
        if (dot > 0) {
          try {
            layers = Math.max(layers, Integer.parseInt(rest.substring(0, dot)) + 1);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("unexpected key '" + k + "'");
          }
        }
      }
    }
    if (layers == 0) throw new IllegalArgumentException("no '" + prefix + "N.*' keys: not a CLIP ViT layout");
    return layers;
  }
}
