package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.kernels.reference.SignMaxReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** The self-check's K3 cases: the specification's worked vector, random tasks against the reference, a NaN. */
final class SignMaxCheck {
  private static final String KERNEL = "sign-max (K3)";

  private SignMaxCheck() {}

  static List<CheckResult> run(DeviceKind device) {
    List<CheckResult> results = new ArrayList<>();
    results.add(guard(device, "worked vector (methods.md 2.2)", () -> workedVector(device)));
    results.add(guard(device, "5 tasks with theta0, 6 segments", () -> randomAgainstReference(device)));
    results.add(guard(device, "NaN in task 1 reported", () -> nanReported(device)));
    return results;
  }

  private static CheckResult guard(DeviceKind device, String name, CheckCases.Case c) {
    return CheckCases.guard(KERNEL, device, name, c);
  }

  private static SegmentTable table(DeviceKind device, List<DeviceBuffer> owned, float[]... segments) {
    return CheckCases.table(device, owned, segments);
  }

  private static float[] download(List<DeviceBuffer> owned, int index) {
    return owned.get(index).download();
  }

  private static String workedVector(DeviceKind device) {
    List<DeviceBuffer> owned = new ArrayList<>();
    try (TaskMasks masks = new TaskMasks(device, new long[] {4}, 2)) {
      SegmentTable u = table(device, owned, new float[4]);
      SegmentTable d1 = table(device, owned, new float[] {0.3f, -0.2f, 0f, 0.1f});
      SegmentTable d2 = table(device, owned, new float[] {0.1f, 0.4f, -0.5f, -0.1f});
      SignConsistentMax.Triggers t = SignConsistentMax.unify(u, masks, null, List.of(d1, d2));
      float[] gotU = download(owned, 0);
      if (!Arrays.equals(gotU, new float[] {0.3f, 0.4f, -0.5f, -0.1f})) return "U = " + Arrays.toString(gotU);
      if (masks.words(0, 0)[0] != 0b0001 || masks.words(1, 0)[0] != 0b1111) return "masks differ";
      if (Math.abs(t.rescalers()[0] - 2.0) > 1e-6 || Math.abs(t.rescalers()[1] - 0.846154) > 1e-6) {
        return "rescalers " + Arrays.toString(t.rescalers());
      }
      return null;
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static String randomAgainstReference(DeviceKind device) {
    int tasks = 5;
    int[] lengths = {1, 31, 33, 1000, 0, 65_537};
    SplittableRandom r = new SplittableRandom(11);
    float[][] theta = new float[lengths.length][];
    float[][][] models = new float[tasks][lengths.length][];
    for (int s = 0; s < lengths.length; s++) {
      theta[s] = new float[lengths[s]];
      for (int j = 0; j < lengths[s]; j++) theta[s][j] = (float) r.nextDouble(-1, 1);
      for (int i = 0; i < tasks; i++) {
        models[i][s] = theta[s].clone();
        for (int j = 0; j < lengths[s]; j++) if (r.nextInt(16) != 0) models[i][s][j] += (float) r.nextDouble(-0.1, 0.1);
      }
    }
    List<DeviceBuffer> owned = new ArrayList<>();
    long[] segLengths = Arrays.stream(lengths).asLongStream().toArray();
    try (TaskMasks masks = new TaskMasks(device, segLengths, tasks)) {
      float[][] zeros = new float[lengths.length][];
      for (int s = 0; s < lengths.length; s++) zeros[s] = new float[lengths[s]];
      SegmentTable u = table(device, owned, zeros);
      SegmentTable t0 = table(device, owned, theta);
      List<SegmentTable> inputs = new ArrayList<>();
      for (int i = 0; i < tasks; i++) inputs.add(table(device, owned, models[i]));
      SignConsistentMax.unify(u, masks, t0, inputs);
      for (int s = 0; s < lengths.length; s++) {
        if (lengths[s] == 0) continue;
        float[][] deltas = new float[tasks][lengths[s]];
        for (int i = 0; i < tasks; i++) for (int j = 0; j < lengths[s]; j++) deltas[i][j] = models[i][s][j] - theta[s][j];
        if (!Arrays.equals(download(owned, s), SignMaxReference.unified(deltas))) return "U differs in segment " + s;
        for (int i = 0; i < tasks; i++) {
          boolean[] want = SignMaxReference.mask(deltas, i);
          int[] words = masks.words(i, s);
          for (int j = 0; j < want.length; j++) {
            if (((words[j >>> 5] >>> (j & 31)) & 1) != (want[j] ? 1 : 0)) return "mask of task " + i + " segment " + s + " element " + j;
          }
        }
      }
      return null;
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static String nanReported(DeviceKind device) {
    List<DeviceBuffer> owned = new ArrayList<>();
    try (TaskMasks masks = new TaskMasks(device, new long[] {5000}, 2)) {
      float[] bad = new float[5000];
      bad[4321] = Float.NaN;
      SegmentTable u = table(device, owned, new float[5000]);
      SignConsistentMax.unify(u, masks, null, List.of(table(device, owned, new float[5000]), table(device, owned, bad)));
      return "NaN was not reported";
    } catch (NonFiniteException e) {
      return e.input().equals("delta 1") && e.element() == 4321 ? null : "wrong location: " + e.getMessage();
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }
}
