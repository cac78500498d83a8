package dev.mergetune.protocol;

import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import dev.mergetune.eval.Decimals;
import dev.mergetune.eval.ValueList;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.eval.Decimals;
import dev.mergetune.eval.PathCurve;
import dev.mergetune.eval.ValueList;
import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.SegmentTable;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Zero-shot accuracy and loss along the straight line between two CLIP models of the same shape:
 * θ(α) = (1 − α)·θa + α·θb over every parameter (logit scale included), computed by the K4a kernel
 * ({@link Interpolation#wiseFt}) into a third model's parameters; at each α the zero-shot head is built from θ(α)
 * itself and the images are encoded by θ(α). The loss is the mean cross-entropy of those logits (exp(logit_scale)·cos)
 * against the labels, in nats.
 */
public final class InterpolationPath {
  /** The curves' names in the report. */
  public static final String ACCURACY = "zero-shot top-1";
  public static final String LOSS = "cross-entropy";

  private InterpolationPath() {}

  /** One point of the path. */
  public record Point(double alpha, double top1, double loss) {}

  /**
   * Parses α values in the project's one list syntax ({@link ValueList}: numbers and {@code start:stop:step}
   * ranges, stop included, exact decimal steps, so {@code 0:1:0.1} is 11 values ending at 1), strictly increasing,
   * at least two values.
   */
  public static double[] parseAlphas(String spec) {
    double[] a = ValueList.parse(spec, "alphas");
    if (a.length < 2) throw new IllegalArgumentException("alphas '" + spec + "': a path needs at least 2 values");
    for (int i = 1; i < a.length; i++) {
      if (a[i] <= a[i - 1]) {
        throw new IllegalArgumentException("alphas '" + spec + "': values must increase (" + Decimals.alpha(a[i])
            + " after " + Decimals.alpha(a[i - 1]) + ")");
      }
    }
    return a;
  }

  /**
   * Evaluates the path. {@code a} and {@code b} are left unchanged; the interpolated weights live in a third model.
   *
   * @param log one line per α, or null
   */
  public static List<Point> sweep(ClipModel a, ClipModel b, double[] alphas, ClassificationTask task, int[] labels,
      TextTokenizer tokenizer, FeatureExtractor extractor, PrintWriter log) {
    if (!a.config().equals(b.config())) {
      throw new IllegalArgumentException("the two models are different models (configurations from " + a.origin()
          + " and " + b.origin() + "): " + String.join("; ", a.config().differences(b.config())));
    }
    if (labels.length != task.images().size()) {
      throw new IllegalArgumentException(labels.length + " labels for " + task.images().size() + " images");
    }
    ClipModel mid = new ClipModel(a.config());
    Map<String, Tensor> sa = a.stateDict();
    Map<String, Tensor> sb = b.stateDict();
    Map<String, Tensor> sm = mid.stateDict();
    SegmentTable ta = SegmentTable.ofTensors(sa);
    SegmentTable tb = SegmentTable.ofTensors(sb);
    SegmentTable tm = SegmentTable.ofTensors(sm);
    ZeroShotClip classifier = new ZeroShotClip(mid, null, tokenizer, extractor);
    List<Point> points = new ArrayList<>();
    try (ProgressTask bar = Progress.installed().start("path", alphas.length, "α point")) {
    for (double alpha : alphas) {
      try (NoGradGuard g = new NoGradGuard()) {
        Interpolation.wiseFt(tm, ta, tb, (float) alpha);
      }
      float[][] logits = classifier.logits(task);
      Point p = new Point(alpha, Accuracy.top1(logits, labels), crossEntropy(logits, labels));
      points.add(p);
      if (log != null) {
        log.println(String.format(Locale.ROOT, "α %s: top-1 %.1f%%, loss %.4f", Decimals.alpha(alpha), p.top1(),
            p.loss()));
        log.flush();
      }
      bar.step(1);
    }
    }
    return List.copyOf(points);
  }

  /** The accuracy and loss curves of a sweep, for {@link dev.mergetune.eval.Report#path}. */
  public static List<PathCurve> curves(List<Point> points) {
    double[] alphas = new double[points.size()];
    double[] acc = new double[points.size()];
    double[] loss = new double[points.size()];
    for (int i = 0; i < alphas.length; i++) {
      alphas[i] = points.get(i).alpha();
      acc[i] = points.get(i).top1();
      loss[i] = points.get(i).loss();
    }
    return List.of(new PathCurve(LOSS, PathCurve.Quantity.LOSS, alphas, loss),
        new PathCurve(ACCURACY, PathCurve.Quantity.ACCURACY, alphas, acc));
  }

  /** Mean over rows of logsumexp(row) − row[label], in double. */
  public static double crossEntropy(float[][] logits, int[] labels) {
    if (logits.length != labels.length || logits.length == 0) {
      throw new IllegalArgumentException(logits.length + " rows of logits for " + labels.length + " labels");
    }
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (float v : logits[i]) max = Math.max(max, v);
      double s = 0;
      for (float v : logits[i]) s += Math.exp(v - max);
      sum += max + Math.log(s) - logits[i][labels[i]];
    }
    return sum / logits.length;
  }

}
