package dev.mergetune.adapt;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * Everything a training run of one adaptation method depends on, with each method's recipe as the defaults
 * ({@link #defaults}); written to the run directory as {@code run.json} (snake_case keys) and compared on resume.
 *
 * <p>Recipes (what a default follows):
 * <ul>
 *   <li>{@code coop}, {@code kgcoop}: Dassl's CoOp trainer — SGD lr 0.002, momentum 0.9, weight decay 5e-4; one
 *       constant warm-up epoch at 1e-5, then cosine per epoch; context "a photo of a" (4 vectors); CoOp's augmentation
 *       (random resized crop (0.08, 1), flip) pre-drawn into {@link #views} cached feature views; KgCoOp λ 8 to
 *       "a photo of a {}.". Batch 32 and 50 epochs are our defaults (the CoOp configs vary them with the shots).
 *   <li>{@code linear-probe}: AdamW lr 1e-3, no weight decay, 20 epochs, batch 32, cosine with no warm-up, head from
 *       the zero-shot weights, no augmentation (ours; the linear-probe code MergeTune builds on is not public).
 *   <li>{@code e2e}, {@code lora}: ConDU's full fine-tuning — AdamW (0.9, 0.999) lr 1e-5, weight decay 0, batch 64,
 *       label smoothing 0.2, 1000 iterations with a 100-step linear warm-up then cosine to 0, random resized crop
 *       (0.9, 1) without flip, the first template as the training text; LoRA rank 64, scaling 1/8 (ConDU's). LoRA uses
 *       the same optimizer settings (ConDU's LoRA learning rate is not stated where we read).
 * </ul>
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
    isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class TrainSettings {
  /** The methods {@code train} knows. */
  public enum Method {
    COOP("coop"), KGCOOP("kgcoop"), LINEAR_PROBE("linear-probe"), E2E("e2e"), LORA("lora");

    private final String key;

    Method(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }

    /** Frozen image encoder: trains on cached image features. */
    public boolean frozenImageEncoder() {
      return this == COOP || this == KGCOOP || this == LINEAR_PROBE;
    }

    public static Method parse(String s) {
      for (Method m : values()) if (m.key.equals(s.strip().toLowerCase(Locale.ROOT))) return m;
      throw new IllegalArgumentException("unknown method '" + s + "' (coop, kgcoop, linear-probe, e2e or lora)");
    }
  }

  public String method;
  public int shots;                 // per class; 0: every training sample
  public String subsample = "all";  // all | base | novel (CoOp's SUBSAMPLE_CLASSES)
  public long seed = 1;
  public int epochs;                // used when iterations is 0
  public long iterations;
  @JsonProperty("batch_size") public int batchSize;
  public String optimizer;          // sgd | adamw
  public double lr;
  public double momentum;
  @JsonProperty("weight_decay") public double weightDecay;
  public boolean nesterov;
  public double beta1 = 0.9;
  public double beta2 = 0.999;
  public double eps = 1e-8;
  public String schedule;           // constant-warmup-cosine (per epoch) | linear-warmup-cosine (per step)
  public long warmup;               // warm-up epochs (constant) or steps (linear)
  @JsonProperty("warmup_lr") public double warmupLr;
  @JsonProperty("label_smoothing") public double labelSmoothing;
  @JsonProperty("clip_norm") public double clipNorm;
  @JsonProperty("n_ctx") public int nCtx;
  @JsonProperty("ctx_init") public String ctxInit;   // null: random context of nCtx vectors
  public double lambda;             // KgCoOp
  public String template;           // KgCoOp's anchor / the E2E and LoRA training text / the probe's zero-shot init
  public int rank;
  public double scaling;
  public boolean bias;              // linear probe
  public String augment;            // none | coop | mtil
  public int views = 1;             // cached feature views of pre-drawn augmentations (frozen encoders)
  @JsonProperty("keep_best") public boolean keepBest = true;
  @JsonProperty("checkpoint_every") public long checkpointEvery;  // steps; 0: once per epoch

  public TrainSettings() {}

  /** The recipe of {@code method} (see the class comment). */
  public static TrainSettings defaults(Method method) {
    TrainSettings s = new TrainSettings();
    s.method = method.key();
    switch (method) {
      case COOP, KGCOOP -> {
        s.shots = 16;
        s.epochs = 50;
        s.batchSize = 32;
        s.optimizer = "sgd";
        s.lr = 0.002;
        s.momentum = 0.9;
        s.weightDecay = 5e-4;
        s.schedule = "constant-warmup-cosine";
        s.warmup = 1;
        s.warmupLr = 1e-5;
        s.nCtx = 4;
        s.ctxInit = "a photo of a";
        s.lambda = method == Method.KGCOOP ? CachedCoopMethod.KGCOOP_DEFAULT_LAMBDA : 0;
        s.template = "a photo of a {}.";
        s.augment = "coop";
        s.views = 10;
      }
      case LINEAR_PROBE -> {
        s.shots = 16;
        s.epochs = 20;
        s.batchSize = 32;
        s.optimizer = "adamw";
        s.lr = 1e-3;
        s.schedule = "linear-warmup-cosine";
        s.template = "a photo of a {}.";
        s.augment = "none";
        s.bias = true;
      }
      case E2E, LORA -> {
        s.shots = 0;
        s.iterations = 1000;
        s.batchSize = 64;
        s.optimizer = "adamw";
        s.lr = 1e-5;
        s.schedule = "linear-warmup-cosine";
        s.warmup = 100;
        s.labelSmoothing = 0.2;
        s.template = "a photo of a {}.";
        s.augment = "mtil";
        if (method == Method.LORA) {
          s.rank = Lora.CONDU_RANK;
          s.scaling = Lora.CONDU_SCALING;
        }
      }
      default -> throw new AssertionError(method);
    }
    return s;
  }

  /** An independent copy (every setting, as run.json would record it). */
  public TrainSettings copy() {
    return new com.fasterxml.jackson.databind.ObjectMapper().convertValue(this, TrainSettings.class);
  }

  /**
   * Sets the run's length from the options given (null: keep the recipe's): epochs, or iterations instead of
   * epochs; not both.
   */
  public TrainSettings setLength(Integer newEpochs, Long newIterations) {
    if (newEpochs != null && newIterations != null) {
      throw new IllegalArgumentException("give --epochs or --iterations, not both");
    }
    if (newEpochs != null) {
      epochs = newEpochs;
      iterations = 0;
    }
    if (newIterations != null) {
      iterations = newIterations;
      epochs = 0;
    }
    return this;
  }

  public Method parsedMethod() {
    return Method.parse(method);
  }

  /** Checks the values; the message names the setting. */
  public TrainSettings validate() {
    Method m = parsedMethod();
    require(shots >= 0, "shots must be non-negative, got " + shots);
    require(subsample.equals("all") || subsample.equals("base") || subsample.equals("novel"),
        "subsample must be all, base or novel, got '" + subsample + "'");
    require(iterations > 0 || epochs > 0, "epochs or iterations must be positive");
    require(iterations >= 0, "iterations must be non-negative");
    require(batchSize > 0, "batch size must be positive, got " + batchSize);
    require(optimizer.equals("sgd") || optimizer.equals("adamw"), "optimizer must be sgd or adamw, got '" + optimizer + "'");
    require(lr > 0 && Double.isFinite(lr), "lr must be positive, got " + lr);
    require(weightDecay >= 0 && momentum >= 0 && momentum < 1, "weight decay >= 0 and momentum in [0, 1) required");
    require(schedule.equals("constant-warmup-cosine") || schedule.equals("linear-warmup-cosine"),
        "schedule must be constant-warmup-cosine or linear-warmup-cosine, got '" + schedule + "'");
    require(!(schedule.equals("constant-warmup-cosine") && iterations > 0),
        "the constant-warmup-cosine schedule counts epochs: give --epochs, not --iterations");
    require(warmup >= 0, "warmup must be non-negative");
    require(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1), got " + labelSmoothing);
    require(clipNorm >= 0, "clip norm must be non-negative");
    require(augment.equals("none") || augment.equals("coop") || augment.equals("mtil"),
        "augment must be none, coop or mtil, got '" + augment + "'");
    require(views >= 1, "views must be at least 1, got " + views);
    require(!(augment.equals("none") && views > 1), "views > 1 needs a random augmentation (--augment coop or mtil)");
    require(checkpointEvery >= 0, "checkpoint-every must be non-negative");
    require(template != null && template.contains("{}"), "the template must contain {} for the class name");
    if (m == Method.COOP || m == Method.KGCOOP) require(ctxInit != null || nCtx > 0, "n_ctx must be positive");
    if (m == Method.KGCOOP) require(lambda >= 0, "lambda must be non-negative");
    if (m == Method.LORA) require(rank > 0 && Double.isFinite(scaling), "LoRA rank must be positive and scaling finite");
    return this;
  }

  /**
   * Checks what depends on the training set's size, before any work starts: a linear warm-up must be shorter than
   * the run ({@code trainItems} items at this batch size, Dassl's drop-last epochs, or the fixed iterations). (Dassl's
   * constant warm-up may cover every epoch.)
   */
  public TrainSettings checkSchedule(int trainItems) {
    long perEpoch = trainItems >= batchSize ? trainItems / batchSize : 1;
    if (schedule.equals("linear-warmup-cosine")) {
      long total = iterations > 0 ? iterations : perEpoch * epochs;
      String length = iterations > 0 ? iterations + " iterations" : epochs + " epochs of " + perEpoch + " steps";
      require(warmup < total, "the warm-up (--warmup " + warmup + " steps) must be shorter than the run (" + length
          + " = " + total + " steps): pass --warmup with fewer than " + total + " steps, or a longer run");
    }
    return this;
  }

  private static void require(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException(message);
  }
}
