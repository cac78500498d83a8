package dev.mergetune.condu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Masks cost ceil(n/8) bytes per tensor per task plus at most 3 bytes of word padding, against the reference's n. */
class StorageBytesTest {
  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  @Test
  void masksAreBitPacked() throws Exception {
    long[] lengths = {1, 31, 32, 33, 1000, 70_001};
    List<String> names = new ArrayList<>();
    List<long[]> shapes = new ArrayList<>();
    float[][] theta = new float[lengths.length][];
    float[][] delta1 = new float[lengths.length][];
    float[][] delta2 = new float[lengths.length][];
    SplittableRandom r = new SplittableRandom(5);
    for (int s = 0; s < lengths.length; s++) {
      names.add("t" + s);
      shapes.add(new long[] {lengths[s]});
      theta[s] = new float[(int) lengths[s]];
      delta1[s] = new float[(int) lengths[s]];
      delta2[s] = new float[(int) lengths[s]];
      for (int j = 0; j < lengths[s]; j++) {
        delta1[s][j] = (float) r.nextDouble(-1, 1);
        delta2[s][j] = (float) r.nextDouble(-1, 1);
      }
    }
    Theta0Ref ref = Models.writeTheta0(tmp.resolve("theta0.safetensors"), Models.model(names, shapes, theta));
    Path store = tmp.resolve("store");
    ConduSessions.addTask(store, ref, "a", Models.model(names, shapes, delta1), null);
    ConduSessions.addTask(store, ref, "b", Models.model(names, shapes, delta2), null);
    long elements = 0;
    long packed = 0;
    long bitBytes = 0;
    for (long n : lengths) {
      elements += n;
      packed += 4 * ((n + 31) / 32);
      bitBytes += (n + 7) / 8;
    }
    try (StoredSession s = SessionStore.load(store)) {
      assertEquals(elements, s.referenceMaskBytes());
      for (int task = 0; task < 2; task++) {
        long bytes = s.maskBytes(task);
        assertEquals(packed, bytes);
        assertEquals(bytes, s.taskBytes(task));  // no prototypes here
        assertEquals(bytes, Files.size(store.resolve(String.format("masks-000002-task%03d.bits", task))));
        assertTrue(bytes <= bitBytes + 3L * lengths.length, bytes + " bytes for " + bitBytes + " bytes of bits");
        System.out.printf("task %d: %d mask bytes for %d elements (reference %d bytes, %.4f of it); U file %d bytes%n",
            task, bytes, elements, s.referenceMaskBytes(), bytes / (double) s.referenceMaskBytes(), s.unifiedBytes());
      }
    }
  }
}
