package dev.mergetune.condu;

import static dev.mergetune.condu.Models.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tensor-by-tensor session step gives exactly (bit for bit) what one unify over the whole model gives. */
class TensorwiseUnifyTest {
  private static final List<String> NAMES = List.of("p", "q", "r", "s");
  private static final List<long[]> SHAPES = List.of(new long[] {3, 11}, new long[] {0}, new long[] {65},
      new long[] {4, 4, 5});

  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static Map<String, Tensor> random(SplittableRandom r) {
    float[][] v = new float[NAMES.size()][];
    for (int s = 0; s < v.length; s++) {
      long n = 1;
      for (long d : SHAPES.get(s)) n *= d;
      v[s] = new float[(int) n];
      for (int j = 0; j < v[s].length; j++) v[s][j] = r.nextInt(8) == 0 ? 0f : (float) r.nextDouble(-0.1, 0.1);
    }
    return Models.model(NAMES, SHAPES, v);
  }

  @Test
  void equalsOneWholeModelUnify() throws Exception {
    SplittableRandom r = new SplittableRandom(77);
    Map<String, Tensor> zero = Models.zerosLike(random(r));
    Theta0Ref ref = Models.writeTheta0(tmp.resolve("theta0.safetensors"), zero);
    Path store = tmp.resolve("store");
    ConduSessions.addTask(store, ref, "a", random(r), null);
    ConduSessions.addTask(store, ref, "b", random(r), null);
    Map<String, Tensor> deltaC = random(r);

    // the whole-model path: rebuild every old delta over the full table, one unify call
    List<SegmentTable> inputs = new ArrayList<>();
    Map<String, Tensor> u = Models.zerosLike(zero);
    SignConsistentMax.Triggers trig;
    try (StoredSession previous = SessionStore.load(store);
        TaskMasks masks = new TaskMasks(DeviceKind.CPU, Models.table(zero).lengths(), 3)) {
      for (int i = 0; i < previous.tasks(); i++) {
        SegmentTable t = Models.table(Models.zerosLike(zero));
        previous.decouple(i, t, t);
        inputs.add(t);
      }
      inputs.add(Models.table(deltaC));
      trig = SignConsistentMax.unify(Models.table(u), masks, null, inputs);
      ConduSessions.addTask(store, ref, "c", deltaC, null);
      try (StoredSession s = SessionStore.load(store)) {
        for (int seg = 0; seg < NAMES.size(); seg++) {
          assertArrayEquals(floats(u.get(NAMES.get(seg))), floats(s.unifiedTensors().get(seg)), 0f, NAMES.get(seg));
          for (int i = 0; i < 3; i++) assertArrayEquals(masks.words(i, seg), s.masks().words(i, seg));
        }
        for (int i = 0; i < 3; i++) assertEquals(trig.rescalers()[i], s.rescaler(i), 0.0, "λ of task " + i);
      }
    }
  }
}
