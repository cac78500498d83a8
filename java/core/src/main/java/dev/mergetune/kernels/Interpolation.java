package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.List;
import java.util.Objects;

/**
 * K4a: weighted interpolation of parameter sets in one fused pass,
 *
 * <pre>  out = base + Σ_i λ_i·(model_i − base)</pre>
 *
 * Task arithmetic is base = θ0 with one λ_i per fine-tuned model; WiSE-FT is the two-model case with λ = α.
 * Accumulation is fp32; per element the result is within (n + 2)·2⁻²⁴ of the exact value relative to
 * |base| + Σ|λ_i·(model_i − base)|. {@code out} may be one of the inputs (in-place). By default a NaN/Inf in any
 * input (or an overflow) throws {@link NonFiniteException} naming the input and tensor; {@code out} then holds
 * unspecified values.
 */
public final class Interpolation {
  private Interpolation() {}

  /** out = base + Σ λ_i·(models_i − base), checking for non-finite values. */
  public static void interpolate(SegmentTable out, SegmentTable base, List<SegmentTable> models, float[] lambdas) {
    interpolate(out, base, models, lambdas, true);
  }

  public static void interpolate(
      SegmentTable out, SegmentTable base, List<SegmentTable> models, float[] lambdas, boolean checkFinite) {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(models, "models");
    Objects.requireNonNull(lambdas, "lambdas");
    if (lambdas.length != models.size()) {
      throw new IllegalArgumentException(lambdas.length + " lambdas for " + models.size() + " models");
    }
    requireFinite(lambdas);
    out.requireSameLayout(base, "out", "base");
    for (int i = 0; i < models.size(); i++) {
      Objects.requireNonNull(models.get(i), "model " + i).requireSameLayout(base, "model " + i, "base");
    }
    int nSeg = base.size();
    long[] modelAddresses = new long[models.size() * nSeg];
    for (int i = 0; i < models.size(); i++) {
      System.arraycopy(models.get(i).addressesArray(), 0, modelAddresses, i * nSeg, nSeg);
    }
    long stream = 0;
    if (base.device() == DeviceKind.CUDA && base.tensorBacked()) {
      requireCurrentDevice(base.deviceIndex());
      stream = CudaStreams.current(base.deviceIndex());
    }
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_interp_f32(base.device().code(), stream, nSeg, base.lengthsArray(),
        out.addressesArray(), base.addressesArray(), models.size(), modelAddresses, lambdas,
        checkFinite ? MergetuneNative.MT_CHECK_FINITE : 0);
    KernelErrors.throwOnFailure(status, base, "model", "base");
  }

  /** Task arithmetic: θ0 + scale·Σ w_i·(θ_i − θ0) (a sum, not an average). */
  public static void taskArithmetic(
      SegmentTable out, SegmentTable theta0, List<SegmentTable> finetuned, float scale, float[] weights) {
    Objects.requireNonNull(weights, "weights");
    if (weights.length != finetuned.size()) {
      throw new IllegalArgumentException(weights.length + " weights for " + finetuned.size() + " fine-tuned models");
    }
    float[] lambdas = new float[weights.length];
    for (int i = 0; i < weights.length; i++) lambdas[i] = scale * weights[i];
    interpolate(out, theta0, finetuned, lambdas);
  }

  /** WiSE-FT: (1 − α)·θ0 + α·θ1, computed as θ0 + α·(θ1 − θ0). */
  public static void wiseFt(SegmentTable out, SegmentTable zeroShot, SegmentTable finetuned, float alpha) {
    interpolate(out, zeroShot, List.of(finetuned), new float[] {alpha});
  }

  /**
   * The same kernel over raw memory, for trainers that are not ours: all addresses on {@code device} (CUDA: the
   * current device, launched on {@code stream}, a cudaStream_t or 0), {@code models[i][s]} the segment s of model i.
   */
  public static void interpolateRaw(DeviceKind device, long stream, long[] lengths, long[] out, long[] base,
      long[][] models, float[] lambdas, boolean checkFinite) {
    Objects.requireNonNull(models, "models");
    SegmentTable baseTable = SegmentTable.ofAddresses(device, null, base, lengths);
    SegmentTable outTable = SegmentTable.ofAddresses(device, null, out, lengths);
    if (lambdas.length != models.length) {
      throw new IllegalArgumentException(lambdas.length + " lambdas for " + models.length + " models");
    }
    requireFinite(lambdas);
    long[] modelAddresses = new long[models.length * lengths.length];
    for (int i = 0; i < models.length; i++) {
      if (models[i].length != lengths.length) {
        throw new IllegalArgumentException(
            "model " + i + " has " + models[i].length + " segments but base has " + lengths.length);
      }
      SegmentTable.ofAddresses(device, null, models[i], lengths);  // validates null addresses
      System.arraycopy(models[i], 0, modelAddresses, i * lengths.length, lengths.length);
    }
    if (device == DeviceKind.CPU) NativeRuntime.ensureKernels();  // host addresses: libmergetune alone, no torch class
    else NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_interp_f32(device.code(), stream, lengths.length, lengths,
        outTable.addressesArray(), baseTable.addressesArray(), models.length, modelAddresses, lambdas,
        checkFinite ? MergetuneNative.MT_CHECK_FINITE : 0);
    KernelErrors.throwOnFailure(status, baseTable, "model", "base");
  }

  private static void requireFinite(float[] lambdas) {
    for (int i = 0; i < lambdas.length; i++) {
      if (!Float.isFinite(lambdas[i])) {
        throw new IllegalArgumentException("lambdas[" + i + "] is " + lambdas[i] + "; coefficients must be finite");
      }
    }
  }

  private static void requireCurrentDevice(int index) {
    int current = org.bytedeco.pytorch.global.torch_cuda.current_device();
    if (current != index) {
      throw new IllegalArgumentException("tensors are on cuda:" + index + " but the current CUDA device is cuda:"
          + current + "; make cuda:" + index + " current first");
    }
  }
}
