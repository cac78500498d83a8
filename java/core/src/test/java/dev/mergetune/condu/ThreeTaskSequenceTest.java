package dev.mergetune.condu;

import static dev.mergetune.condu.Models.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three sessions on a small model of odd-sized tensors (a 0-d one included, like logit_scale) through
 * {@link ConduSessions} and the store, after each session reloaded from disk and compared with
 * {@link SessionLoopReference} (double precision, independent of K3).
 * Elements whose sign election is a near-tie (0 < |Σδ| < 1e-5) can legitimately elect differently in fp32 and double;
 * they are excluded from then on (and counted: with this seed there are few or none).
 */
class ThreeTaskSequenceTest {
  private static final List<String> NAMES =
      List.of("visual.proj", "bias", "blocks.0.w", "ln.g", "scale", "text.w", "logit_scale");
  private static final List<long[]> SHAPES = List.of(new long[] {7, 13}, new long[] {33}, new long[] {2, 1, 17},
      new long[] {129}, new long[] {1}, new long[] {40, 9}, new long[] {});

  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  @Test
  void threeSessionsMatchTheDoubleReference() throws Exception {
    SplittableRandom r = new SplittableRandom(20260);
    float[][] theta = new float[NAMES.size()][];
    for (int s = 0; s < theta.length; s++) {
      theta[s] = new float[(int) numel(SHAPES.get(s))];
      for (int j = 0; j < theta[s].length; j++) theta[s][j] = (float) r.nextDouble(-1, 1);
    }
    Map<String, Tensor> theta0 = Models.model(NAMES, SHAPES, theta);
    Theta0Ref ref = Models.writeTheta0(tmp.resolve("theta0.safetensors"), theta0);
    Path store = tmp.resolve("store");
    SessionLoopReference reference = new SessionLoopReference();
    boolean[][] tainted = new boolean[NAMES.size()][];
    for (int s = 0; s < tainted.length; s++) tainted[s] = new boolean[theta[s].length];
    int taintedCount = 0;
    boolean[][] firstMaskOfTask0 = null;
    Prototypes protoB = new Prototypes(List.of("x", "y", "z"), 2, new float[] {1, 2, 3, 4, 5, 6});

    String[] tasks = {"a", "b", "c"};
    for (int t = 0; t < tasks.length; t++) {
      float[][] expert = new float[theta.length][];
      double[][] delta = new double[theta.length][];
      for (int s = 0; s < theta.length; s++) {
        expert[s] = new float[theta[s].length];
        delta[s] = new double[theta[s].length];
        for (int j = 0; j < expert[s].length; j++) {
          // one element in ten untouched (an exact zero delta: never masked)
          expert[s][j] = r.nextInt(10) == 0 ? theta[s][j] : theta[s][j] + (float) r.nextDouble(-0.1, 0.1);
          delta[s][j] = (double) expert[s][j] - (double) theta[s][j];
        }
      }
      ConduSessions.addTaskFromExpert(store, ref, tasks[t], theta0, Models.model(NAMES, SHAPES, expert),
          t == 1 ? protoB : null);
      reference.addTask(delta);
      for (int s = 0; s < theta.length; s++) {
        for (int j = 0; j < theta[s].length; j++) {
          double sum = reference.sums[s][j];  // an exact 0 (all deltas 0) elects -1 in both
          if (!tainted[s][j] && sum != 0 && Math.abs(sum) < 1e-5) {
            tainted[s][j] = true;
            taintedCount++;
          }
        }
      }

      try (StoredSession session = SessionStore.load(store)) {
        assertEquals(t + 1, session.session());
        assertEquals(List.of(tasks).subList(0, t + 1), session.taskNames());
        assertEquals(NAMES, session.tensorNames());
        for (int s = 0; s < NAMES.size(); s++) {
          assertArrayEquals(SHAPES.get(s), session.shape(s));
          float[] u = floats(session.unifiedTensors().get(s));
          for (int j = 0; j < u.length; j++) {
            if (tainted[s][j]) continue;
            assertEquals(reference.unified[s][j], u[j], 1e-6,
                "U of '" + NAMES.get(s) + "' element " + j + ", session " + (t + 1));
            for (int i = 0; i <= t; i++) {
              assertEquals(reference.masks.get(i)[s][j], session.masks().get(i, s, j),
                  "mask of task " + i + ", '" + NAMES.get(s) + "' element " + j + ", session " + (t + 1));
            }
          }
        }
        double tolerance = taintedCount == 0 ? 1e-5 : 1e-2;
        Map<String, Tensor> buffer = Models.zerosLike(theta0);  // one buffer, reused for every expert
        for (int i = 0; i <= t; i++) {
          double lambda = reference.rescalers.get(i);
          assertEquals(lambda, session.rescaler(i), tolerance * lambda, "λ of task " + i + ", session " + (t + 1));
          session.decouple(i, Models.table(theta0), Models.table(buffer));
          for (int s = 0; s < NAMES.size(); s++) {
            float[] e = floats(buffer.get(NAMES.get(s)));
            for (int j = 0; j < e.length; j++) {
              if (tainted[s][j]) continue;
              double want = theta[s][j] + (reference.masks.get(i)[s][j] ? lambda * reference.unified[s][j] : 0.0);
              assertEquals(want, e[j], 2e-6,
                  "expert " + i + " '" + NAMES.get(s) + "' element " + j + ", session " + (t + 1));
            }
          }
        }
        if (t >= 1) assertArrayEquals(protoB.values(), session.prototypes(1).orElseThrow().values());
        if (t == 0) firstMaskOfTask0 = reference.masks.get(0);
        // a zeroed element stays zero: task a's mask only shrinks over the sessions
        for (int s = 0; s < NAMES.size(); s++) {
          for (int j = 0; j < theta[s].length; j++) {
            if (session.masks().get(0, s, j)) {
              assertTrue(firstMaskOfTask0[s][j], "task a regained element " + j + " of '" + NAMES.get(s) + "'");
            }
          }
        }
      }
    }
    assertTrue(taintedCount <= 3, taintedCount + " near-tie elements");
    System.out.println("three-task sequence: " + taintedCount + " near-tie elements excluded");
  }

  private static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }
}
