package dev.mergetune.cli;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.DataSources;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune train}: one adaptation method (CoOp, KgCoOp, linear probe, end-to-end, LoRA) trained on a dataset
 * into a run directory ({@link TrainingRun}). Every setting defaults to the method's recipe ({@link TrainSettings});
 * an option given overrides it.
 */
@Command(name = "train", description = "Train an adaptation method (coop, kgcoop, linear-probe, e2e, lora) into a run"
    + " directory: run.json, checkpoints/, metrics.jsonl, the trained state, result.json. Re-running the same command"
    + " on an interrupted run resumes it.")
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--method", required = true, description = "coop | kgcoop | linear-probe | e2e | lora")
  String method;

  @Option(names = "--model", required = true, description = "The CLIP checkpoint to adapt")
  Path model;

  @Option(names = "--data", required = true, description = "Training data: an image folder or a dataset config"
      + " (.yaml/.json); for the coop and mtil layouts its train split is used")
  Path data;

  @Option(names = "--val", description = "Validation data (default: the val split of a coop-layout --data; else none)")
  Path val;

  @Option(names = "--out", required = true, description = "The run directory")
  Path out;

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

  @Option(names = "--vocab", description = "CLIP BPE merges; default $MERGETUNE_CLIP_VOCAB or beside the model")
  Path vocab;

  @Option(names = "--feature-batch", defaultValue = "32", description = "Batch size of feature extraction and"
      + " evaluation (default ${DEFAULT-VALUE})")
  int featureBatch;

  @Option(names = "--cache", description = "Feature cache folder (frozen-encoder methods)")
  Path cache;

  @Option(names = "--no-progress", description = "No progress bars")
  boolean noProgress;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    TrainSettings s = settings();
    Dataset train = DataSources.load(data, "train");
    Dataset validation = val != null ? DataSources.load(val, null)
        : DataSources.hasSplit(data, "val") ? DataSources.load(data, "val") : null;
    TrainingRun.Data d = TrainingRun.prepare(s, train, validation);
    ClipModel clip = ClipLoader.load(model);
    Path vocabFile = ClipInputs.vocabulary(vocab, model);
    ClipTokenizer tokenizer = ClipInputs.clipTokenizer(vocabFile, clip);
    String description = data + (val != null ? " (val " + val + ")" : "") + ", " + s.subsample + " classes, "
        + (s.shots == 0 ? "all" : s.shots) + " shots";
    TrainingRun.Inputs in = new TrainingRun.Inputs(clip, model, ClipInputs.identity(model, cache), tokenizer, vocabFile,
        d.train(), d.validation(), data, val != null ? val : validation == null ? null : data, description,
        ClipInputs.extractor(featureBatch, !noProgress, cache));
    TrainingRun.Result r = TrainingRun.run(s, in, out, !noProgress, w);
    w.printf("%s: %d steps%s; run directory %s%n", s.method, r.steps(), Double.isFinite(r.bestValidationAccuracy())
        ? String.format(", best validation accuracy %.2f%% (epoch %d)", 100 * r.bestValidationAccuracy(),
            r.bestEpoch() + 1) : "", out);
    w.flush();
    return 0;
  }

  TrainSettings settings() {
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
