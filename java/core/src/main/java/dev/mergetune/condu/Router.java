package dev.mergetune.condu;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Semantic routing (methods.md §2.4): the score of task t for an image feature f is w_t = max_k cos(f, P^t_k) over
 * the task's class prototypes; an image keeps its K best tasks, ties to the lower task index.
 */
public final class Router {
  private final List<Prototypes> tasks;
  private final int dim;

  /** @param tasks the prototypes of every task, in task order (unit rows, same dimension) */
  public Router(List<Prototypes> tasks) {
    if (tasks.isEmpty()) throw new IllegalArgumentException("router: no tasks");
    this.tasks = List.copyOf(tasks);
    this.dim = tasks.get(0).dim();
    for (int t = 0; t < tasks.size(); t++) {
      Prototypes p = tasks.get(t);
      if (p.dim() != dim) {
        throw new IllegalArgumentException("router: task " + t + " has prototype dimension " + p.dim()
            + ", task 0 has " + dim);
      }
      if (p.classes() < 1) throw new IllegalArgumentException("router: task " + t + " has no class prototypes");
    }
  }

  public int tasks() {
    return tasks.size();
  }

  public int dim() {
    return dim;
  }

  /**
   * Task scores [B, T]. Features are meant to be normalised; they are divided by their norm anyway, so the scores
   * are cosines either way.
   */
  public float[][] scores(float[][] features) {
    float[][] out = new float[features.length][tasks.size()];
    List<float[]> protos = new ArrayList<>();
    for (Prototypes p : tasks) protos.add(p.values());
    for (int i = 0; i < features.length; i++) {
      float[] f = features[i];
      if (f.length != dim) {
        throw new IllegalArgumentException("router: image " + i + " has feature dimension " + f.length
            + ", prototypes have " + dim);
      }
      double norm = 0;
      for (float x : f) norm += (double) x * x;
      norm = Math.sqrt(norm);
      if (norm == 0) throw new IllegalArgumentException("router: image " + i + " has a zero feature");
      for (int t = 0; t < tasks.size(); t++) {
        float[] p = protos.get(t);
        double best = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < tasks.get(t).classes(); k++) {
          double dot = 0;
          for (int j = 0; j < dim; j++) dot += (double) f[j] * p[k * dim + j];
          best = Math.max(best, dot);
        }
        out[i][t] = (float) (best / norm);
      }
    }
    return out;
  }

  /** Task scores for a CPU float32 feature tensor [B, D]. */
  public float[][] scores(Tensor features) {
    return scores(rows(features));
  }

  /** The K best tasks of each image (ties to the lower task index), with their scores. */
  public Routing route(float[][] features, int k) {
    return top(scores(features), k);
  }

  public Routing route(Tensor features, int k) {
    return route(rows(features), k);
  }

  /** The K best columns of each score row, best first, ties to the lower index. */
  public Routing top(float[][] scores, int k) {
    int t = tasks.size();
    if (k < 1 || k > t) throw new IllegalArgumentException("router: K must be in [1, " + t + "] (tasks), got " + k);
    int[][] idx = new int[scores.length][k];
    float[][] val = new float[scores.length][k];
    for (int i = 0; i < scores.length; i++) {
      float[] row = scores[i];
      if (row.length != t) {
        throw new IllegalArgumentException("router: score row " + i + " has " + row.length + " tasks, expected " + t);
      }
      boolean[] taken = new boolean[t];
      for (int r = 0; r < k; r++) {
        int best = -1;
        // strict '>' keeps the lower index on ties; NaN never wins over a number
        for (int c = 0; c < t; c++) {
          if (!taken[c] && (best < 0 || row[c] > row[best] || (Float.isNaN(row[best]) && !Float.isNaN(row[c])))) best = c;
        }
        taken[best] = true;
        idx[i][r] = best;
        val[i][r] = row[best];
      }
    }
    return new Routing(idx, val);
  }

  /** Task-ID mode: all images of the batch go to {@code task}. */
  public Routing taskId(int batch, int task) {
    if (task < 0 || task >= tasks.size()) {
      throw new IllegalArgumentException("router: task " + task + " out of range [0, " + tasks.size() + ")");
    }
    return Routing.taskId(batch, task);
  }

  private static float[][] rows(Tensor t) {
    if (t.dim() != 2) throw new IllegalArgumentException("router: features must be [B, D], got " + t.dim() + " dimensions");
    if (t.scalar_type().value != org.bytedeco.pytorch.global.torch.ScalarType.Float.value || !t.device().is_cpu()) {
      throw new IllegalArgumentException("router: features must be a CPU float32 tensor (copy them there first)");
    }
    int b = Math.toIntExact(t.size(0));
    int d = Math.toIntExact(t.size(1));
    float[][] out = new float[b][d];
    if (b == 0 || d == 0) return out;
    Tensor c = t.contiguous();
    FloatBuffer buf = (FloatBuffer) c.createBuffer();
    for (int i = 0; i < b; i++) buf.get(out[i]);
    return out;
  }
}
