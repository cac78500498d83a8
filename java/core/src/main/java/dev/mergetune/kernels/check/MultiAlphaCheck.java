package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.binding.MergetuneNative;
import dev.mergetune.kernels.reference.MultiAlphaReference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The self-check's K1 cases: re-normalised CE with label smoothing and plain KL against MultiAlphaReference at the
 * tolerance of multialpha.h ({@code 1e-6·(1 + max|z|)} relative to each output's largest value; 1e-5 on CUDA, whose
 * row sums are fp32 trees), and a NaN named with its row and class. Calls the C ABI on raw device buffers.
 */
final class MultiAlphaCheck {
  private static final String KERNEL = "multi-alpha loss (K1)";
  private static final float[] ALPHAS = {0.1f, 0.3f, 0.5f, 0.7f, 0.9f};
  private static final float[] WEIGHTS = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
  private static final float SCALE = 100f;

  private MultiAlphaCheck() {}

  static List<CheckResult> run(DeviceKind device) {
    List<CheckResult> results = new ArrayList<>();
    results.add(CheckCases.guard(KERNEL, device, "B=32 C=100 K=5 re-normalised CE vs reference",
        () -> againstReference(device, true, false)));
    results.add(CheckCases.guard(KERNEL, device, "B=32 C=100 K=5 plain KL vs reference",
        () -> againstReference(device, false, true)));
    results.add(CheckCases.guard(KERNEL, device, "NaN in A reported", () -> nanReported(device)));
    return results;
  }

  /** One problem's inputs (CLIP-like cosines, a small drift, norms of unit g and a small F − g). */
  private static final class Problem {
    final int rows = 32;
    final int classes = 100;
    final float[] a = new float[rows * classes];
    final float[] d = new float[rows * classes];
    final float[] n0 = new float[classes];
    final float[] n1 = new float[classes];
    final float[] n2 = new float[classes];
    final float[] targets = new float[rows * classes];
    final int[] labels = new int[rows];

    Problem(long seed) {
      SplittableRandom r = new SplittableRandom(seed);
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) r.nextDouble(-0.3, 0.3);
        d[i] = (float) r.nextDouble(-0.05, 0.05);
      }
      for (int c = 0; c < classes; c++) {
        n0[c] = 1f;
        n1[c] = (float) r.nextDouble(-0.02, 0.02);
        n2[c] = (float) r.nextDouble(0.01, 0.06);
      }
      for (int b = 0; b < rows; b++) {
        labels[b] = r.nextInt(classes);
        double s = 0;
        for (int c = 0; c < classes; c++) s += targets[b * classes + c] = (float) Math.exp(r.nextDouble(-4, 4));
        for (int c = 0; c < classes; c++) targets[b * classes + c] = (float) (targets[b * classes + c] / s);
      }
    }
  }

  /** Runs the kernel on the device; returns [losses + total, dA, dD, dn0, dn1, dn2] as host arrays, or throws. */
  private static float[][] call(DeviceKind device, Problem p, boolean renorm, boolean kl, float[] a) {
    List<DeviceBuffer> owned = new ArrayList<>();
    try {
      int k = ALPHAS.length;
      int bc = p.rows * p.classes;
      float[] labelBits = new float[p.rows];  // int32 labels travel in a float buffer, bit for bit
      for (int b = 0; b < p.rows; b++) labelBits[b] = Float.intBitsToFloat(p.labels[b]);
      long[] in = {
          upload(device, owned, a), upload(device, owned, p.d), upload(device, owned, p.n0), upload(device, owned, p.n1),
          upload(device, owned, p.n2), upload(device, owned, kl ? p.targets : labelBits)};
      DeviceBuffer losses = buffer(device, owned, k + 1);
      DeviceBuffer ga = buffer(device, owned, bc);
      DeviceBuffer gd = buffer(device, owned, bc);
      DeviceBuffer[] gn = {buffer(device, owned, p.classes), buffer(device, owned, p.classes),
          buffer(device, owned, p.classes)};
      long n0 = renorm ? in[2] : 0;
      long n1 = renorm ? in[3] : 0;
      long n2 = renorm ? in[4] : 0;
      long g0 = renorm ? gn[0].address() : 0;
      long g1 = renorm ? gn[1].address() : 0;
      long g2 = renorm ? gn[2].address() : 0;
      int dev = device == DeviceKind.CUDA ? MergetuneNative.MT_DEVICE_CUDA : MergetuneNative.MT_DEVICE_CPU;
      int status = kl
          ? MergetuneNative.mt_multialpha_kl_f32(dev, 0L, p.rows, p.classes, in[0], in[1], n0, n1, n2, in[5], k, ALPHAS,
              WEIGHTS, SCALE, losses.address(), losses.address() + 4L * k, ga.address(), gd.address(), g0, g1, g2,
              MergetuneNative.MT_CHECK_FINITE)
          : MergetuneNative.mt_multialpha_ce_f32(dev, 0L, p.rows, p.classes, in[0], in[1], n0, n1, n2, in[5], 0.1f, k,
              ALPHAS, WEIGHTS, SCALE, losses.address(), losses.address() + 4L * k, ga.address(), gd.address(), g0, g1,
              g2, MergetuneNative.MT_CHECK_FINITE);
      if (status != MergetuneNative.MT_OK) {
        throw new IllegalStateException(MergetuneNative.mt_status_name(status) + " (input "
            + MergetuneNative.mt_last_error_input() + ", row " + MergetuneNative.mt_last_error_segment() + ", class "
            + MergetuneNative.mt_last_error_element() + "): " + MergetuneNative.mt_last_error());
      }
      return new float[][] {losses.download(), ga.download(), gd.download(), gn[0].download(), gn[1].download(),
          gn[2].download()};
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static long upload(DeviceKind device, List<DeviceBuffer> owned, float[] values) {
    DeviceBuffer b = buffer(device, owned, values.length);
    b.upload(values);
    return b.address();
  }

  private static DeviceBuffer buffer(DeviceKind device, List<DeviceBuffer> owned, long length) {
    DeviceBuffer b = DeviceBuffer.allocate(device, length);
    owned.add(b);
    return b;
  }

  private static String againstReference(DeviceKind device, boolean renorm, boolean kl) {
    Problem p = new Problem(renorm ? 5 : 6);
    float[][] got = call(device, p, renorm, kl, p.a);
    MultiAlphaReference.Result want = MultiAlphaReference.compute(p.rows, p.classes, p.a, p.d, renorm ? p.n0 : null,
        renorm ? p.n1 : null, renorm ? p.n2 : null, kl ? null : p.labels, 0.1f, kl ? p.targets : null, ALPHAS,
        WEIGHTS, SCALE);
    double tolerance = (device == DeviceKind.CUDA ? 1e-5 : 1e-6) * (1 + want.maxAbsLogit());
    double worst = 0;
    for (int k = 0; k < ALPHAS.length; k++) {
      worst = Math.max(worst, Math.abs(got[0][k] - want.losses()[k]) / (1 + Math.abs(want.losses()[k])));
    }
    worst = Math.max(worst, Math.abs(got[0][ALPHAS.length] - want.total()) / (1 + Math.abs(want.total())));
    worst = Math.max(worst, error(got[1], want.gradA()));
    worst = Math.max(worst, error(got[2], want.gradD()));
    if (renorm) {
      worst = Math.max(worst, error(got[3], want.gradN0()));
      worst = Math.max(worst, error(got[4], want.gradN1()));
      worst = Math.max(worst, error(got[5], want.gradN2()));
    }
    return worst <= tolerance ? null : "error " + worst + " above " + tolerance;
  }

  /** max|got − want| / max|want|, NaN as infinite. */
  private static double error(float[] got, double[] want) {
    double e = 0;
    double m = 0;
    for (int i = 0; i < want.length; i++) {
      double d = Math.abs(got[i] - want[i]);
      e = Math.max(e, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
      m = Math.max(m, Math.abs(want[i]));
    }
    return m == 0 ? e : e / m;
  }

  private static String nanReported(DeviceKind device) {
    Problem p = new Problem(7);
    float[] a = p.a.clone();
    a[3 * p.classes + 7] = Float.NaN;
    try {
      call(device, p, true, false, a);
      return "NaN was not reported";
    } catch (IllegalStateException e) {
      String m = e.getMessage();
      return m.startsWith("MT_NON_FINITE (input " + MergetuneNative.MT_MA_INPUT_A + ", row 3, class 7)") ? null
          : "wrong report: " + m;
    }
  }
}
