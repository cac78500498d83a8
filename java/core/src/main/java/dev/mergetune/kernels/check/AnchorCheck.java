package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The self-check's K2 and K5 cases on two segments (odd lengths), against the formulas evaluated here in double:
 * the anchor value (λ/2)Σ(w − w1)² with grad += λ(w − w1); one fused AdamW step on g + λ(w − w1) (t = 1 and t = 2);
 * K5's scratch = ŵ2 + α(w − ŵ2) and grad += ω·α·g_scratch; and a NaN in w reported with its segment and element.
 */
final class AnchorCheck {
  private static final String K2 = "zero-shot anchor (K2)";
  private static final String K5 = "weight interpolation (K5)";
  private static final int[] LENGTHS = {1000, 4099};
  private static final float LAMBDA = 0.7f;

  private AnchorCheck() {}

  static List<CheckResult> run(DeviceKind device) {
    List<CheckResult> results = new ArrayList<>();
    results.add(CheckCases.guard(K2, device, "value + gradient vs double", () -> anchor(device)));
    results.add(CheckCases.guard(K2, device, "fused AdamW, 2 steps, vs double", () -> adamW(device)));
    results.add(CheckCases.guard(K2, device, "NaN in w reported", () -> nanReported(device)));
    results.add(CheckCases.guard(K5, device, "interpolate + accumulate vs double", () -> interpolation(device)));
    return results;
  }

  private static float[][] random(long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[][] out = new float[LENGTHS.length][];
    for (int s = 0; s < LENGTHS.length; s++) {
      out[s] = new float[LENGTHS[s]];
      for (int i = 0; i < out[s].length; i++) out[s][i] = (float) (scale * r.nextGaussian());
    }
    return out;
  }

  /** Buffers holding the arrays on the device; their addresses, and the buffers in {@code owned}. */
  private static long[] upload(DeviceKind device, List<DeviceBuffer> owned, float[][] arrays) {
    long[] a = new long[arrays.length];
    for (int s = 0; s < arrays.length; s++) {
      DeviceBuffer b = DeviceBuffer.allocate(device, arrays[s].length);
      owned.add(b);
      b.upload(arrays[s]);
      a[s] = b.address();
    }
    return a;
  }

  private static float[][] download(List<DeviceBuffer> owned, int first) {
    float[][] out = new float[LENGTHS.length][];
    for (int s = 0; s < LENGTHS.length; s++) out[s] = owned.get(first + s).download();
    return out;
  }

  private static long[] lengths() {
    long[] l = new long[LENGTHS.length];
    for (int s = 0; s < l.length; s++) l[s] = LENGTHS[s];
    return l;
  }

  private static int dev(DeviceKind device) {
    return device == DeviceKind.CUDA ? MergetuneNative.MT_DEVICE_CUDA : MergetuneNative.MT_DEVICE_CPU;
  }

  private static void ok(int status) {
    if (status != MergetuneNative.MT_OK) {
      throw new IllegalStateException(MergetuneNative.mt_status_name(status) + " (input "
          + MergetuneNative.mt_last_error_input() + ", segment " + MergetuneNative.mt_last_error_segment()
          + ", element " + MergetuneNative.mt_last_error_element() + "): " + MergetuneNative.mt_last_error());
    }
  }

  /** max over elements of |got − want| / max(1, |want|). */
  private static double error(float[][] got, double[][] want) {
    double e = 0;
    for (int s = 0; s < want.length; s++) {
      for (int i = 0; i < want[s].length; i++) {
        double d = Math.abs(got[s][i] - want[s][i]) / Math.max(1, Math.abs(want[s][i]));
        e = Math.max(e, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
      }
    }
    return e;
  }

  private static String anchor(DeviceKind device) {
    float[][] w = random(1, 1), w1 = random(2, 1), g = random(3, 0.1);
    List<DeviceBuffer> owned = new ArrayList<>();
    try {
      long[] pw = upload(device, owned, w), pw1 = upload(device, owned, w1), pg = upload(device, owned, g);
      double[] value = new double[1];
      ok(MergetuneNative.mt_anchor_f32(dev(device), 0L, LENGTHS.length, lengths(), pw, pw1, pg, LAMBDA, value,
          MergetuneNative.MT_CHECK_FINITE));
      double want = 0;
      double[][] grad = new double[LENGTHS.length][];
      for (int s = 0; s < LENGTHS.length; s++) {
        grad[s] = new double[LENGTHS[s]];
        for (int i = 0; i < LENGTHS[s]; i++) {
          double d = (double) w[s][i] - w1[s][i];
          want += LAMBDA / 2.0 * d * d;
          grad[s][i] = g[s][i] + LAMBDA * d;
        }
      }
      double ev = Math.abs(value[0] - want) / want;
      double eg = error(download(owned, 2 * LENGTHS.length), grad);
      return ev <= 1e-9 && eg <= 1e-6 ? null : "value error " + ev + ", gradient error " + eg;
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static String adamW(DeviceKind device) {
    float[][] w = random(4, 1), w1 = random(5, 1), g1 = random(6, 0.1), g2 = random(7, 0.1);
    float[][] zeros = {new float[LENGTHS[0]], new float[LENGTHS[1]]};
    double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    List<DeviceBuffer> owned = new ArrayList<>();
    try {
      long[] pw = upload(device, owned, w), pw1 = upload(device, owned, w1);
      long[] m = upload(device, owned, zeros), v = upload(device, owned, zeros);
      double[] value = new double[1];
      for (int t = 1; t <= 2; t++) {
        List<DeviceBuffer> grads = new ArrayList<>();
        long[] pg = upload(device, grads, t == 1 ? g1 : g2);
        owned.addAll(grads);
        ok(MergetuneNative.mt_anchor_adamw_step_f32(dev(device), 0L, LENGTHS.length, lengths(), pw, pw1, pg, m, v,
            LAMBDA, lr, b1, b2, eps, wd, t, value, MergetuneNative.MT_CHECK_FINITE));
      }
      double[][] want = new double[LENGTHS.length][];
      for (int s = 0; s < LENGTHS.length; s++) {
        want[s] = new double[LENGTHS[s]];
        for (int i = 0; i < LENGTHS[s]; i++) {
          double p = w[s][i], mm = 0, vv = 0;
          for (int t = 1; t <= 2; t++) {
            double g = (t == 1 ? g1 : g2)[s][i] + LAMBDA * (p - w1[s][i]);
            p *= 1 - lr * wd;
            mm = b1 * mm + (1 - b1) * g;
            vv = b2 * vv + (1 - b2) * g * g;
            p -= (lr / (1 - Math.pow(b1, t))) * mm / (Math.sqrt(vv) / Math.sqrt(1 - Math.pow(b2, t)) + eps);
          }
          want[s][i] = p;
        }
      }
      double e = error(download(owned, 0), want);
      return e <= 1e-6 ? null : "error " + e + " above 1e-6";
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static String nanReported(DeviceKind device) {
    float[][] w = random(8, 1), w1 = random(9, 1), g = random(10, 0.1);
    w[1][77] = Float.NaN;
    List<DeviceBuffer> owned = new ArrayList<>();
    try {
      long[] pw = upload(device, owned, w), pw1 = upload(device, owned, w1), pg = upload(device, owned, g);
      int status = MergetuneNative.mt_anchor_f32(dev(device), 0L, LENGTHS.length, lengths(), pw, pw1, pg, LAMBDA,
          new double[1], MergetuneNative.MT_CHECK_FINITE);
      if (status == MergetuneNative.MT_OK) return "NaN was not reported";
      boolean named = MergetuneNative.mt_last_error_input() == MergetuneNative.MT_ANCHOR_INPUT_W
          && MergetuneNative.mt_last_error_segment() == 1 && MergetuneNative.mt_last_error_element() == 77;
      return named ? null : "wrong report: input " + MergetuneNative.mt_last_error_input() + ", segment "
          + MergetuneNative.mt_last_error_segment() + ", element " + MergetuneNative.mt_last_error_element();
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static String interpolation(DeviceKind device) {
    float[][] w = random(11, 1), w2 = random(12, 1), gs = random(13, 0.1), gw = random(14, 0.1);
    float alpha = 0.3f, omega = 0.25f;
    List<DeviceBuffer> owned = new ArrayList<>();
    try {
      long[] pw = upload(device, owned, w), pw2 = upload(device, owned, w2);
      long[] scratch = upload(device, owned, new float[][] {new float[LENGTHS[0]], new float[LENGTHS[1]]});
      ok(MergetuneNative.mt_scratch_interp_f32(dev(device), 0L, LENGTHS.length, lengths(), pw, pw2, 1,
          new float[] {alpha}, scratch, MergetuneNative.MT_CHECK_FINITE));
      long[] pgw = upload(device, owned, gw), pgs = upload(device, owned, gs);
      ok(MergetuneNative.mt_scratch_grad_accumulate_f32(dev(device), 0L, LENGTHS.length, lengths(), pgw, 1, pgs,
          new float[] {alpha}, new float[] {omega}, MergetuneNative.MT_CHECK_FINITE));
      double[][] wantScratch = new double[LENGTHS.length][];
      double[][] wantGrad = new double[LENGTHS.length][];
      for (int s = 0; s < LENGTHS.length; s++) {
        wantScratch[s] = new double[LENGTHS[s]];
        wantGrad[s] = new double[LENGTHS[s]];
        for (int i = 0; i < LENGTHS[s]; i++) {
          wantScratch[s][i] = w2[s][i] + (double) alpha * ((double) w[s][i] - w2[s][i]);
          wantGrad[s][i] = gw[s][i] + (double) omega * alpha * gs[s][i];
        }
      }
      double e1 = error(download(owned, 2 * LENGTHS.length), wantScratch);
      double e2 = error(download(owned, 3 * LENGTHS.length), wantGrad);
      return e1 <= 1e-6 && e2 <= 1e-6 ? null : "scratch error " + e1 + ", gradient error " + e2;
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }
}
