package dev.mergetune.clip;

/**
 * One transformer tower of a CLIP ViT (the image tower or the text tower): its width, depth, attention heads, MLP
 * hidden width, activation, LayerNorm ε and whether each residual branch is scaled by a learnt LayerScale
 * ({@code ls_1.gamma}, {@code ls_2.gamma}, open_clip's {@code ls_init_value}).
 */
public record ClipTower(int width, int layers, int heads, int mlpWidth, Activation activation, double layerNormEps,
    boolean layerScale) {
  public ClipTower {
    if (width <= 0 || layers <= 0 || heads <= 0 || mlpWidth <= 0) {
      throw new IllegalArgumentException("a tower needs positive width, layers, heads and MLP width, got width " + width
          + ", layers " + layers + ", heads " + heads + ", MLP width " + mlpWidth);
    }
    if (width % heads != 0) {
      throw new IllegalArgumentException("width " + width + " is not divisible by " + heads + " attention heads");
    }
    if (activation == null) throw new IllegalArgumentException("a tower needs its activation (quick_gelu or gelu)");
    if (!(layerNormEps > 0) || !Double.isFinite(layerNormEps)) {
      throw new IllegalArgumentException("LayerNorm eps must be positive and finite, got " + layerNormEps);
    }
  }

  /** OpenAI's block: MLP 4·width, LayerNorm ε 1e-5, no LayerScale. */
  public static ClipTower openAi(int width, int layers, int heads, Activation activation) {
    return new ClipTower(width, layers, heads, 4 * width, activation, 1e-5, false);
  }

  /** The width of one attention head (width / heads). */
  public int headWidth() {
    return width / heads;
  }

  /** One line: width, layers, heads × head width, MLP width, activation, ε, LayerScale. */
  public String describe() {
    return String.format(java.util.Locale.ROOT, "width %d, %d layers, %d heads × %d, MLP %d, %s, LayerNorm eps %s%s",
        width, layers, heads, headWidth(), mlpWidth, activation.key(), layerNormEps, layerScale ? ", LayerScale" : "");
  }
}
