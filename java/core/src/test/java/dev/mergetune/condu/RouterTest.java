package dev.mergetune.condu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Routing on synthetic, well-separated prototypes: 5 tasks, 3 classes each, D = 16. */
class RouterTest {
  static final int T = 5;
  static final int C = 3;
  static final int D = 16;

  /** Task t's class k points (mostly) along axis 3t + k; a little noise keeps it from being exact. */
  static List<Prototypes> prototypes(Random r) {
    List<Prototypes> out = new ArrayList<>();
    for (int t = 0; t < T; t++) {
      float[] v = new float[C * D];
      for (int k = 0; k < C; k++) {
        float[] row = new float[D];
        for (int j = 0; j < D; j++) row[j] = (float) (0.05 * r.nextGaussian());
        row[3 * t + k] += 1f;
        unit(row);
        System.arraycopy(row, 0, v, k * D, D);
      }
      out.add(new Prototypes(List.of("a", "b", "c"), D, v));
    }
    return out;
  }

  static void unit(float[] v) {
    double s = 0;
    for (float x : v) s += (double) x * x;
    double n = Math.sqrt(s);
    for (int j = 0; j < v.length; j++) v[j] = (float) (v[j] / n);
  }

  /** An image near task t's class k, with a smaller pull towards task {@code second}'s class 0. */
  static float[] image(Random r, int t, int k, int second) {
    float[] f = new float[D];
    for (int j = 0; j < D; j++) f[j] = (float) (0.02 * r.nextGaussian());
    f[3 * t + k] += 1f;
    f[3 * second] += 0.5f;
    unit(f);
    return f;
  }

  static double directScore(float[] f, Prototypes p) {
    float[] v = p.values();
    double best = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < p.classes(); k++) {
      double dot = 0, nf = 0, np = 0;
      for (int j = 0; j < p.dim(); j++) {
        dot += (double) f[j] * v[k * p.dim() + j];
        nf += (double) f[j] * f[j];
        np += (double) v[k * p.dim() + j] * v[k * p.dim() + j];
      }
      best = Math.max(best, dot / Math.sqrt(nf * np));
    }
    return best;
  }

  @Test
  void picksTheRightTaskAndOrder() {
    Random r = new Random(1);
    List<Prototypes> protos = prototypes(r);
    Router router = new Router(protos);
    int b = 20;
    float[][] f = new float[b][];
    int[] main = new int[b];
    int[] second = new int[b];
    for (int i = 0; i < b; i++) {
      main[i] = i % T;
      second[i] = (i + 1 + i / T) % T;
      if (second[i] == main[i]) second[i] = (second[i] + 1) % T;
      f[i] = image(r, main[i], i % C, second[i]);
    }
    float[][] s = router.scores(f);
    for (int i = 0; i < b; i++) {
      for (int t = 0; t < T; t++) assertEquals(directScore(f[i], protos.get(t)), s[i][t], 1e-5, "score " + i + "," + t);
    }
    Routing top1 = router.route(f, 1);
    Routing top2 = router.route(f, 2);
    for (int i = 0; i < b; i++) {
      assertEquals(main[i], top1.tasks()[i][0], "image " + i);
      assertArrayEquals(new int[] {main[i], second[i]}, top2.tasks()[i], "image " + i);
      assertEquals(s[i][main[i]], top2.scores()[i][0]);
      assertEquals(s[i][second[i]], top2.scores()[i][1]);
    }
    // K = T: every task, in descending score order
    Routing all = router.route(f, T);
    for (int i = 0; i < b; i++) {
      int[] order = all.tasks()[i];
      assertEquals(T, java.util.Arrays.stream(order).distinct().count());
      for (int m = 1; m < T; m++) assertTrue(s[i][order[m - 1]] >= s[i][order[m]]);
    }
  }

  @Test
  void tensorFeaturesGiveTheSameScores() {
    Random r = new Random(2);
    Router router = new Router(prototypes(r));
    float[][] f = {image(r, 2, 1, 4), image(r, 0, 0, 3)};
    float[] flat = new float[2 * D];
    System.arraycopy(f[0], 0, flat, 0, D);
    System.arraycopy(f[1], 0, flat, D, D);
    Tensor t = Tensor.create(flat, 2, D);
    float[][] a = router.scores(f);
    float[][] b = router.scores(t);
    for (int i = 0; i < 2; i++) assertArrayEquals(a[i], b[i]);
    assertArrayEquals(router.route(f, 3).tasks()[1], router.route(t, 3).tasks()[1]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> router.scores(Tensor.create(flat, 2L * D)));
    assertTrue(e.getMessage().contains("[B, D]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> router.scores(Tensor.create(new double[2 * D], 2, D)));
    assertTrue(e.getMessage().contains("CPU float32"), e.getMessage());
  }

  @Test
  void tiesGoToTheLowerTask() {
    Router router = new Router(prototypes(new Random(3)));
    float[][] scores = {{0.5f, 0.9f, 0.5f, 0.9f, 0.1f}, {0.2f, 0.2f, 0.2f, 0.2f, 0.2f}};
    Routing r = router.top(scores, 3);
    assertArrayEquals(new int[] {1, 3, 0}, r.tasks()[0]);
    assertArrayEquals(new int[] {0, 1, 2}, r.tasks()[1]);
  }

  @Test
  void taskIdModeRoutesEveryImageToTheTask() {
    Router router = new Router(prototypes(new Random(4)));
    Routing r = router.taskId(3, 2);
    assertEquals(1, r.k());
    for (int[] row : r.tasks()) assertArrayEquals(new int[] {2}, row);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> router.taskId(3, 5));
    assertTrue(e.getMessage().contains("out of range"), e.getMessage());
  }

  @Test
  void argumentErrors() {
    Random r = new Random(5);
    List<Prototypes> protos = prototypes(r);
    Router router = new Router(protos);
    float[][] f = {image(r, 0, 0, 1)};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> router.route(f, 0));
    assertTrue(e.getMessage().contains("K must be in [1, 5]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> router.route(f, 6));
    assertTrue(e.getMessage().contains("got 6"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> router.scores(new float[][] {new float[D - 1]}));
    assertTrue(e.getMessage().contains("feature dimension 15"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> router.top(new float[][] {new float[4]}, 2));
    assertTrue(e.getMessage().contains("4 tasks, expected 5"), e.getMessage());
    List<Prototypes> mixed = new ArrayList<>(protos);
    mixed.add(new Prototypes(List.of("x"), 8, new float[8]));
    e = assertThrows(IllegalArgumentException.class, () -> new Router(mixed));
    assertTrue(e.getMessage().contains("task 5 has prototype dimension 8"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Router(List.of()));
    assertTrue(e.getMessage().contains("no tasks"), e.getMessage());
  }
}
