package dev.mergetune.condu;

import java.util.ArrayList;
import java.util.List;

/**
 * Semantic aggregation (methods.md §2.4): the logits of an image are the mean of θ0's and its K routed experts'.
 *
 * <p>Unweighted (default, what the reference code does): every one of the K + 1 models gets 1/(K+1). Weighted (the
 * paper's wording): θ0 keeps 1/(K+1) and the experts share K/(K+1) in proportion to softmax(scale·w) over the image's
 * K task scores w; equal scores give back the unweighted mean, and K = 1 is always unweighted.
 *
 * <p>Images are grouped by expert: each expert some image selected is asked for its logits once per batch, the
 * others never. Because an image's result only reads the rows of its own experts, this equals the reference's
 * "run every expert on the whole batch, then gather the top K", at K/T of the expert cost.
 */
public final class SemanticAggregation {
  private final boolean weighted;
  private final double scale;

  private SemanticAggregation(boolean weighted, double scale) {
    this.weighted = weighted;
    this.scale = scale;
  }

  public static SemanticAggregation unweighted() {
    return new SemanticAggregation(false, 0);
  }

  /** @param scale multiplies the cosine task scores before the softmax (e.g. 100, CLIP's logit scale) */
  public static SemanticAggregation weighted(double scale) {
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("weighted aggregation: scale must be finite and >= 0, got " + scale);
    }
    return new SemanticAggregation(true, scale);
  }

  public boolean isWeighted() {
    return weighted;
  }

  /** Aggregated logits [B, C] and their argmax. */
  public record Result(float[][] logits, int[] predictions) {}

  public Result aggregate(Routing routing, ExpertLogits models) {
    int b = routing.images();
    int k = routing.k();
    int[] everyImage = new int[b];
    for (int i = 0; i < b; i++) everyImage[i] = i;
    float[][] base = check(models.logits(ExpertLogits.THETA0, everyImage), everyImage, b, -1, "θ0");
    int c = b == 0 ? 0 : base[0].length;
    double[][] acc = new double[b][c];
    double own = 1.0 / (k + 1);
    for (int i = 0; i < b; i++) for (int j = 0; j < c; j++) acc[i][j] = own * base[i][j];

    // images (and the rank at which they chose it) per expert
    List<List<int[]>> users = new ArrayList<>();
    for (int i = 0; i < b; i++) {
      for (int r = 0; r < k; r++) {
        int t = routing.task(i, r);
        while (users.size() <= t) users.add(new ArrayList<>());
        users.get(t).add(new int[] {i, r});
      }
    }
    double[][] weights = weights(routing);
    for (int t = 0; t < users.size(); t++) {
      if (users.get(t).isEmpty()) continue;
      int[] rows = users.get(t).stream().mapToInt(u -> u[0]).distinct().sorted().toArray();
      float[][] l = check(models.logits(t, rows), rows, b, c, "expert " + t);
      for (int[] u : users.get(t)) {
        int i = u[0];
        double w = weights[i][u[1]];
        for (int j = 0; j < c; j++) acc[i][j] += w * l[i][j];
      }
    }
    float[][] out = new float[b][c];
    for (int i = 0; i < b; i++) for (int j = 0; j < c; j++) out[i][j] = (float) acc[i][j];
    return new Result(out, argmax(out));
  }

  /** The weight of each image's rank-r expert (see the class documentation). */
  double[][] weights(Routing routing) {
    int b = routing.images();
    int k = routing.k();
    double share = (double) k / (k + 1);
    double[][] w = new double[b][k];
    for (int i = 0; i < b; i++) {
      if (!weighted) {
        for (int r = 0; r < k; r++) w[i][r] = 1.0 / (k + 1);
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int r = 0; r < k; r++) max = Math.max(max, scale * routing.score(i, r));
      double sum = 0;
      for (int r = 0; r < k; r++) sum += w[i][r] = Math.exp(scale * routing.score(i, r) - max);
      for (int r = 0; r < k; r++) w[i][r] = share * w[i][r] / sum;
    }
    return w;
  }

  /** Row-wise argmax, ties to the lower class. */
  public static int[] argmax(float[][] logits) {
    int[] out = new int[logits.length];
    for (int i = 0; i < logits.length; i++) {
      int best = 0;
      for (int j = 1; j < logits[i].length; j++) if (logits[i][j] > logits[i][best]) best = j;
      out[i] = best;
    }
    return out;
  }

  private static float[][] check(float[][] l, int[] rows, int b, int c, String who) {
    if (l == null) throw new IllegalArgumentException("aggregation: no logits from " + who);
    if (l.length != b) {
      throw new IllegalArgumentException("aggregation: " + who + " gave " + l.length + " rows for a batch of " + b);
    }
    int want = c >= 0 ? c : (b == 0 || l[0] == null ? 0 : l[0].length);
    for (int i : rows) {
      if (l[i] == null) throw new IllegalArgumentException("aggregation: " + who + " gave no logits for image " + i);
      if (l[i].length != want) {
        throw new IllegalArgumentException("aggregation: " + who + " gave " + l[i].length + " classes in row " + i
            + ", expected " + want);
      }
    }
    return l;
  }
}
