package dev.mergetune.tune;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.mergetune.adapt.TrainSettings;

/**
 * MergeTune's hyper-parameters (methods.md §1) with four presets; every value can be changed after.
 *
 * <ul>
 *   <li>{@code mergetune-coop}, {@code mergetune-kgcoop}: the released recipes exactly as Surrey-UP-Lab/MERGETUNE
 *       (commit 6e211bc) runs them after a CoOp / KgCoOp baseline — the trainer {@code trainers/kgcoop_coop_LMC.py},
 *       its config {@code configs/trainers/KgCoOp_COOP_LMC/vit_b16_ep100_ctxv1.yaml}, the scripts
 *       {@code scripts/coop_LMC/base2new_train_coop.sh} and {@code scripts/kgcoop_LMC/base2new_train_kgcoop.sh},
 *       {@code train.py}'s config defaults and the bundled Dassl's ({@code Dassl.ProGrad.pytorch/dassl/config/
 *       defaults.py}). Beside the loss terms: its own training recipe ({@link #applyTraining}: batch 128, 100
 *       epochs, ...), ŵ2 = the baseline's last epoch ({@code start: last}), a fresh random-resized crop and flip
 *       of every image at every step ({@code augmentation: fresh}) and the dataset's own anchor template
 *       ({@code anchor_template}, from the released {@code CUSTOM_TEMPLATES}: the caller sets it). λ is what
 *       reaches the trainer as {@code TRAINER.COOP.W}: 10 after CoOp (the README's and train.sh's argument), 8
 *       after KgCoOp (the KgCoOp script reads W and W_LMC but never passes them, so train.py's defaults W = 8,
 *       W_LMC = 1 apply). File and line of each value: the README's table and {@code ReleasedRecipesTest}.
 *   <li>{@code reference-code} (the released loss on the baseline's own training recipe): τ = 1 (w starts at ŵ2),
 *       the fixed α grid with N = 5, β = 1, λ = 10 after CoOp and 8 after KgCoOp, best-validation selection; ŵ2
 *       the baseline's kept state, its cached augmentation views, its anchor template;
 *   <li>{@code paper}: τ = 0.3 (w starts at 0.7·ŵ1 + 0.3·ŵ2, the seed's best ablation), N = 5, λ = 8, β = 0.5.
 * </ul>
 * The path term is computed by the fused K1 kernel ({@code fused}) or, for comparison, by the naive per-α loop of
 * LibTorch ops ({@code naive}). In weight space (linear probe, E2E) the path term's estimator is {@code exact} or
 * {@code batch-split} ({@link #pathEstimator}).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
    isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class MergeTuneSettings {
  public static final String MERGETUNE_COOP = "mergetune-coop";
  public static final String MERGETUNE_KGCOOP = "mergetune-kgcoop";
  public static final String REFERENCE_CODE = "reference-code";
  public static final String PAPER = "paper";

  public String preset;
  public double lambda;
  public double beta;
  @JsonProperty("n_alpha") public int nAlpha;
  public String alphas = "grid";   // grid | sampled
  public double tau;
  public String path = "fused";    // fused | naive
  /**
   * Weight space only: {@code exact} (every α point on the whole batch) | {@code batch-split} (each point on its own
   * slice of the batch; {@link WeightSpaceMergeTune.Estimator}).
   */
  @JsonProperty("path_estimator") public String pathEstimator = "exact";
  @JsonProperty("ensemble_alpha") public Double ensembleAlpha;  // optional weight ensemble with the zero-shot model
  /** The anchor's template (z = its normalised text features per class); null: the baseline's template. */
  @JsonProperty("anchor_template") public String anchorTemplate;
  /** ŵ2: {@code trained} (the state the baseline kept: its best-validation epoch by default) | {@code last}. */
  public String start = "trained";
  /** The training images: {@code cached} (the baseline's pre-drawn views) | {@code fresh} (new crops every step). */
  public String augmentation = "cached";

  public MergeTuneSettings() {}

  /** The preset {@code preset} for a baseline trained with {@code baselineMethod} (coop, kgcoop, …). */
  public static MergeTuneSettings preset(String preset, String baselineMethod) {
    MergeTuneSettings s = new MergeTuneSettings();
    s.preset = preset;
    s.nAlpha = 5;
    switch (preset) {
      case MERGETUNE_COOP, MERGETUNE_KGCOOP -> {
        String needs = preset.equals(MERGETUNE_COOP) ? "coop" : "kgcoop";
        if (!needs.equals(baselineMethod)) {
          throw new IllegalArgumentException("the " + preset + " preset continues a " + needs + " baseline (the"
              + " released script resumes from one), not a " + baselineMethod + " run; use "
              + (baselineMethod.equals("coop") ? MERGETUNE_COOP : baselineMethod.equals("kgcoop") ? MERGETUNE_KGCOOP
                  : REFERENCE_CODE + " or " + PAPER));
        }
        s.tau = 1.0;             // trainer :463 copies the loaded context into the learned one
        s.beta = 1.0;            // W_LMC: script argument 1.0 (CoOp), train.py :107 default (KgCoOp)
        s.lambda = needs.equals("coop") ? 10.0 : 8.0;  // W: README :89 argument (CoOp), train.py :103 (KgCoOp)
        s.start = "last";        // trainer :437, prompt_learner/model.pth.tar-100
        s.augmentation = "fresh";  // yaml :13, Dassl's loader draws new crops every step
      }
      case REFERENCE_CODE -> {
        s.tau = 1.0;
        s.beta = 1.0;
        s.lambda = baselineMethod.equals("coop") ? 10.0 : 8.0;
      }
      case PAPER -> {
        s.tau = 0.3;
        s.alphas = "grid";
        s.beta = 0.5;
        s.lambda = 8.0;
      }
      default -> throw new IllegalArgumentException("unknown preset '" + preset + "' (" + MERGETUNE_COOP + ", "
          + MERGETUNE_KGCOOP + ", " + REFERENCE_CODE + " or " + PAPER + ")");
    }
    return s;
  }

  /** Whether this is one of the released recipes ({@code mergetune-coop}, {@code mergetune-kgcoop}). */
  public boolean released() {
    return MERGETUNE_COOP.equals(preset) || MERGETUNE_KGCOOP.equals(preset);
  }

  /**
   * Puts the preset's own training recipe into {@code t} (the baseline's settings, to be trained with): only the
   * released presets have one — {@code configs/trainers/KgCoOp_COOP_LMC/vit_b16_ep100_ctxv1.yaml} (batch 128 :3,
   * SGD :16, lr 0.002 :17, 100 epochs :18, cosine :19, one constant warm-up epoch at 1e-5 :20–22, random resized
   * crop + flip :13) over the bundled Dassl's defaults (momentum 0.9, weight decay 5e-4, no dampening or Nesterov,
   * crop scale (0.08, 1)), plain cross-entropy (trainer :535, :549), best-validation selection (train.py :165).
   * The other presets keep the baseline's recipe.
   */
  public TrainSettings applyTraining(TrainSettings t) {
    if (!released()) return t;
    t.epochs = 100;
    t.iterations = 0;
    t.batchSize = 128;
    t.optimizer = "sgd";
    t.lr = 0.002;
    t.momentum = 0.9;
    t.weightDecay = 5e-4;
    t.nesterov = false;
    t.schedule = "constant-warmup-cosine";
    t.warmup = 1;
    t.warmupLr = 1e-5;
    t.labelSmoothing = 0;
    t.clipNorm = 0;
    t.augment = "coop";
    t.keepBest = true;
    return t;
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
    WeightSpaceMergeTune.Estimator.of(pathEstimator);
    if (ensembleAlpha != null && !(ensembleAlpha >= 0 && ensembleAlpha <= 1)) {
      throw new IllegalArgumentException("ensemble alpha must be in [0, 1], got " + ensembleAlpha);
    }
    if (!start.equals("trained") && !start.equals("last")) {
      throw new IllegalArgumentException("start must be trained or last, got '" + start + "'");
    }
    if (!augmentation.equals("cached") && !augmentation.equals("fresh")) {
      throw new IllegalArgumentException("augmentation must be cached or fresh, got '" + augmentation + "'");
    }
    if (anchorTemplate != null) dev.mergetune.clip.text.PromptTemplates.format(anchorTemplate, "x");  // one {}
    return this;
  }
}
