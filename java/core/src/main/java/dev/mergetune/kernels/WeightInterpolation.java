package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.List;
import java.util.Objects;

/**
 * K5, the weight-space interpolation of end-to-end MergeTune: the LMC term β·E_α L(ŵ2 + α(w − ŵ2)) evaluates the
 * loss at interpolated weights, written into scratch parameter sets,
 *
 * <pre>  scratch_k = ŵ2 + α_k·(w − ŵ2)</pre>
 *
 * and, after the backward pass of the model holding the scratch weights, the chain rule of the interpolation adds
 * the scratch gradients back into w's gradient:
 *
 * <pre>  grad_w += Σ_k ω_k·α_k·grad_k</pre>
 *
 * (ω_k = β/N_α for the paper's mean over N_α points). fp32, one pass over memory per call, CPU and CUDA
 * bit-identical; scratch = ŵ2 + α(w − ŵ2) rounds exactly as {@link Interpolation#wiseFt}. A scratch set may be w or
 * ŵ2 itself (in place); {@code gradW} may be one of the scratch gradients. By default a NaN/Inf in an input (or an
 * overflow) throws {@link NonFiniteException} naming the tensor; that element's output is left unchanged.
 */
public final class WeightInterpolation {
  private WeightInterpolation() {}

  /** scratch = ŵ2 + α(w − ŵ2). */
  public static void interpolate(SegmentTable w, SegmentTable w2hat, float alpha, SegmentTable scratch) {
    interpolate(w, w2hat, new float[] {alpha}, List.of(scratch));
  }

  /** scratch_k = ŵ2 + α_k(w − ŵ2) for every k, reading w and ŵ2 once (the scratch sets must be distinct memory). */
  public static void interpolate(SegmentTable w, SegmentTable w2hat, float[] alphas, List<SegmentTable> scratch) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(w2hat, "w2hat");
    Objects.requireNonNull(alphas, "alphas");
    Objects.requireNonNull(scratch, "scratch");
    if (alphas.length != scratch.size() || alphas.length == 0) {
      throw new IllegalArgumentException(alphas.length + " alphas for " + scratch.size() + " scratch sets");
    }
    requireFinite("alphas", alphas);
    w2hat.requireSameLayout(w, "w2hat", "w");
    long[] out = gather(scratch, w, "scratch");
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_scratch_interp_f32(w.device().code(), AnchorCalls.streamFor(w), w.size(),
        w.lengthsArray(), w.addressesArray(), w2hat.addressesArray(), alphas.length, alphas, out,
        MergetuneNative.MT_CHECK_FINITE);
    AnchorCalls.throwOnFailure(status, w, List.of("w"), "w2hat");
  }

  /** grad_w += ω·α·grad_scratch. */
  public static void accumulateGradient(SegmentTable gradW, SegmentTable gradScratch, float alpha, float omega) {
    accumulateGradients(gradW, List.of(gradScratch), new float[] {alpha}, new float[] {omega});
  }

  /** grad_w += Σ_k ω_k·α_k·grad_k in one pass; {@code omegas} may be null (all 1). */
  public static void accumulateGradients(
      SegmentTable gradW, List<SegmentTable> gradScratch, float[] alphas, float[] omegas) {
    Objects.requireNonNull(gradW, "gradW");
    Objects.requireNonNull(gradScratch, "gradScratch");
    Objects.requireNonNull(alphas, "alphas");
    if (alphas.length != gradScratch.size() || alphas.length == 0) {
      throw new IllegalArgumentException(alphas.length + " alphas for " + gradScratch.size() + " gradient sets");
    }
    if (omegas != null && omegas.length != alphas.length) {
      throw new IllegalArgumentException(omegas.length + " omegas for " + alphas.length + " alphas");
    }
    requireFinite("alphas", alphas);
    if (omegas != null) requireFinite("omegas", omegas);
    long[] sets = gather(gradScratch, gradW, "gradient set");
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_scratch_grad_accumulate_f32(gradW.device().code(), AnchorCalls.streamFor(gradW),
        gradW.size(), gradW.lengthsArray(), gradW.addressesArray(), alphas.length, sets, alphas, omegas,
        MergetuneNative.MT_CHECK_FINITE);
    AnchorCalls.throwOnFailure(status, gradW, List.of("gradient set"), "gradW");
  }

  private static long[] gather(List<SegmentTable> tables, SegmentTable layout, String role) {
    int n = layout.size();
    long[] all = new long[tables.size() * n];
    for (int k = 0; k < tables.size(); k++) {
      SegmentTable t = Objects.requireNonNull(tables.get(k), role + " " + k);
      t.requireSameLayout(layout, role + " " + k, "w");
      System.arraycopy(t.addressesArray(), 0, all, k * n, n);
    }
    return all;
  }

  private static void requireFinite(String what, float[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) throw new IllegalArgumentException(what + "[" + i + "] is " + v[i] + "; must be finite");
    }
  }
}
