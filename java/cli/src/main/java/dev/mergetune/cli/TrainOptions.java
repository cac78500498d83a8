package dev.mergetune.cli;

import dev.mergetune.adapt.TrainSettings;
import picocli.CommandLine.Option;

/**
 * The training-setting options shared by {@code train} and {@code condu add-task}: each defaults to the method's
 * recipe ({@link TrainSettings#defaults}) and overrides it when given.
 */
final class TrainOptions {
  @Option(names = "--shots", description = "Samples per class (0: all; default: the recipe's)")
  Integer shots;

  @Option(names = "--subsample", description = "all | base | novel classes (default all)")
  String subsample;

  @Option(names = "--seed", description = "Seed of the few-shot draw, batch order, augmentations and inits (default 1)")
  Long seed;

  @Option(names = "--epochs", description = "Epochs") Integer epochs;
  @Option(names = "--iterations", description = "Optimizer steps (instead of epochs)") Long iterations;
  @Option(names = "--batch", description = "Training batch size") Integer batch;
  @Option(names = "--optimizer", description = "sgd | adamw") String optimizer;
  @Option(names = "--lr", description = "Base learning rate") Double lr;
  @Option(names = "--momentum", description = "SGD momentum") Double momentum;
  @Option(names = "--weight-decay", description = "Weight decay") Double weightDecay;
  @Option(names = "--nesterov", description = "Nesterov momentum (SGD)") Boolean nesterov;
  @Option(names = "--schedule", description = "constant-warmup-cosine (per epoch) | linear-warmup-cosine (per step)")
  String schedule;
  @Option(names = "--warmup", description = "Warm-up epochs (constant) or steps (linear)") Long warmup;
  @Option(names = "--warmup-lr", description = "The constant warm-up's learning rate") Double warmupLr;
  @Option(names = "--label-smoothing", description = "Label smoothing") Double labelSmoothing;
  @Option(names = "--clip-norm", description = "Clip gradients to this global L2 norm (0: off)") Double clipNorm;
  @Option(names = "--n-ctx", description = "CoOp: context vectors of a random init") Integer nCtx;
  @Option(names = "--ctx-init", description = "CoOp: initial context text, or 'random'") String ctxInit;
  @Option(names = "--lambda", description = "KgCoOp: weight of 1 - mean cos to the template features") Double lambda;
  @Option(names = "--template", description = "KgCoOp anchor / E2E and LoRA training text / probe init: a template"
      + " with {}, or coop:DATASET | mtil:DATASET (the set's first template)") String template;
  @Option(names = "--rank", description = "LoRA rank") Integer rank;
  @Option(names = "--scaling", description = "LoRA scaling") Double scaling;
  @Option(names = "--no-bias", description = "Linear probe without a bias") boolean noBias;
  @Option(names = "--augment", description = "none | coop (RRC 0.08-1 + flip) | mtil (RRC 0.9-1)") String augment;
  @Option(names = "--views", description = "Frozen encoders: cached feature views of pre-drawn augmentations")
  Integer views;
  @Option(names = "--last", description = "Keep the last epoch's state instead of the best validation epoch's")
  boolean last;
  @Option(names = "--checkpoint-every", description = "Checkpoint every N steps (default: every epoch)")
  Long checkpointEvery;

  /** The recipe of {@code method} with every option given applied; validated. */
  TrainSettings settings(String method) {
    TrainSettings s = TrainSettings.defaults(TrainSettings.Method.parse(method));
    if (shots != null) s.shots = shots;
    if (subsample != null) s.subsample = subsample;
    if (seed != null) s.seed = seed;
    s.setLength(epochs, iterations);
    if (batch != null) s.batchSize = batch;
    if (optimizer != null) s.optimizer = optimizer;
    if (lr != null) s.lr = lr;
    if (momentum != null) s.momentum = momentum;
    if (weightDecay != null) s.weightDecay = weightDecay;
    if (nesterov != null) s.nesterov = nesterov;
    if (schedule != null) s.schedule = schedule;
    if (warmup != null) s.warmup = warmup;
    if (warmupLr != null) s.warmupLr = warmupLr;
    if (labelSmoothing != null) s.labelSmoothing = labelSmoothing;
    if (clipNorm != null) s.clipNorm = clipNorm;
    if (nCtx != null) {
      s.nCtx = nCtx;
      if (ctxInit == null) s.ctxInit = null;  // a context size asks for the random init
    }
    if (ctxInit != null) s.ctxInit = ctxInit.equals("random") ? null : ctxInit;
    if (lambda != null) s.lambda = lambda;
    if (template != null) s.template = ClipInputs.templates(template).get(0);
    if (rank != null) s.rank = rank;
    if (scaling != null) s.scaling = scaling;
    if (noBias) s.bias = false;
    if (augment != null) {
      s.augment = augment;
      if (augment.equals("none") && views == null) s.views = 1;
    }
    if (views != null) s.views = views;
    if (last) s.keepBest = false;
    if (checkpointEvery != null) s.checkpointEvery = checkpointEvery;
    if (s.iterations > 0 && s.schedule.equals("constant-warmup-cosine")) {
      throw new IllegalArgumentException("--iterations with the constant-warmup-cosine schedule: give --epochs, or"
          + " --schedule linear-warmup-cosine");
    }
    return s.validate();
  }
}
