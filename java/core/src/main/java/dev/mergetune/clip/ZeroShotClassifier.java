package dev.mergetune.clip;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * CLIP's zero-shot head: every class name is put into every template, the texts are encoded, each embedding is
 * L2-normalised, the template embeddings of a class are averaged and the mean normalised again (OpenAI's
 * ImageNet notebook recipe); logits = exp(logit_scale) · cos(image, class).
 *
 * <p>Immutable once built (class embeddings on the Java heap, copied out by {@link #weights()}) and thread-safe.
 */
public final class ZeroShotClassifier {
  private final List<String> classNames;
  private final float[][] weights;  // [C, embed], unit rows
  private final float scale;

  public ZeroShotClassifier(List<String> classNames, float[][] weights, float scale) {
    this.classNames = List.copyOf(classNames);
    this.weights = new float[weights.length][];
    for (int i = 0; i < weights.length; i++) this.weights[i] = weights[i].clone();
    this.scale = scale;
    if (weights.length != classNames.size()) {
      throw new IllegalArgumentException(weights.length + " class embeddings for " + classNames.size() + " classes");
    }
  }

  /**
   * Builds the class embeddings with CLIP's BPE tokenizer at the model's context length (texts that do not fit are
   * truncated, their end token kept). The text features are not cached: the model has no identity here.
   *
   * @param templates each with one {@code {}} for the class name
   */
  public static ZeroShotClassifier build(ClipModel model, dev.mergetune.clip.text.ClipTokenizer tokenizer,
      List<String> classNames, List<String> templates, FeatureExtractor extractor) {
    Objects.requireNonNull(tokenizer, "tokenizer");
    return build(model, null, TextTokenizer.of(tokenizer, model.config().contextLength(),
        dev.mergetune.clip.text.Truncation.TRUNCATE), classNames, templates, extractor);
  }

  /**
   * Builds the class embeddings. The text features are not cached: the model has no identity here (use the overload
   * with {@code modelIdentity} to cache them).
   *
   * @param templates each with one {@code {}} for the class name
   */
  public static ZeroShotClassifier build(ClipModel model, TextTokenizer tokenizer, List<String> classNames,
      List<String> templates, FeatureExtractor extractor) {
    return build(model, null, tokenizer, classNames, templates, extractor);
  }

  /**
   * Builds the class embeddings, caching the text features (when the extractor has a cache) under
   * {@code modelIdentity}, which must identify the model's weights (a file hash); null: no caching.
   *
   * @param templates each with one {@code {}} for the class name
   */
  public static ZeroShotClassifier build(ClipModel model, String modelIdentity, TextTokenizer tokenizer,
      List<String> classNames, List<String> templates, FeatureExtractor extractor) {
    Objects.requireNonNull(tokenizer, "tokenizer");
    if (classNames.isEmpty()) throw new IllegalArgumentException("no class names");
    if (templates.isEmpty()) throw new IllegalArgumentException("no templates");
    for (String t : templates) {
      if (t.indexOf("{}") < 0) throw new IllegalArgumentException("template has no '{}' for the class name: " + t);
    }
    List<String> texts = new ArrayList<>();
    for (String c : classNames) for (String t : templates) texts.add(t.replace("{}", c));
    long[][] tokens = tokenizer.tokenize(texts);
    FeatureExtractor ex = modelIdentity == null ? extractor.withoutCache() : extractor;
    float[][] f = ex.texts(model, modelIdentity == null ? "uncached" : modelIdentity,
        TokenBatches.of(tokens, "zero-shot prompts " + java.util.Arrays.deepHashCode(tokens) + "\n" + String.join("\n", texts)));
    int t = templates.size();
    int d = f[0].length;
    float[][] w = new float[classNames.size()][d];
    for (int c = 0; c < classNames.size(); c++) {
      double[] mean = new double[d];
      for (int k = 0; k < t; k++) {
        float[] row = f[c * t + k];
        double norm = norm(row);
        for (int j = 0; j < d; j++) mean[j] += row[j] / norm;
      }
      double norm = 0;
      for (double v : mean) norm += v * v;
      norm = Math.sqrt(norm);
      for (int j = 0; j < d; j++) w[c][j] = (float) (mean[j] / norm);
    }
    float scale;
    try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
      scale = model.logitScaleExp().item_float();
    }
    return new ZeroShotClassifier(classNames, w, scale);
  }

  private static double norm(float[] v) {
    double s = 0;
    for (float x : v) s += (double) x * x;
    return Math.sqrt(s);
  }

  public List<String> classNames() {
    return classNames;
  }

  /** The class embeddings [C, embed], unit rows. */
  public float[][] weights() {
    float[][] copy = new float[weights.length][];
    for (int i = 0; i < weights.length; i++) copy[i] = weights[i].clone();
    return copy;
  }

  public float scale() {
    return scale;
  }

  /** logits [n, C] for image features [n, embed] (normalised here). */
  public float[][] logits(float[][] imageFeatures) {
    float[][] out = new float[imageFeatures.length][weights.length];
    for (int i = 0; i < imageFeatures.length; i++) {
      double n = norm(imageFeatures[i]);
      for (int c = 0; c < weights.length; c++) {
        double dot = 0;
        for (int j = 0; j < weights[c].length; j++) dot += imageFeatures[i][j] * weights[c][j];
        out[i][c] = (float) (scale * dot / n);
      }
    }
    return out;
  }

  /** The k best classes of each row, best first (ties broken by the lower class index). */
  public static int[][] topK(float[][] logits, int k) {
    int[][] out = new int[logits.length][];
    for (int i = 0; i < logits.length; i++) {
      float[] row = logits[i];
      Integer[] idx = new Integer[row.length];
      for (int c = 0; c < row.length; c++) idx[c] = c;
      java.util.Arrays.sort(idx, (a, b) -> row[a] != row[b] ? Float.compare(row[b], row[a]) : Integer.compare(a, b));
      out[i] = new int[Math.min(k, row.length)];
      for (int j = 0; j < out[i].length; j++) out[i][j] = idx[j];
    }
    return out;
  }

  /** Fraction of rows whose label is among their k best classes. */
  public static double accuracy(float[][] logits, int[] labels, int k) {
    if (logits.length != labels.length) throw new IllegalArgumentException(logits.length + " rows for " + labels.length + " labels");
    if (labels.length == 0) return Double.NaN;
    int[][] top = topK(logits, k);
    int hit = 0;
    for (int i = 0; i < labels.length; i++) {
      for (int c : top[i]) if (c == labels[i]) hit++;
    }
    return hit / (double) labels.length;
  }
}
