package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.reference.InterpolationReference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** K4a over LibTorch CPU tensors against the double-precision Java reference. */
class InterpolationTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** A named state dict of random tensors, kept as float[] too so the reference reads the same values. */
  private static final class Params {
    final List<String> names = new ArrayList<>();
    final List<Tensor> tensors = new ArrayList<>();
    final List<float[]> values = new ArrayList<>();

    Params add(String name, float[] v, long... shape) {
      names.add(name);
      values.add(v);
      tensors.add(Tensor.create(v, shape.length == 0 ? new long[] {v.length} : shape));
      return this;
    }

    SegmentTable table() {
      return SegmentTable.ofTensors(names, tensors);
    }

    float[] read(int i) {
      Tensor t = tensors.get(i);
      float[] out = new float[(int) t.numel()];
      if (out.length > 0) new FloatPointer(t.data_ptr_float()).capacity(out.length).get(out);
      return out;
    }
  }

  private static Params randomParams(long[] lengths, SplittableRandom r) {
    Params p = new Params();
    for (int s = 0; s < lengths.length; s++) {
      float[] v = new float[(int) lengths[s]];
      for (int j = 0; j < v.length; j++) v[j] = (float) (r.nextDouble() * 4 - 2);
      p.add("layer" + s + ".weight", v);
    }
    return p;
  }

  private static Params perturbed(Params base, double scale, SplittableRandom r) {
    Params p = new Params();
    for (int s = 0; s < base.values.size(); s++) {
      float[] v = base.values.get(s).clone();
      for (int j = 0; j < v.length; j++) v[j] += (float) (scale * (r.nextDouble() - 0.5));
      p.add(base.names.get(s), v);
    }
    return p;
  }

  private static Params zerosLike(Params base) {
    Params p = new Params();
    for (int s = 0; s < base.values.size(); s++) {
      p.add(base.names.get(s), new float[base.values.get(s).length], base.tensors.get(s).sizes().vec().get());
    }
    return p;
  }

  private static double maxError(Params out, Params base, List<Params> models, float[] lambdas) {
    double worst = 0;
    for (int s = 0; s < base.values.size(); s++) {
      float[][] m = new float[models.size()][];
      for (int i = 0; i < models.size(); i++) m[i] = models.get(i).values.get(s);
      worst = Math.max(worst, InterpolationReference.maxScaledError(out.read(s), base.values.get(s), m, lambdas));
    }
    return worst;
  }

  private static void checkAgainstReference(long[] lengths, int nModels, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Params base = randomParams(lengths, r);
    List<Params> models = new ArrayList<>();
    List<SegmentTable> tables = new ArrayList<>();
    float[] lambdas = new float[nModels];
    for (int i = 0; i < nModels; i++) {
      models.add(perturbed(base, 0.2, r));
      tables.add(models.get(i).table());
      lambdas[i] = (float) (r.nextDouble() * 2.5 - 1);
    }
    Params out = zerosLike(base);
    Interpolation.interpolate(out.table(), base.table(), tables, lambdas);
    double err = maxError(out, base, models, lambdas);
    assertTrue(err <= InterpolationReference.TOLERANCE, "scaled error " + err);
  }

  @Test
  void emptyTable() {
    checkAgainstReference(new long[0], 2, 1);
  }

  @Test
  void singleElement() {
    checkAgainstReference(new long[] {1}, 1, 2);
  }

  @Test
  void oddLengthsAndEmptyTensors() {
    checkAgainstReference(new long[] {7, 0, 1023, 1025, 0, 3}, 3, 3);
  }

  @Test
  void manySegments() {
    SplittableRandom r = new SplittableRandom(4);
    long[] lengths = new long[600];
    for (int i = 0; i < lengths.length; i++) lengths[i] = r.nextLong(0, 2000);
    checkAgainstReference(lengths, 4, 5);
  }

  @Test
  void largeTensorsSpanningThreads() {
    checkAgainstReference(new long[] {3_000_017, 1_500_000}, 2, 6);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 5, 8})
  void anyNumberOfModels(int nModels) {
    checkAgainstReference(new long[] {4099, 17}, nModels, 10 + nModels);
  }

  @Test
  void matchesLibTorchOpsInDouble() {
    SplittableRandom r = new SplittableRandom(7);
    Params base = randomParams(new long[] {12_345}, r);
    Params m0 = perturbed(base, 0.5, r);
    Params m1 = perturbed(base, 0.5, r);
    Params out = zerosLike(base);
    float[] lambdas = {0.7f, -0.3f};
    Interpolation.interpolate(out.table(), base.table(), List.of(m0.table(), m1.table()), lambdas);
    Tensor b = base.tensors.get(0).to(torch.ScalarType.Double);
    Tensor expected = b.add(m0.tensors.get(0).to(torch.ScalarType.Double).sub(b).mul(new org.bytedeco.pytorch.Scalar(0.7f)))
        .add(m1.tensors.get(0).to(torch.ScalarType.Double).sub(b).mul(new org.bytedeco.pytorch.Scalar(-0.3f)));
    double maxDiff = out.tensors.get(0).to(torch.ScalarType.Double).sub(expected).abs().max().item_double();
    double maxAbs = expected.abs().max().item_double();
    assertTrue(maxDiff <= 1e-6 * maxAbs, "max |kernel - libtorch double| = " + maxDiff);
  }

  @Test
  void inPlaceOverBase() {
    SplittableRandom r = new SplittableRandom(8);
    Params base = randomParams(new long[] {70_001, 3}, r);
    Params before = new Params();
    for (int s = 0; s < base.values.size(); s++) before.add(base.names.get(s), base.values.get(s).clone());
    Params m = perturbed(base, 0.3, r);
    SegmentTable table = base.table();
    Interpolation.interpolate(table, table, List.of(m.table()), new float[] {0.4f});
    assertTrue(maxError(base, before, List.of(m), new float[] {0.4f}) <= InterpolationReference.TOLERANCE);
  }

  @Test
  void wiseFtEndpointsAreTheModels() {
    SplittableRandom r = new SplittableRandom(9);
    Params zs = randomParams(new long[] {513}, r);
    Params ft = perturbed(zs, 1.0, r);
    Params out = zerosLike(zs);
    Interpolation.wiseFt(out.table(), zs.table(), ft.table(), 0f);
    assertArrayEquals(zs.values.get(0), out.read(0));
    Interpolation.wiseFt(out.table(), zs.table(), ft.table(), 0.5f);
    assertTrue(maxError(out, zs, List.of(ft), new float[] {0.5f}) <= InterpolationReference.TOLERANCE);
  }

  @Test
  void taskArithmeticIsAScaledSum() {
    SplittableRandom r = new SplittableRandom(10);
    Params theta0 = randomParams(new long[] {1000}, r);
    Params t1 = perturbed(theta0, 0.2, r);
    Params t2 = perturbed(theta0, 0.2, r);
    Params out = zerosLike(theta0);
    Interpolation.taskArithmetic(out.table(), theta0.table(), List.of(t1.table(), t2.table()), 0.3f,
        new float[] {1f, 2f});
    float[] effective = {0.3f * 1f, 0.3f * 2f};
    assertTrue(maxError(out, theta0, List.of(t1, t2), effective) <= InterpolationReference.TOLERANCE);
  }

  @Test
  void nanInAModelNamesModelAndTensor() {
    SplittableRandom r = new SplittableRandom(11);
    Params base = randomParams(new long[] {100, 200_000}, r);
    Params m0 = perturbed(base, 0.1, r);
    Params m1 = perturbed(base, 0.1, r);
    m1.values.get(1)[123_456] = Float.NaN;
    Params m1Nan = new Params().add(base.names.get(0), m1.values.get(0)).add(base.names.get(1), m1.values.get(1));
    Params out = zerosLike(base);
    NonFiniteException e = assertThrows(NonFiniteException.class, () -> Interpolation.interpolate(out.table(),
        base.table(), List.of(m0.table(), m1Nan.table()), new float[] {0.5f, 0.5f}));
    assertEquals("model 1", e.input());
    assertEquals("layer1.weight", e.tensor());
    assertEquals(123_456, e.element());
    assertTrue(e.getMessage().contains("layer1.weight"), e.getMessage());
  }

  @Test
  void infInBaseIsReported() {
    Params base = new Params().add("w", new float[] {1f, Float.POSITIVE_INFINITY, 3f});
    Params m = new Params().add("w", new float[] {1f, 2f, 3f});
    Params out = zerosLike(base);
    NonFiniteException e = assertThrows(NonFiniteException.class,
        () -> Interpolation.wiseFt(out.table(), base.table(), m.table(), 0.5f));
    assertEquals("base", e.input());
    assertEquals(1, e.element());
  }

  @Test
  void mismatchedShapeNamesTheTensor() {
    Params base = new Params().add("a", new float[6], 2, 3).add("b", new float[4]);
    Params model = new Params().add("a", new float[6], 3, 2).add("b", new float[4]);
    Params out = zerosLike(base);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Interpolation.wiseFt(out.table(), base.table(), model.table(), 0.5f));
    assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("[3, 2]"), e.getMessage());
  }

  @Test
  void mismatchedLengthsAndCountsAreRefused() {
    Params base = new Params().add("a", new float[5]);
    Params longer = new Params().add("a", new float[6]);
    Params extra = new Params().add("a", new float[5]).add("b", new float[1]);
    Params renamed = new Params().add("c", new float[5]);
    Params out = zerosLike(base);
    assertThrows(IllegalArgumentException.class, () -> Interpolation.wiseFt(out.table(), base.table(), longer.table(), 1f));
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> Interpolation.wiseFt(out.table(), base.table(), extra.table(), 1f));
    assertTrue(count.getMessage().contains("2 tensors"), count.getMessage());
    IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
        () -> Interpolation.wiseFt(out.table(), base.table(), renamed.table(), 1f));
    assertTrue(name.getMessage().contains("'c'"), name.getMessage());
  }

  @Test
  void nonFiniteLambdaAndCountMismatchAreRefused() {
    Params base = new Params().add("a", new float[5]);
    Params out = zerosLike(base);
    assertThrows(IllegalArgumentException.class,
        () -> Interpolation.interpolate(out.table(), base.table(), List.of(base.table()), new float[] {Float.NaN}));
    assertThrows(IllegalArgumentException.class,
        () -> Interpolation.interpolate(out.table(), base.table(), List.of(base.table()), new float[] {1f, 2f}));
  }

  @Test
  void wrongDtypeAndNonContiguousTensorsAreRefused() {
    Tensor doubles = torch.ones(new long[] {3}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Double));
    IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
        () -> SegmentTable.ofTensors(List.of("d"), List.of(doubles)));
    assertTrue(dtype.getMessage().contains("'d'") && dtype.getMessage().contains("float32"), dtype.getMessage());
    Tensor transposed = Tensor.create(new float[6], 2, 3).t();
    IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
        () -> SegmentTable.ofTensors(List.of("t"), List.of(transposed)));
    assertTrue(strided.getMessage().contains("contiguous"), strided.getMessage());
  }

  @Test
  void rawAddressesMatchTheTensorPath() {
    SplittableRandom r = new SplittableRandom(12);
    Params base = randomParams(new long[] {999, 1}, r);
    Params m = perturbed(base, 0.4, r);
    Params out = zerosLike(base);
    long[] lengths = {999, 1};
    long[] outAddr = {out.tensors.get(0).data_ptr().address(), out.tensors.get(1).data_ptr().address()};
    long[] baseAddr = {base.tensors.get(0).data_ptr().address(), base.tensors.get(1).data_ptr().address()};
    long[][] modelAddr = {{m.tensors.get(0).data_ptr().address(), m.tensors.get(1).data_ptr().address()}};
    Interpolation.interpolateRaw(DeviceKind.CPU, 0, lengths, outAddr, baseAddr, modelAddr, new float[] {0.25f}, true);
    assertTrue(maxError(out, base, List.of(m), new float[] {0.25f}) <= InterpolationReference.TOLERANCE);
    assertThrows(IllegalArgumentException.class, () -> Interpolation.interpolateRaw(DeviceKind.CPU, 0, lengths,
        outAddr, new long[] {baseAddr[0], 0}, modelAddr, new float[] {0.25f}, true));
  }
}
