package dev.mergetune.clip;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything that decides a CLIP ViT's maths: the joint embedding width, the image resolution and patch size, the
 * text context length and vocabulary size, and each tower ({@link ClipTower}: width, layers, heads, MLP width,
 * activation, LayerNorm ε, LayerScale). The image tower pools its class token; the text tower is causally masked
 * and pools the end-of-text token (the largest id) — the only pooling the supported families use.
 *
 * <p>A state dict's shapes do not say the heads or the activation: a configuration comes from the checkpoint's own
 * record or from the user ({@link ClipConfigResolver}), never from a default.
 */
public record ClipConfig(int embedDim, int imageResolution, int visionPatchSize, int contextLength, int vocabSize,
    ClipTower vision, ClipTower text) {
  public ClipConfig {
    positive("embedDim", embedDim);
    positive("imageResolution", imageResolution);
    positive("visionPatchSize", visionPatchSize);
    positive("contextLength", contextLength);
    positive("vocabSize", vocabSize);
    if (vision == null || text == null) throw new IllegalArgumentException("a CLIP configuration needs both towers");
    if (imageResolution % visionPatchSize != 0) {
      throw new IllegalArgumentException("image resolution " + imageResolution + " is not a multiple of the patch size "
          + visionPatchSize);
    }
  }

  private static void positive(String what, int v) {
    if (v <= 0) throw new IllegalArgumentException(what + " must be positive, got " + v);
  }

  /**
   * OpenAI's architecture (MLP 4·width, LayerNorm ε 1e-5, no LayerScale) with these dimensions, heads and
   * activation — for models built in code.
   */
  public static ClipConfig of(int embedDim, int imageResolution, int visionLayers, int visionWidth, int visionPatchSize,
      int visionHeads, int contextLength, int vocabSize, int textWidth, int textHeads, int textLayers,
      Activation activation) {
    return new ClipConfig(embedDim, imageResolution, visionPatchSize, contextLength, vocabSize,
        ClipTower.openAi(visionWidth, visionLayers, visionHeads, activation),
        ClipTower.openAi(textWidth, textLayers, textHeads, activation));
  }

  /** OpenAI ViT-B/16 (QuickGELU). */
  public static ClipConfig vitB16() {
    return of(512, 224, 12, 768, 16, 12, 77, 49408, 512, 8, 12, Activation.QUICK_GELU);
  }

  /** OpenAI ViT-B/32 (QuickGELU). */
  public static ClipConfig vitB32() {
    return of(512, 224, 12, 768, 32, 12, 77, 49408, 512, 8, 12, Activation.QUICK_GELU);
  }

  /** OpenAI ViT-L/14 (QuickGELU). */
  public static ClipConfig vitL14() {
    return of(768, 224, 24, 1024, 14, 16, 77, 49408, 768, 12, 12, Activation.QUICK_GELU);
  }

  /** Patches per side. */
  public int grid() {
    return imageResolution / visionPatchSize;
  }

  public int visionWidth() {
    return vision.width();
  }

  public int visionLayers() {
    return vision.layers();
  }

  public int visionHeads() {
    return vision.heads();
  }

  public int textWidth() {
    return text.width();
  }

  public int textLayers() {
    return text.layers();
  }

  public int textHeads() {
    return text.heads();
  }

  /** Each field that differs from {@code other}'s, as "name: this vs other" (empty when equal). */
  public List<String> differences(ClipConfig other) {
    List<String> d = new ArrayList<>();
    diff(d, "embed_dim", embedDim, other.embedDim);
    diff(d, "image_size", imageResolution, other.imageResolution);
    diff(d, "patch_size", visionPatchSize, other.visionPatchSize);
    diff(d, "context_length", contextLength, other.contextLength);
    diff(d, "vocab_size", vocabSize, other.vocabSize);
    tower(d, "vision.", vision, other.vision);
    tower(d, "text.", text, other.text);
    return d;
  }

  private static void tower(List<String> d, String p, ClipTower a, ClipTower b) {
    diff(d, p + "width", a.width(), b.width());
    diff(d, p + "layers", a.layers(), b.layers());
    diff(d, p + "heads", a.heads(), b.heads());
    diff(d, p + "mlp_width", a.mlpWidth(), b.mlpWidth());
    diff(d, p + "activation", a.activation(), b.activation());
    diff(d, p + "layer_norm_eps", a.layerNormEps(), b.layerNormEps());
    diff(d, p + "layer_scale", a.layerScale(), b.layerScale());
  }

  private static void diff(List<String> d, String name, Object a, Object b) {
    if (!a.equals(b)) d.add(name + ": " + a + " vs " + b);
  }

  /** The configuration in a few lines, as {@code info} prints it. */
  public String describe() {
    return String.format(Locale.ROOT, "embed %d; image %d px, patch %d (%d×%d grid); context %d, vocabulary %d%n"
        + "vision: %s%ntext:   %s", embedDim, imageResolution, visionPatchSize, grid(), grid(), contextLength, vocabSize,
        vision.describe(), text.describe());
  }
}
