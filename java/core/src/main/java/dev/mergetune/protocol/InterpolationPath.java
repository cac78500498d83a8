package dev.mergetune.protocol;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.eval.PathCurve;
import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.SegmentTable;
import java.io.PrintWriter;
import java.math.BigDecimal;
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
   * Parses α values: {@code start:stop:step} (step > 0; stop included when start + k·step reaches it, computed in
   * exact decimal arithmetic, so {@code 0:1:0.1} is 11 values ending at 1) or a comma list, strictly increasing, at
   * least two values.
   */
  public static double[] parseAlphas(String spec) {
    if (spec == null || spec.isBlank()) throw new IllegalArgumentException("no alphas given");
    String s = spec.strip();
    List<Double> out = new ArrayList<>();
    try {
      if (s.contains(":")) {
        String[] p = s.split(":", -1);
        if (p.length != 3) throw new IllegalArgumentException("alphas '" + spec + "': expected start:stop:step");
        BigDecimal start = new BigDecimal(p[0].strip());
        BigDecimal stop = new BigDecimal(p[1].strip());
        BigDecimal step = new BigDecimal(p[2].strip());
        if (step.signum() <= 0) throw new IllegalArgumentException("alphas '" + spec + "': the step must be > 0");
        if (stop.compareTo(start) <= 0) throw new IllegalArgumentException("alphas '" + spec + "': stop must exceed start");
        BigDecimal count = stop.subtract(start).divide(step, java.math.MathContext.DECIMAL64);
        if (count.compareTo(BigDecimal.valueOf(10_000)) > 0) {
          throw new IllegalArgumentException("alphas '" + spec + "': more than 10000 values");
        }
        for (BigDecimal a = start; a.compareTo(stop) <= 0; a = a.add(step)) out.add(a.doubleValue());
      } else {
        for (String v : s.split(",", -1)) out.add(Double.parseDouble(v.strip()));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("alphas '" + spec + "': not a number (" + e.getMessage() + ")");
    }
    if (out.size() < 2) throw new IllegalArgumentException("alphas '" + spec + "': a path needs at least 2 values");
    double[] a = new double[out.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = out.get(i);
      if (!Double.isFinite(a[i])) throw new IllegalArgumentException("alphas '" + spec + "': " + a[i] + " is not finite");
      if (i > 0 && a[i] <= a[i - 1]) {
        throw new IllegalArgumentException("alphas '" + spec + "': values must increase (" + a[i] + " after " + a[i - 1] + ")");
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
    for (double alpha : alphas) {
      try (NoGradGuard g = new NoGradGuard()) {
        Interpolation.wiseFt(tm, ta, tb, (float) alpha);
      }
      float[][] logits = classifier.logits(task);
      Point p = new Point(alpha, Accuracy.top1(logits, labels), crossEntropy(logits, labels));
      points.add(p);
      if (log != null) {
        log.println(String.format(Locale.ROOT, "alpha %s: top-1 %.2f%%, loss %.4f", trim(alpha), p.top1(), p.loss()));
        log.flush();
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

  private static String trim(double v) {
    return new BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
  }
}
