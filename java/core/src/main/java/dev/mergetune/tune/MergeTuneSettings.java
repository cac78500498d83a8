package dev.mergetune.tune;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * MergeTune's hyper-parameters (methods.md §1) with two presets; every value can be changed after.
 *
 * <ul>
 *   <li>{@code reference-code} (the default; Surrey-UP-Lab/MERGETUNE's scripts): τ = 1 (w starts at ŵ2), the fixed
 *       α grid with N = 5, β = 1, λ = 10 after CoOp and 8 after KgCoOp, best-validation checkpoint;
 *   <li>{@code paper}: τ = 0.3 (w starts at 0.7·ŵ1 + 0.3·ŵ2, the seed's best ablation), N = 5, λ = 8, β = 0.5.
 * </ul>
 * The path term is computed by the fused K1 kernel ({@code fused}) or, for comparison, by the naive per-α loop of
 * LibTorch ops ({@code naive}).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
    isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class MergeTuneSettings {
  public String preset;
  public double lambda;
  public double beta;
  @JsonProperty("n_alpha") public int nAlpha;
  public String alphas = "grid";   // grid | sampled
  public double tau;
  public String path = "fused";    // fused | naive
  @JsonProperty("ensemble_alpha") public Double ensembleAlpha;  // optional weight ensemble with the zero-shot model

  public MergeTuneSettings() {}

  /** The preset {@code preset} for a baseline trained with {@code baselineMethod} (coop, kgcoop, …). */
  public static MergeTuneSettings preset(String preset, String baselineMethod) {
    MergeTuneSettings s = new MergeTuneSettings();
    s.preset = preset;
    s.nAlpha = 5;
    switch (preset) {
      case "reference-code" -> {
        s.tau = 1.0;
        s.beta = 1.0;
        s.lambda = baselineMethod.equals("coop") ? 10.0 : 8.0;
      }
      case "paper" -> {
        s.tau = 0.3;
        s.alphas = "grid";
        s.beta = 0.5;
        s.lambda = 8.0;
      }
      default -> throw new IllegalArgumentException("unknown preset '" + preset + "' (reference-code or paper)");
    }
    return s;
  }

  public AlphaPoints alphaPoints(long seed) {
    return alphas.equals("grid") ? AlphaPoints.grid(nAlpha) : AlphaPoints.sampled(nAlpha, seed);
  }

  public MergeTuneSettings validate() {
    if (!(lambda >= 0) || !(beta >= 0)) throw new IllegalArgumentException("lambda and beta must be non-negative");
    if (nAlpha < 1) throw new IllegalArgumentException("n-alpha must be at least 1, got " + nAlpha);
    if (!alphas.equals("grid") && !alphas.equals("sampled")) {
      throw new IllegalArgumentException("alphas must be grid or sampled, got '" + alphas + "'");
    }
    if (!(tau >= 0 && tau <= 1)) throw new IllegalArgumentException("tau must be in [0, 1], got " + tau);
    if (!path.equals("fused") && !path.equals("naive")) {
      throw new IllegalArgumentException("path must be fused or naive, got '" + path + "'");
    }
    if (ensembleAlpha != null && !(ensembleAlpha >= 0 && ensembleAlpha <= 1)) {
      throw new IllegalArgumentException("ensemble alpha must be in [0, 1], got " + ensembleAlpha);
    }
    return this;
  }
}
