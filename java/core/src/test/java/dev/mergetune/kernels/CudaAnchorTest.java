package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * K2 / K5 on CUDA through libmergetune's own device memory (so it runs with the CPU LibTorch build on a GPU runner):
 * the weight-space anchor and K5's interpolation and accumulation must equal the CPU's bit for bit (anchor.h,
 * scratch_interp.h). Skips itself where no CUDA device is usable; the device-free facts are checked everywhere.
 */
class CudaAnchorTest {
  private static final long[] LENGTHS = {1, 4097, 300_001, 7};

  /** One array on the device, its segments at the offsets of LENGTHS. */
  private static final class Dev implements AutoCloseable {
    final long address;
    final int n;

    Dev(float[] values) {
      n = values.length;
      long[] ptr = new long[1];
      check(MergetuneNative.mt_cuda_malloc(4L * n, ptr));
      address = ptr[0];
      try (FloatPointer host = new FloatPointer(values)) {
        check(MergetuneNative.mt_cuda_memcpy(address, host.address(), 4L * n, MergetuneNative.MT_COPY_HOST_TO_DEVICE));
      }
    }

    float[] read() {
      float[] out = new float[n];
      try (FloatPointer host = new FloatPointer(n)) {
        check(MergetuneNative.mt_cuda_memcpy(host.address(), address, 4L * n, MergetuneNative.MT_COPY_DEVICE_TO_HOST));
        host.get(out);
      }
      return out;
    }

    SegmentTable table() {
      return SegmentTable.ofAddresses(DeviceKind.CUDA, null, addresses(address), LENGTHS);
    }

    @Override
    public void close() {
      MergetuneNative.mt_cuda_free(address);
    }
  }

  private static void check(int status) {
    if (status != MergetuneNative.MT_OK) throw new IllegalStateException(MergetuneNative.mt_last_error());
  }

  private static long[] addresses(long base) {
    long[] a = new long[LENGTHS.length];
    long at = 0;
    for (int s = 0; s < LENGTHS.length; s++) {
      a[s] = base + 4 * at;
      at += LENGTHS[s];
    }
    return a;
  }

  private static int total() {
    long n = 0;
    for (long l : LENGTHS) n += l;
    return (int) n;
  }

  private static float[] random(SplittableRandom r, double scale) {
    float[] v = new float[total()];
    for (int j = 0; j < v.length; j++) v[j] = (float) (scale * (r.nextDouble() * 2 - 1));
    return v;
  }

  /** A host copy as a CPU segment table (the FloatPointer must stay open while the table is used). */
  private static SegmentTable hostTable(FloatPointer p) {
    return SegmentTable.ofAddresses(DeviceKind.CPU, null, addresses(p.address()), LENGTHS);
  }

  @Test
  void cudaMatchesTheCpuBitForBitWhereADeviceExists() {
    assumeTrue(Devices.cudaAvailable(), () -> "no CUDA device: " + Devices.cudaUnavailableReason());
    SplittableRandom r = new SplittableRandom(1);
    float[] w = random(r, 1), w1 = random(r, 1), g = random(r, 0.01);
    List<float[]> sets = new ArrayList<>();
    for (int k = 0; k < 3; k++) sets.add(random(r, 1));
    float[] alphas = {0.1f, 0.5f, 0.9f}, omegas = {0.3f, 0.3f, 0.4f};
    try (FloatPointer hw = new FloatPointer(w); FloatPointer hw1 = new FloatPointer(w1); FloatPointer hg = new FloatPointer(g);
        FloatPointer hs0 = new FloatPointer(total()); FloatPointer hs1 = new FloatPointer(total());
        FloatPointer hs2 = new FloatPointer(total()); FloatPointer hacc = new FloatPointer(g);
        FloatPointer hg0 = new FloatPointer(sets.get(0)); FloatPointer hg1 = new FloatPointer(sets.get(1));
        FloatPointer hg2 = new FloatPointer(sets.get(2));
        Dev dw = new Dev(w); Dev dw1 = new Dev(w1); Dev dg = new Dev(g); Dev ds0 = new Dev(new float[total()]);
        Dev ds1 = new Dev(new float[total()]); Dev ds2 = new Dev(new float[total()]); Dev dacc = new Dev(g);
        Dev dg0 = new Dev(sets.get(0)); Dev dg1 = new Dev(sets.get(1)); Dev dg2 = new Dev(sets.get(2))) {
      double cpu = ZeroShotAnchor.weightSpace(hostTable(hw), hostTable(hw1), hostTable(hg), 8f);
      double gpu = ZeroShotAnchor.weightSpace(dw.table(), dw1.table(), dg.table(), 8f);
      assertEquals(cpu, gpu, 0.0);
      float[] cpuGrad = new float[total()];
      hg.get(cpuGrad);
      assertArrayEquals(cpuGrad, dg.read());

      WeightInterpolation.interpolate(hostTable(hw), hostTable(hw1), alphas,
          List.of(hostTable(hs0), hostTable(hs1), hostTable(hs2)));
      WeightInterpolation.interpolate(dw.table(), dw1.table(), alphas, List.of(ds0.table(), ds1.table(), ds2.table()));
      float[] c = new float[total()];
      hs1.get(c);
      assertArrayEquals(c, ds1.read());

      WeightInterpolation.accumulateGradients(hostTable(hacc), List.of(hostTable(hg0), hostTable(hg1), hostTable(hg2)),
          alphas, omegas);
      WeightInterpolation.accumulateGradients(dacc.table(), List.of(dg0.table(), dg1.table(), dg2.table()), alphas,
          omegas);
      hacc.get(c);
      assertArrayEquals(c, dacc.read());
    }
  }

  @Test
  void withoutADeviceCudaCallsFailClearly() {
    assumeTrue(!Devices.cudaAvailable());
    SegmentTable a = SegmentTable.ofAddresses(DeviceKind.CUDA, null, new long[] {64}, new long[] {4});
    SegmentTable b = SegmentTable.ofAddresses(DeviceKind.CUDA, null, new long[] {128}, new long[] {4});
    KernelException e = assertThrows(KernelException.class, () -> ZeroShotAnchor.weightSpace(a, b, null, 1f));
    assertEquals(Status.CUDA_UNAVAILABLE, e.status());
    e = assertThrows(KernelException.class, () -> WeightInterpolation.interpolate(a, b, 0.5f,
        SegmentTable.ofAddresses(DeviceKind.CUDA, null, new long[] {256}, new long[] {4})));
    assertEquals(Status.CUDA_UNAVAILABLE, e.status());
  }
}
