package dev.mergetune.cli;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.text.PromptTemplates;
import dev.mergetune.data.DataSources;
import dev.mergetune.data.DatasetConfig;
import dev.mergetune.data.Dataset;
import dev.mergetune.tune.ContinueRun;
import dev.mergetune.tune.MergeTuneSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune continue --from BASELINE_RUN --out RUN}: MergeTune continued fine-tuning of a finished
 * {@code train} run ({@link ContinueRun}), on the same model and data, with a base-to-novel report when test data is
 * known.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "continue", description = "MergeTune: continue a finished train run (CoOp, KgCoOp in feature space;"
    + " linear-probe, e2e in weight space) towards the zero-shot model's knowledge; writes a run directory like train's"
    + " and, with test data, a report of the zero-shot model, the baseline and the continued model (base/novel/HM for"
    + " CoOp and KgCoOp, test top-1 for the others).")
final class ContinueCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--from", required = true, description = "The baseline's run directory (train --out)")
  Path from;

  @Option(names = "--out", required = true, description = "The new run directory")
  Path out;

  @Option(names = "--preset", description = "mergetune-coop | mergetune-kgcoop (the released recipes exactly: batch"
      + " 128, 100 epochs, SGD 0.002 with one constant warm-up epoch, lambda 10 after CoOp / 8 after KgCoOp, beta 1, N"
      + " 5, tau 1, w2 = the baseline's last epoch, fresh crops every step, the dataset's own anchor template) |"
      + " reference-code (the released loss on the baseline's own recipe and cached views; the default for CoOp and"
      + " KgCoOp) | paper (tau 0.3, lambda 8, beta 0.5; the default for linear-probe and e2e baselines, whose code"
      + " is not public)")
  String preset;

  @Option(names = "--anchor-template", description = "The zero-shot anchor's template, or mergetune:DATASET /"
      + " coop:DATASET (default: the released table's entry for the baseline's dataset with the mergetune-* presets,"
      + " the baseline's template otherwise)")
  String anchorTemplate;

  @Option(names = "--start", description = "w2: trained (the state the baseline kept) | last (its last epoch)")
  String start;

  @Option(names = "--augmentation", description = "cached (the baseline's pre-drawn views) | fresh (a new crop of"
      + " every image at every step, encoded by the frozen image tower)")
  String augmentation;

  @Option(names = "--ensemble", description = "Also write the weight ensemble (1 - a) w1 + a w (linear probe, e2e)")
  Double ensemble;

  @Option(names = "--lambda", description = "Weight of the zero-shot anchor") Double lambda;
  @Option(names = "--beta", description = "Weight of the path term") Double beta;
  @Option(names = "--n-alpha", description = "Interpolation points") Integer nAlpha;
  @Option(names = "--alphas", description = "grid (numpy arange(0.1, 1.01, 1/N)) | sampled (uniform per step)")
  String alphas;
  @Option(names = "--tau", description = "Start at (1 - tau) w1 + tau w2") Double tau;
  @Option(names = "--path", description = "fused (the K1 kernel; default) | naive (one LibTorch pass per alpha)")
  String path;
  @Option(names = "--path-estimator", description = "Linear probe / e2e: exact (every alpha on the whole batch;"
      + " default) | batch-split (each alpha on its own slice of the batch: two passes per step, unbiased)")
  String pathEstimator;
  @Option(names = "--epochs", description = "Epochs (default: the baseline's)") Integer epochs;
  @Option(names = "--iterations", description = "Optimizer steps instead of epochs (default: the baseline's)")
  Long iterations;
  @Option(names = "--lr", description = "Learning rate (default: the baseline's)") Double lr;
  @Option(names = "--batch", description = "Batch size (default: the baseline's)") Integer batch;
  @Option(names = "--checkpoint-every", description = "Checkpoint every N steps (default: every epoch)")
  Long checkpointEvery;

  @Option(names = "--test", description = "Test data with every class for the base-to-novel report (default: the"
      + " test split of the baseline's data when it has one)")
  Path test;

  @Option(names = "--no-report", description = "No test report, even where the baseline's data has a test split (the"
      + " continued prompt is evaluated elsewhere, as reproduce does for the cross-dataset tables)")
  boolean noReport;

  @Option(names = "--feature-batch", defaultValue = "32", description = "Feature extraction batch (default ${DEFAULT-VALUE})")
  int featureBatch;

  @Option(names = "--cache", description = "Feature cache folder") Path cache;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    BaselineRun baseline = BaselineRun.read(from);
    TrainSettings s = baseline.settings();
    String p = preset != null ? preset
        : s.method.equals("coop") || s.method.equals("kgcoop") ? MergeTuneSettings.REFERENCE_CODE
            : MergeTuneSettings.PAPER;
    MergeTuneSettings mt = MergeTuneSettings.preset(p, s.method);
    mt.applyTraining(s);  // the released presets' own recipe; the options below override it
    s.setLength(epochs, iterations);
    if (lr != null) s.lr = lr;
    if (batch != null) s.batchSize = batch;
    if (checkpointEvery != null) s.checkpointEvery = checkpointEvery;
    if (ensemble != null) mt.ensembleAlpha = ensemble;
    if (lambda != null) mt.lambda = lambda;
    if (beta != null) mt.beta = beta;
    if (nAlpha != null) mt.nAlpha = nAlpha;
    if (alphas != null) mt.alphas = alphas;
    if (tau != null) mt.tau = tau;
    if (path != null) mt.path = path;
    if (pathEstimator != null) mt.pathEstimator = pathEstimator;
    if (start != null) mt.start = start;
    if (augmentation != null) mt.augmentation = augmentation;
    Path data = baseline.dataPath();
    if (anchorTemplate != null) {
      mt.anchorTemplate = ClipInputs.templates(anchorTemplate).get(0);
    } else if (mt.released()) {
      mt.anchorTemplate = releasedAnchor(data);
    }
    mt.validate();

    Dataset testSet = noReport ? null : test != null ? DataSources.load(test, null) : baseline.defaultTest();
    TrainingRun.Inputs in = baseline.inputs(s, featureBatch, cache);
    ContinueRun.Result r = ContinueRun.run(from, s, mt, in, testSet, out, GlobalOptions.progress(), w);
    w.printf("MergeTune: %d steps; run directory %s%n", r.loop().steps(), out);
    if (r.report() == null && r.accuracies() == null) w.println(noReport ? "--no-report: no report" : "no test data: no report");
    w.flush();
    return 0;
  }

  /**
   * The released CUSTOM_TEMPLATES entry for the dataset at {@code data} (a dataset config's name, else the folder's
   * name), or null when it has none (the run then asks for --anchor-template).
   */
  static String releasedAnchor(Path data) {
    String name = Files.isDirectory(data) ? data.getFileName().toString() : DatasetConfig.read(data).name();
    try {
      return PromptTemplates.mergetune(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

}
