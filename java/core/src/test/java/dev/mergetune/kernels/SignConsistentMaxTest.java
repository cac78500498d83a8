package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.reference.SignMaxReference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** K3 over LibTorch CPU tensors: the worked vector of the specification and random cases against the reference. */
class SignConsistentMaxTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static Tensor t(float... v) {
    return Tensor.create(v, v.length);
  }

  private static SegmentTable table(Tensor... tensors) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < tensors.length; i++) names.add("w" + i);
    return SegmentTable.ofTensors(names, List.of(tensors));
  }

  private static float[] read(Tensor t) {
    float[] out = new float[(int) t.numel()];
    if (out.length > 0) new FloatPointer(t.data_ptr_float()).capacity(out.length).get(out);
    return out;
  }

  @Test
  void workedVectorOfTheSpecification() {
    Tensor d1 = t(0.3f, -0.2f, 0f, 0.1f);
    Tensor d2 = t(0.1f, 0.4f, -0.5f, -0.1f);
    Tensor u = t(0, 0, 0, 0);
    try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, new long[] {4}, 2)) {
      SignConsistentMax.Triggers trig = SignConsistentMax.unify(table(u), masks, null, List.of(table(d1), table(d2)));
      assertArrayEquals(new float[] {0.3f, 0.4f, -0.5f, -0.1f}, read(u));
      assertArrayEquals(new int[] {0b0001}, masks.words(0, 0));
      assertArrayEquals(new int[] {0b1111}, masks.words(1, 0));
      assertEquals(2.0, trig.rescalers()[0], 1e-6);
      assertEquals(0.846154, trig.rescalers()[1], 1e-6);
      Tensor theta0 = t(0, 0, 0, 0);
      Tensor e1 = t(9, 9, 9, 9);
      Tensor e2 = t(9, 9, 9, 9);
      SignConsistentMax.decouple(table(e1), table(theta0), table(u), masks, 0, (float) trig.rescalers()[0]);
      SignConsistentMax.decouple(table(e2), table(theta0), table(u), masks, 1, (float) trig.rescalers()[1]);
      assertArrayEquals(new float[] {0.6f, 0f, 0f, 0f}, read(e1), 1e-6f);
      assertArrayEquals(new float[] {0.253846f, 0.338462f, -0.423077f, -0.084615f}, read(e2), 1e-6f);
    }
  }

  @Test
  void randomModelsAgainstTheReference() {
    SplittableRandom r = new SplittableRandom(3);
    long[] lengths = {1, 31, 32, 33, 1000, 0, 70_001};
    int tasks = 4;
    List<Tensor> thetaTensors = new ArrayList<>();
    List<Tensor> uTensors = new ArrayList<>();
    List<List<Tensor>> models = new ArrayList<>();
    float[][][] deltas = new float[tasks][lengths.length][];  // [task][segment]
    for (int i = 0; i < tasks; i++) models.add(new ArrayList<>());
    for (int s = 0; s < lengths.length; s++) {
      float[] theta = new float[(int) lengths[s]];
      for (int j = 0; j < theta.length; j++) theta[j] = (float) r.nextDouble(-1, 1);
      thetaTensors.add(Tensor.create(theta, theta.length));
      uTensors.add(Tensor.create(new float[theta.length], theta.length));
      for (int i = 0; i < tasks; i++) {
        float[] m = new float[theta.length];
        deltas[i][s] = new float[theta.length];
        for (int j = 0; j < m.length; j++) {
          // a few exact zeros, to exercise the strict masks
          m[j] = r.nextInt(20) == 0 ? theta[j] : theta[j] + (float) r.nextDouble(-0.1, 0.1);
          deltas[i][s][j] = m[j] - theta[j];
        }
        models.get(i).add(Tensor.create(m, m.length));
      }
    }
    SegmentTable theta0 = table(thetaTensors.toArray(new Tensor[0]));
    SegmentTable unified = table(uTensors.toArray(new Tensor[0]));
    List<SegmentTable> modelTables = new ArrayList<>();
    for (List<Tensor> m : models) modelTables.add(table(m.toArray(new Tensor[0])));
    try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, lengths, tasks)) {
      SignConsistentMax.Triggers trig = SignConsistentMax.unify(unified, masks, theta0, modelTables);
      double[] num = new double[tasks];
      double[] den = new double[tasks];
      for (int s = 0; s < lengths.length; s++) {
        float[][] segDeltas = new float[tasks][];
        for (int i = 0; i < tasks; i++) segDeltas[i] = deltas[i][s];
        float[] want = lengths[s] == 0 ? new float[0] : SignMaxReference.unified(segDeltas);
        assertArrayEquals(want, read(uTensors.get(s)), "U of segment " + s);
        for (int i = 0; i < tasks && lengths[s] > 0; i++) {
          boolean[] m = SignMaxReference.mask(segDeltas, i);
          double sumDelta = 0;
          double sumMasked = 0;
          for (int j = 0; j < m.length; j++) {
            assertEquals(m[j], masks.get(i, s, j), "mask of task " + i + " segment " + s + " element " + j);
            sumDelta += Math.abs(segDeltas[i][j]);
            sumMasked += m[j] ? Math.abs(want[j]) : 0;
          }
          num[i] += sumDelta / lengths[s];
          den[i] += sumMasked / lengths[s];
        }
      }
      for (int i = 0; i < tasks; i++) assertEquals(num[i] / den[i], trig.rescalers()[i], 1e-9 * num[i] / den[i]);
    }
  }

  @Test
  void singleTaskIsItsOwnDeltaWithRescalerOne() {
    Tensor d = t(0.5f, -0.25f, 0f, 1e-3f);
    Tensor u = t(0, 0, 0, 0);
    try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, new long[] {4}, 1)) {
      SignConsistentMax.Triggers trig = SignConsistentMax.unify(table(u), masks, null, List.of(table(d)));
      assertArrayEquals(new float[] {0.5f, -0.25f, 0f, 1e-3f}, read(u));
      assertEquals(1.0, trig.rescalers()[0], 1e-12);
    }
  }

  @Test
  void nanInATaskIsNamedAndLayoutsMustAgree() {
    Tensor u = t(0, 0, 0);
    try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, new long[] {3}, 2)) {
      NonFiniteException e = assertThrows(NonFiniteException.class, () -> SignConsistentMax.unify(table(u), masks,
          null, List.of(table(t(1, 2, 3)), table(t(1, Float.NaN, 3)))));
      assertEquals("delta 1", e.input());
      assertEquals(1, e.element());
      assertThrows(IllegalArgumentException.class, () -> SignConsistentMax.unify(table(u), masks, null,
          List.of(table(t(1, 2, 3)), table(t(1, 2)))));
      assertThrows(IllegalArgumentException.class, () -> SignConsistentMax.unify(table(u), masks, null,
          List.of(table(t(1, 2, 3)))));  // masks made for two tasks
    }
  }

  @Test
  void rescalerOfATaskThatKeepsNothingIsOne() {
    double[] l = SignConsistentMax.rescalers(new long[] {4, 0}, 1, new double[] {2.0, 0}, new double[] {0.0, 0});
    assertTrue(l[0] == 1.0);
  }
}
