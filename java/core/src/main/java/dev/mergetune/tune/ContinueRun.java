package dev.mergetune.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.adapt.CachedCoopMethod;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.FreshViewFeatures;
import dev.mergetune.adapt.TrainFeatures;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.clip.text.PromptTemplates;
import dev.mergetune.data.Dataset;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.eval.Decimals;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.eval.Report;
import dev.mergetune.train.RunDirectory;
import dev.mergetune.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code mergetune continue}: MergeTune continued fine-tuning of a finished {@code train} run (the baseline ŵ2), into a
 * run folder like {@code train}'s — and, given test data, a base-to-novel report of the zero-shot model, the baseline
 * and the continued model ({@code report/}).
 *
 * <p>CoOp and KgCoOp baselines continue in the reference code's feature space ({@link FeatureSpaceMergeTune}); linear
 * probes and end-to-end fine-tuned models in the paper's weight space ({@link WeightSpaceContinuation}).
 */
public final class ContinueRun {
  public static final String FORMAT = "mergetune-continue-run/2";
  /** The released trainer's prompt: N_CTX 4 and CTX_INIT "a photo of a" (trainer :108–117). */
  static final int RELEASED_CONTEXT_VECTORS = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ContinueRun() {}

  /**
   * What a finished continuation reports: base-to-novel rows (feature space) or test top-1 rows (weight space), in
   * percent; null without test data.
   */
  public record Result(Path dir, TrainingLoop.Result loop, Path trainedState, List<BaseToNovelRow> report,
      List<dev.mergetune.eval.AccuracyTable.Row> accuracies) {}

  /**
   * @param baselineDir the finished {@code train} run
   * @param baseline its settings (from its run.json) as this run trains with them: with the preset's own recipe
   *     ({@link MergeTuneSettings#applyTraining}) and any overrides (epochs, lr, …)
   * @param in the model, tokenizer and the same training/validation data the baseline used
   * @param test test data with every class for the base-to-novel report, or null
   */
  public static Result run(Path baselineDir, TrainSettings baseline, MergeTuneSettings mt, TrainingRun.Inputs in,
      Dataset test, Path out, boolean progress, PrintWriter log) throws IOException {
    mt.validate();
    baseline.validate();
    TrainSettings.Method method = baseline.parsedMethod();
    if (method == TrainSettings.Method.LORA) {
      throw new IllegalArgumentException("continue does not support LoRA baselines: the zero-shot model (no adapter) is"
          + " not a point of the adapters' weight space, so the anchor and the path to it are undefined there; "
          + baselineDir + " is a lora run");
    }
    boolean weightSpace = method == TrainSettings.Method.LINEAR_PROBE || method == TrainSettings.Method.E2E;
    if (!weightSpace && !mt.pathEstimator.equals("exact")) {
      throw new IllegalArgumentException("path estimator '" + mt.pathEstimator + "' is for the weight-space methods"
          + " (linear probe, e2e); the feature-space path term of a " + baseline.method + " run costs no extra pass (K1)");
    }
    if (weightSpace && (!mt.start.equals("trained") || !mt.augmentation.equals("cached"))) {
      throw new IllegalArgumentException("start 'last' and fresh augmentation are for CoOp and KgCoOp baselines; "
          + baselineDir + " is a " + baseline.method + " run");
    }
    JsonNode baselineResult = RunDirectory.readJson(baselineDir.resolve(RunDirectory.RESULT_FILE));
    Path baselineState = baselineDir.resolve(baselineResult.get("trained").asText());
    ClipModel model = in.model();
    List<String> classes = in.train().classNames();
    CoopPromptLearner learner = weightSpace ? null
        : TrainingRun.initialLearner(baseline, model, in.tokenizer(), classes);
    if (mt.released() && learner.context().size(0) != RELEASED_CONTEXT_VECTORS) {
      throw new IllegalArgumentException("the " + mt.preset + " preset continues a prompt of "
          + RELEASED_CONTEXT_VECTORS + " context vectors (the released trainer's \"a photo of a\"), but " + baselineDir
          + " trained " + learner.context().size(0));
    }
    ProcessGroupContext ctx = ProcessGroupContext.current();
    RunDirectory rd = RunDirectory.openOnMain(out, manifest(baselineDir, baseline, mt, in, test), ctx);
    if (weightSpace) {
      return WeightSpaceContinuation.run(baselineDir, baselineState, baseline, mt, in, test, rd, progress, log);
    }

    Tensor start;
    try (NoGradGuard g = new NoGradGuard()) {
      start = learner.context().detach().clone();  // ŵ1: the context the baseline started from
    }
    BaselineState w2 = BaselineState.of(baselineDir, mt.start);
    learner.load(w2.file());  // ŵ2
    String anchor = anchorTemplate(mt, baseline);
    Tensor z = CachedCoopMethod.templateFeatures(model, in.tokenizer(), classes, anchor);
    int size = model.config().imageResolution();
    Transform augment = TrainingRun.trainTransform(baseline, size);
    TrainFeatures train;
    if (mt.augmentation.equals("fresh")) {
      if (!augment.isRandom()) {
        throw new IllegalArgumentException("fresh augmentation needs a random training transform (augment coop or"
            + " mtil), not '" + baseline.augment + "'");
      }
      train = new FreshViewFeatures(model, in.train(), augment, baseline.batchSize, baseline.seed,
          baseline.iterations > 0 ? 0 : baseline.epochs, in.extractor().batchSize(), ImageBatch.defaultThreads());
      log.printf("training images: a fresh %s of each image at every step, encoded by the frozen image tower%n",
          augment.id());
    } else {
      train = TrainingRun.features(in, in.train(), augment, baseline.views, log);
    }
    CachedFeatures val = in.validation() == null ? null
        : TrainingRun.features(in, in.validation(), ClipImageTransform.of(size), 1, log);
    PathLoss path = mt.path.equals("naive") ? new NaivePathLoss() : new FusedPathLoss();
    FeatureSpaceMergeTune m = new FeatureSpaceMergeTune(learner, z, train, val, mt.lambda, mt.beta,
        mt.alphaPoints(baseline.seed), path, baseline.labelSmoothing);
    if (mt.tau != 1.0 && !rd.resuming()) m.startAt(start, mt.tau);
    log.printf(Locale.ROOT, "MergeTune (%s preset) of %s: λ %s, β %s, %s α points (%s), τ %s, path %s; ŵ2 = %s;"
        + " anchor \"%s\"; batch %d, %s, lr %s%n", mt.preset, baselineDir, Decimals.number(mt.lambda),
        Decimals.number(mt.beta), mt.nAlpha, mt.alphas, Decimals.number(mt.tau), mt.path, w2.what(), anchor,
        baseline.batchSize, baseline.iterations > 0 ? baseline.iterations + " iterations" : baseline.epochs + " epochs",
        Decimals.number(baseline.lr));
    TrainingLoop.Result r;
    try {
      r = TrainingRun.train(baseline, m, rd, progress, log, "MergeTune on " + in.train().size()
          + " images of " + classes.size() + " classes");
    } finally {
      if (train instanceof FreshViewFeatures f) f.close();
    }
    ctx.barrier("the end of training");
    Path trained = out.resolve("prompt.safetensors");
    Path ensemble = mt.ensembleAlpha == null ? null : out.resolve("ensemble-prompt.safetensors");
    List<List<BaseToNovelRow>> reported = new ArrayList<>();
    Optional<String> warning = SelectionWarning.of(baseline, r,
        Map.of("ctx", CoopPromptLearner.readContext(w2.file())), Map.of("ctx", learner.context()),
        in.validation() == null ? 0 : in.validation().size(), baseline.method);
    ctx.mainOnly("save the continued prompt and report it", () -> {
      warning.ifPresent(w -> log.printf("warning: %s%n", w));
      learner.save(trained);
      if (ensemble != null) {  // the context ensemble (1 − a)·ŵ1 + a·w, ŵ1 the baseline's initial context
        Tensor w;
        try (NoGradGuard g = new NoGradGuard()) {
          w = learner.context().detach().clone();
          learner.context().copy_(start.mul(new Scalar(1 - mt.ensembleAlpha)).add(w.mul(new Scalar(mt.ensembleAlpha))));
        }
        learner.save(ensemble);
        try (NoGradGuard g = new NoGradGuard()) {
          learner.context().copy_(w);
        }
      }
      if (test != null) {
        reported.add(report(baseline, baselineState, trained, ensemble, mt.ensembleAlpha, in, test, out, warning, log));
      }
    });
    List<BaseToNovelRow> rows = reported.isEmpty() ? null : reported.get(0);
    ObjectNode res = rd.result(FORMAT, r);
    res.put("trained", "prompt.safetensors");
    if (rows != null) {
      ObjectNode b2n = res.putObject("base_to_novel");
      for (BaseToNovelRow row : rows) {
        ObjectNode o = b2n.putObject(row.dataset());
        o.put("base", row.base());
        o.put("novel", row.novel());
        o.put("hm", row.hm());
      }
    }
    rd.finish(res);
    return new Result(out, r, trained, rows, null);
  }

  /**
   * What run.json records about a continuation (compared on resume): the baseline's folder, the MergeTune settings
   * (the anchor template resolved, the α points spelt out), the training settings and inputs ({@code training}: the
   * baseline's, with the preset's recipe and any overrides), and which baseline state ŵ2 is ({@code w2}).
   */
  public static ObjectNode manifest(Path baselineDir, TrainSettings training, MergeTuneSettings mt,
      TrainingRun.Inputs in, Dataset test) throws IOException {
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("format", FORMAT);
    manifest.put("from", baselineDir.toAbsolutePath().normalize().toString());
    ObjectNode settings = JSON.valueToTree(mt);
    TrainSettings.Method method = training.parsedMethod();
    if (method == TrainSettings.Method.COOP || method == TrainSettings.Method.KGCOOP) {
      settings.put("anchor_template", anchorTemplate(mt, training));
    }
    var points = settings.putArray("alpha_points");
    if (mt.alphas.equals("grid")) for (double a : AlphaPoints.grid(mt.nAlpha).alphas(0, new int[0])) points.add(a);
    manifest.set("mergetune", settings);
    manifest.set("training", TrainingRun.manifest(training, in));
    BaselineState w2 = BaselineState.of(baselineDir, mt.start);
    ObjectNode w = manifest.putObject("w2");
    w.put("file", baselineDir.toAbsolutePath().normalize().relativize(w2.file().toAbsolutePath().normalize())
        .toString());
    w.put("step", w2.step());
    w.put("what", w2.what());
    if (test != null) manifest.put("test", test.name() + " (" + test.size() + " images)");
    return manifest;
  }

  /** The anchor's template: the settings' own, else the baseline's; the released presets need the dataset's own. */
  static String anchorTemplate(MergeTuneSettings mt, TrainSettings baseline) {
    if (mt.anchorTemplate != null) return mt.anchorTemplate;
    if (mt.released()) {
      throw new IllegalArgumentException("the " + mt.preset + " preset anchors to the dataset's own template (the"
          + " released CUSTOM_TEMPLATES: " + String.join(", ", PromptTemplates.mergetuneDatasets()) + "); this dataset"
          + " is none of them: name the anchor template (--anchor-template, e.g. the baseline's \"" + baseline.template
          + "\")");
    }
    return baseline.template;
  }

  /** Zero-shot, baseline and MergeTune rows on the test data, written as a report under {@code out/report}. */
  static List<BaseToNovelRow> report(TrainSettings s, Path baselineState, Path continuedState, Path ensembleState,
      Double ensembleAlpha, TrainingRun.Inputs in, Dataset test, Path out, Optional<String> warning, PrintWriter log)
      throws IOException {
    ClipModel model = in.model();
    int size = model.config().imageResolution();
    BaseNovelEvaluation eval = new BaseNovelEvaluation(test,
        d -> TrainingRun.features(in, d, ClipImageTransform.of(size), 1, log));
    List<BaseToNovelRow> rows = new ArrayList<>();
    rows.add(eval.row("zero-shot", BaseNovelEvaluation.zeroShot(model, in.tokenizer(), s.template)));
    rows.add(eval.row(s.method, prompt(s, in, baselineState)));
    rows.add(eval.row(s.method + " + MergeTune", prompt(s, in, continuedState)));
    if (ensembleState != null) {
      rows.add(eval.row(s.method + " + MergeTune + ensemble " + ensembleAlpha, prompt(s, in, ensembleState)));
    }
    Report report = Report.titled("MergeTune base-to-novel: " + test.name());
    warning.ifPresent(w -> report.text("Warning: best-validation selection", w));
    report.methods("Base-to-novel on " + test.name(), rows);
    report.writeTo(out.resolve("report"));
    for (BaseToNovelRow row : rows) {
      log.printf(Locale.ROOT, "%-24s base %5.1f  novel %5.1f  HM %5.1f%n", row.dataset(), row.base(), row.novel(),
          row.hm());
    }
    log.printf("report: %s%n", out.resolve("report").resolve(Report.MARKDOWN));
    log.flush();
    return rows;
  }

  private static BaseNovelEvaluation.Prompts prompt(TrainSettings s, TrainingRun.Inputs in, Path state) {
    return BaseNovelEvaluation.coop(s, in.model(), in.tokenizer(), CoopPromptLearner.readContext(state));
  }
}
