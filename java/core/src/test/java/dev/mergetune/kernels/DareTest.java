package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** K4b through the Java API, with the mask rule of dare.h recomputed here by an independent Philox. */
class DareTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** Philox4x32-10 written from the published algorithm (Salmon et al., SC'11), in Java. */
  static int[] philox(int[] counter, int[] key) {
    long m0 = 0xD2511F53L;
    long m1 = 0xCD9E8D57L;
    int w0 = 0x9E3779B9;
    int w1 = 0xBB67AE85;
    int c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    int k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
      long p0 = m0 * (c0 & 0xffffffffL);
      long p1 = m1 * (c2 & 0xffffffffL);
      int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
      int n1 = (int) p1;
      int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
      int n3 = (int) p0;
      c0 = n0;
      c1 = n1;
      c2 = n2;
      c3 = n3;
      k0 += w0;
      k1 += w1;
    }
    return new int[] {c0, c1, c2, c3};
  }

  static boolean kept(long seed, int model, long tensorKey, long element, float dropRate) {
    int[] counter = {(int) (element >>> 2), model, (int) tensorKey, (int) (tensorKey >>> 32)};
    int[] key = {(int) seed, (int) (seed >>> 32)};
    int w = philox(counter, key)[(int) (element & 3)];
    float u = (w >>> 8) * 0x1p-24f;
    return u >= dropRate;
  }

  private static float[] read(Tensor t) {
    float[] out = new float[(int) t.numel()];
    if (out.length > 0) new FloatPointer(t.data_ptr_float()).capacity(out.length).get(out);
    return out;
  }

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-1, 1);
    return v;
  }

  @Test
  void nativePhiloxMatchesTheJavaOne() {
    SplittableRandom r = new SplittableRandom(5);
    for (int trial = 0; trial < 1000; trial++) {
      int[] counter = {r.nextInt(), r.nextInt(), r.nextInt(), r.nextInt()};
      int[] key = {r.nextInt(), r.nextInt()};
      int[] out = new int[4];
      MergetuneNative.mt_philox4x32_10(counter, key, out);
      assertArrayEquals(philox(counter, key), out);
    }
  }

  @Test
  void masksFollowTheSpecifiedRuleAndTheNameNotThePosition() {
    float[] deltaA = random(10_001, 1);
    float[] deltaB = random(37, 2);
    Tensor baseA = Tensor.create(new float[deltaA.length], deltaA.length);
    Tensor baseB = Tensor.create(new float[deltaB.length], deltaB.length);
    Tensor outA = Tensor.create(new float[deltaA.length], deltaA.length);
    Tensor outB = Tensor.create(new float[deltaB.length], deltaB.length);
    Tensor mA = Tensor.create(deltaA, deltaA.length);
    Tensor mB = Tensor.create(deltaB, deltaB.length);
    Dare.Options opt = Dare.Options.dropRate(0.7f, 1234L, Dare.Rescale.NONE);
    Dare.merge(SegmentTable.ofTensors(List.of("a", "b"), List.of(outA, outB)),
        SegmentTable.ofTensors(List.of("a", "b"), List.of(baseA, baseB)),
        List.of(SegmentTable.ofTensors(List.of("a", "b"), List.of(mA, mB))), new float[] {1f}, opt);
    float[] gotA = read(outA);
    int keptCount = 0;
    for (int j = 0; j < deltaA.length; j++) {
      boolean k = kept(1234L, 0, Dare.tensorKey("a"), j, 0.7f);
      assertEquals(k ? deltaA[j] : 0f, gotA[j], "element " + j);
      if (k) keptCount++;
    }
    assertTrue(Math.abs(keptCount - 0.3 * deltaA.length) < 5 * Math.sqrt(0.21 * deltaA.length), "kept " + keptCount);
    // the same tensor alone, in another call and position, gets the same mask
    Tensor outB2 = Tensor.create(new float[deltaB.length], deltaB.length);
    Dare.merge(SegmentTable.ofTensors(List.of("b"), List.of(outB2)), SegmentTable.ofTensors(List.of("b"), List.of(baseB)),
        List.of(SegmentTable.ofTensors(List.of("b"), List.of(mB))), new float[] {1f}, opt);
    assertArrayEquals(read(outB), read(outB2));
  }

  @Test
  void dropRateZeroIsTaskArithmeticBitForBit() {
    float[] b = random(5000, 3);
    float[] m0 = random(5000, 4);
    float[] m1 = random(5000, 5);
    List<SegmentTable> models = List.of(
        SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(m0, m0.length))),
        SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(m1, m1.length))));
    SegmentTable base = SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(b, b.length)));
    Tensor viaDare = Tensor.create(new float[b.length], b.length);
    Tensor viaInterp = Tensor.create(new float[b.length], b.length);
    float[] lambdas = {0.3f, -0.7f};
    Dare.merge(SegmentTable.ofTensors(List.of("w"), List.of(viaDare)), base, models, lambdas,
        Dare.Options.dropRate(0f, 9L, Dare.Rescale.INVERSE));
    Interpolation.interpolate(SegmentTable.ofTensors(List.of("w"), List.of(viaInterp)), base, models, lambdas);
    assertArrayEquals(read(viaInterp), read(viaDare));
  }

  @Test
  void keepDensityIsOneMinusDropRateAndSeedsMatter() {
    assertEquals(Dare.Options.dropRate(0.9f, 1, Dare.Rescale.L1), Dare.Options.keepDensity(0.1f, 1, Dare.Rescale.L1));
    assertThrows(IllegalArgumentException.class, () -> Dare.Options.dropRate(1f, 1, Dare.Rescale.NONE));
    assertThrows(IllegalArgumentException.class, () -> Dare.Options.keepDensity(0f, 1, Dare.Rescale.NONE));
    float[] d = random(4096, 6);
    List<float[]> outs = new ArrayList<>();
    for (long seed : new long[] {1, 2}) {
      Tensor out = Tensor.create(new float[d.length], d.length);
      Dare.merge(SegmentTable.ofTensors(List.of("w"), List.of(out)),
          SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(new float[d.length], d.length))),
          List.of(SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(d, d.length)))), new float[] {1f},
          Dare.Options.dropRate(0.5f, seed, Dare.Rescale.INVERSE));
      outs.add(read(out));
    }
    assertNotEquals(java.util.Arrays.toString(outs.get(0)), java.util.Arrays.toString(outs.get(1)));
  }

  @Test
  void l1RescaleKeepsTheTensorsL1Norm() {
    float[] d = random(100_000, 7);
    Tensor out = Tensor.create(new float[d.length], d.length);
    Dare.merge(SegmentTable.ofTensors(List.of("w"), List.of(out)),
        SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(new float[d.length], d.length))),
        List.of(SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(d, d.length)))), new float[] {1f},
        Dare.Options.dropRate(0.8f, 3, Dare.Rescale.L1));
    double before = 0;
    double after = 0;
    float[] got = read(out);
    for (int j = 0; j < d.length; j++) {
      before += Math.abs(d[j]);
      after += Math.abs(got[j]);
    }
    assertEquals(before, after, 1e-5 * before);
  }

  @Test
  void nanInAModelIsNamed() {
    float[] d = random(100, 8);
    d[42] = Float.NaN;
    NonFiniteException e = assertThrows(NonFiniteException.class, () -> Dare.merge(
        SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(new float[100], 100))),
        SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(new float[100], 100))),
        List.of(SegmentTable.ofTensors(List.of("w"), List.of(Tensor.create(d, 100)))), new float[] {1f},
        Dare.Options.dropRate(0.5f, 1, Dare.Rescale.INVERSE)));
    assertEquals("model 0", e.input());
    assertEquals(42, e.element());
  }
}
