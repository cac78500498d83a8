package dev.mergetune.tune;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.ClipFineTuneMethod;
import dev.mergetune.adapt.LinearProbe;
import dev.mergetune.adapt.LinearProbeMethod;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.data.Dataset;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.eval.Decimals;
import dev.mergetune.eval.AccuracyTable;
import dev.mergetune.eval.Report;
import dev.mergetune.kernels.ZeroShotAnchor;
import dev.mergetune.train.RunDirectory;
import dev.mergetune.train.TensorMaps;
import dev.mergetune.train.TrainableMethod;
import dev.mergetune.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The paper's weight-space MergeTune (methods.md §1.1) for linear-probe and end-to-end baselines: w starts at
 * (1 − τ)·ŵ1 + τ·ŵ2 (ŵ1 the zero-shot head / model, ŵ2 the baseline's), trains L2(w) + β·Σ ω_k L2(ŵ2 + α_k(w − ŵ2))
 * ({@link WeightSpaceMergeTune}, kernel K5) with the anchor (λ/2)‖w − ŵ1‖² folded into the optimizer step
 * ({@link AnchoredOptimizer}, kernel K2), using the baseline's optimizer and schedule. With
 * {@code ensemble_alpha} a, the weight ensemble (1 − a)·ŵ1 + a·w is written too. With test data, a report of test
 * top-1 over the training classes: zero-shot, baseline, MergeTune (and the ensemble).
 */
final class WeightSpaceContinuation {
  private WeightSpaceContinuation() {}

  static ContinueRun.Result run(Path baselineDir, Path baselineState, TrainSettings s, MergeTuneSettings mt,
      TrainingRun.Inputs in, Dataset test, RunDirectory rd, boolean progress, PrintWriter log) throws IOException {
    TrainSettings.Method method = s.parsedMethod();
    if (test != null) {
      test = TrainingRun.subsample(test, s.subsample);
      if (!test.classNames().equals(in.train().classNames())) {
        throw new IllegalArgumentException("the test data's classes " + test.classNames() + " are not the training"
            + " classes " + in.train().classNames());
      }
    }
    ClipModel model = in.model();
    int size = model.config().imageResolution();
    Transform eval = ClipImageTransform.of(size);
    TrainableMethod inner;
    Map<String, Tensor> w1;
    Map<String, Tensor> w2;
    LinearProbe probe = null;
    CachedFeatures testFeatures = null;
    Tensor tokens = null;
    if (method == TrainSettings.Method.LINEAR_PROBE) {
      for (Tensor p : model.stateDict().values()) p.set_requires_grad(false);
      probe = TrainingRun.zeroShotProbe(s, in);
      w1 = TensorMaps.copy(probe.parameters());
      LinearProbe tuned = LinearProbe.zeros((int) probe.classes(), model.config().embedDim(), probe.hasBias());
      tuned.load(baselineState);
      w2 = TensorMaps.copy(tuned.parameters());
      CachedFeatures train = TrainingRun.features(in, in.train(), TrainingRun.trainTransform(s, size), s.views, log);
      CachedFeatures val = in.validation() == null ? null : TrainingRun.features(in, in.validation(), eval, 1, log);
      inner = new LinearProbeMethod(probe, train, val, s.labelSmoothing);
      if (test != null) testFeatures = TrainingRun.features(in, test, eval, 1, log);
    } else {
      w1 = withoutLogitScale(model.stateDict());
      try (ClipModel baseline = ClipLoader.load(baselineState)) {
        if (!baseline.config().equals(model.config())) {
          throw new IllegalArgumentException(baselineState + " is a different model from " + model.origin() + ": "
              + String.join("; ", baseline.config().differences(model.config())));
        }
        w2 = withoutLogitScale(baseline.stateDict());  // copies: valid after the model is closed
      }
      tokens = TrainingRun.trainingPrompts(s, in);
      inner = ClipFineTuneMethod.endToEnd(model, tokens, in.train(), TrainingRun.trainTransform(s, size),
          in.validation(), eval, s.labelSmoothing, ImageBatch.defaultThreads(), in.extractor().batchSize());
    }
    WeightSpaceMergeTune m = new WeightSpaceMergeTune(inner, w2, mt.beta, mt.alphaPoints(s.seed),
        WeightSpaceMergeTune.Estimator.of(mt.pathEstimator));
    if (!rd.resuming()) m.startAt(w1, mt.tau);
    AnchoredOptimizer opt = s.optimizer.equals("sgd")
        ? AnchoredOptimizer.sgd(m.trainable(), w1, mt.lambda,
            new ZeroShotAnchor.Sgd(s.lr, s.momentum, 0, s.weightDecay, s.nesterov))
        : AnchoredOptimizer.adamW(m.trainable(), w1, mt.lambda,
            new ZeroShotAnchor.AdamW(s.lr, s.beta1, s.beta2, s.eps, s.weightDecay));
    log.printf(Locale.ROOT, "MergeTune, weight space (%s preset) of %s: λ %s, β %s, %s α points (%s, %s"
        + " estimator), τ %s%n", mt.preset, baselineDir, Decimals.number(mt.lambda), Decimals.number(mt.beta), mt.nAlpha,
        mt.alphas, mt.pathEstimator, Decimals.number(mt.tau));
    TrainingLoop.Result r = TrainingRun.train(s, m, opt, rd, progress, log, "MergeTune (" + s.method + ") on "
        + in.train().size() + " images of " + in.train().numClasses() + " classes");

    ProcessGroupContext ctx = ProcessGroupContext.current();
    ctx.barrier("the end of training");
    Path out = rd.dir();
    String trainedName = method == TrainSettings.Method.LINEAR_PROBE ? "probe.safetensors" : TrainingRun.MODEL_FILE;
    Path trained = out.resolve(trainedName);
    List<AccuracyTable.Row> rows = new ArrayList<>();
    LinearProbe probeF = probe;
    CachedFeatures testF = testFeatures;
    Tensor tokensF = tokens;
    Dataset testD = test;
    ctx.mainOnly("save the continued model and report it",
        () -> saveAndReport(s, mt, in, method, m, w1, w2, probeF, model, testF, tokensF, eval, testD, trained, rows, r,
            log));

    ObjectNode res = rd.result(ContinueRun.FORMAT, r);
    res.put("trained", trainedName);
    if (testD != null && rd.writes()) {
      ObjectNode acc = res.putObject("test_top1");
      for (AccuracyTable.Row row : rows) acc.put(row.dataset(), row.top1());
    }
    rd.finish(res);
    return new ContinueRun.Result(out, r, trained, null, testD == null || !rd.writes() ? null : rows);
  }

  /** Rank 0 (or the single process): the trained model, the ensemble, and the test report into {@code rows}. */
  private static void saveAndReport(TrainSettings s, MergeTuneSettings mt, TrainingRun.Inputs in,
      TrainSettings.Method method, WeightSpaceMergeTune m, Map<String, Tensor> w1, Map<String, Tensor> w2,
      LinearProbe probe, ClipModel model, CachedFeatures testFeatures, Tensor tokens, Transform eval, Dataset test,
      Path trained, List<AccuracyTable.Row> rows, TrainingLoop.Result r, PrintWriter log) throws IOException {
    Path out = trained.getParent();
    String trainedName = trained.getFileName().toString();
    Map<String, Tensor> w = TensorMaps.copy(m.trainable());
    java.util.Optional<String> warning = SelectionWarning.of(s, r, w2, w,
        in.validation() == null ? 0 : in.validation().size(), s.method);
    warning.ifPresent(text -> log.printf("warning: %s%n", text));
    save(method, probe, model, trained);
    Map<String, Tensor> ensemble = null;
    if (mt.ensembleAlpha != null) {
      ensemble = new LinkedHashMap<>();
      try (NoGradGuard g = new NoGradGuard()) {
        for (var e : w.entrySet()) {
          ensemble.put(e.getKey(), w1.get(e.getKey()).mul(new Scalar(1 - mt.ensembleAlpha))
              .add(e.getValue().mul(new Scalar(mt.ensembleAlpha))));
        }
      }
      TensorMaps.assign(m.trainable(), ensemble);
      save(method, probe, model, out.resolve("ensemble-" + trainedName));
      TensorMaps.assign(m.trainable(), w);
    }

    if (test != null) {
      TrainableMethod tester = method == TrainSettings.Method.LINEAR_PROBE
          ? new LinearProbeMethod(probe, testFeatures, testFeatures, 0)
          : ClipFineTuneMethod.endToEnd(model, tokens, in.train(), eval, test, eval, 0, ImageBatch.defaultThreads(),
              in.extractor().batchSize());
      Map<String, Map<String, Tensor>> points = new LinkedHashMap<>();
      points.put("zero-shot", w1);
      points.put(s.method, w2);
      points.put(s.method + " + MergeTune", w);
      if (ensemble != null) points.put(s.method + " + MergeTune + ensemble " + mt.ensembleAlpha, ensemble);
      for (var e : points.entrySet()) {
        TensorMaps.assign(m.trainable(), e.getValue());
        double acc;
        try (NoGradGuard g = new NoGradGuard()) {
          acc = tester.evaluate();
        }
        rows.add(AccuracyTable.Row.target(e.getKey(), 100 * acc));
        log.printf(Locale.ROOT, "%-36s test top-1 %5.1f%n", e.getKey(), 100 * acc);
      }
      TensorMaps.assign(m.trainable(), w);
      Report report = Report.titled("MergeTune (" + s.method + "): " + test.name());
      warning.ifPresent(text -> report.text("Warning: best-validation selection", text));
      report.accuracies("Test top-1 on the training classes", AccuracyTable.of(rows)).writeTo(out.resolve("report"));
      log.printf("report: %s%n", out.resolve("report").resolve(Report.MARKDOWN));
      log.flush();
    }
  }

  private static void save(TrainSettings.Method method, LinearProbe probe, ClipModel model, Path file)
      throws IOException {
    if (method == TrainSettings.Method.LINEAR_PROBE) {
      probe.save(file);
    } else {
      ClipCheckpoints.save(model, file, Map.of("mergetune.trained", "e2e+mergetune"));
    }
  }

  /** Copies of every tensor but logit_scale (never trained). */
  private static Map<String, Tensor> withoutLogitScale(Map<String, Tensor> sd) {
    Map<String, Tensor> out = new LinkedHashMap<>(sd);
    out.remove("logit_scale");
    return TensorMaps.copy(out);
  }
}
