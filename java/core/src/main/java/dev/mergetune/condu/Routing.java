package dev.mergetune.condu;

/**
 * The experts chosen for each image of a batch (methods.md §2.4): row i of {@code tasks} holds image i's task
 * indices, best first, and row i of {@code scores} their task scores w_t = max_k cos(f, P^t_k), in the same order.
 * Every row has the same length K ≥ 1 and no task twice.
 */
public record Routing(int[][] tasks, float[][] scores) {
  public Routing {
    if (tasks.length != scores.length) {
      throw new IllegalArgumentException("routing: " + tasks.length + " task rows but " + scores.length + " score rows");
    }
    int k = tasks.length == 0 ? 0 : tasks[0].length;
    if (tasks.length > 0 && k < 1) throw new IllegalArgumentException("routing: K must be >= 1, got 0");
    int[][] t = new int[tasks.length][];
    float[][] s = new float[scores.length][];
    for (int i = 0; i < tasks.length; i++) {
      if (tasks[i].length != k || scores[i].length != k) {
        throw new IllegalArgumentException("routing: image " + i + " has " + tasks[i].length + " tasks and "
            + scores[i].length + " scores, expected K = " + k);
      }
      for (int j = 0; j < k; j++) {
        if (tasks[i][j] < 0) throw new IllegalArgumentException("routing: negative task " + tasks[i][j] + " for image " + i);
        for (int m = 0; m < j; m++) {
          if (tasks[i][m] == tasks[i][j]) {
            throw new IllegalArgumentException("routing: task " + tasks[i][j] + " chosen twice for image " + i);
          }
        }
      }
      t[i] = tasks[i].clone();
      s[i] = scores[i].clone();
    }
    tasks = t;
    scores = s;
  }

  /** Task-ID mode: every one of {@code batch} images goes to {@code task} (K = 1, score 1). */
  public static Routing taskId(int batch, int task) {
    if (batch < 0) throw new IllegalArgumentException("batch size must be >= 0, got " + batch);
    if (task < 0) throw new IllegalArgumentException("task must be >= 0, got " + task);
    int[][] t = new int[batch][];
    float[][] s = new float[batch][];
    for (int i = 0; i < batch; i++) {
      t[i] = new int[] {task};
      s[i] = new float[] {1f};
    }
    return new Routing(t, s);
  }

  public int images() {
    return tasks.length;
  }

  /** K, the experts per image (0 for an empty batch). */
  public int k() {
    return tasks.length == 0 ? 0 : tasks[0].length;
  }

  @Override
  public int[][] tasks() {
    return deepClone(tasks);
  }

  @Override
  public float[][] scores() {
    float[][] out = new float[scores.length][];
    for (int i = 0; i < scores.length; i++) out[i] = scores[i].clone();
    return out;
  }

  int task(int image, int rank) {
    return tasks[image][rank];
  }

  float score(int image, int rank) {
    return scores[image][rank];
  }

  private static int[][] deepClone(int[][] a) {
    int[][] out = new int[a.length][];
    for (int i = 0; i < a.length; i++) out[i] = a[i].clone();
    return out;
  }
}
