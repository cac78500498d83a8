package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * K4b: DARE (drop and rescale) fused with task arithmetic,
 *
 * <pre>  out = base + Σ_i λ_i · r_i · keep_i ⊙ (model_i − base)</pre>
 *
 * Each delta element is dropped with probability {@code dropRate} (kept with {@code keepDensity} = 1 − dropRate:
 * the two conventions in circulation, named explicitly here). The masks come from a counter-based RNG keyed only
 * on (seed, model index, tensor name, element index), so they are the same on CPU and GPU, in any tensor order and
 * under any sharding. Rescale: {@link Rescale#INVERSE} 1/(1 − p) as in the DARE paper, {@link Rescale#L1} per
 * tensor so that its delta's L1 norm is kept (mergekit's behaviour since 2025), or {@link Rescale#NONE}.
 */
public final class Dare {
  private Dare() {}

  public enum Rescale {
    NONE(MergetuneNative.MT_DARE_RESCALE_NONE),
    INVERSE(MergetuneNative.MT_DARE_RESCALE_INVERSE),
    L1(MergetuneNative.MT_DARE_RESCALE_L1);

    private final int code;

    Rescale(int code) {
      this.code = code;
    }
  }

  /** Drop probability, seed and rescale mode. */
  public record Options(float dropRate, long seed, Rescale rescale) {
    public Options {
      if (!(dropRate >= 0f && dropRate < 1f)) {
        throw new IllegalArgumentException("dropRate must be in [0, 1), got " + dropRate);
      }
      Objects.requireNonNull(rescale, "rescale");
    }

    /** Drop each delta element with probability {@code dropRate}. */
    public static Options dropRate(float dropRate, long seed, Rescale rescale) {
      return new Options(dropRate, seed, rescale);
    }

    /** Keep each delta element with probability {@code keepDensity} (drop rate 1 − keepDensity). */
    public static Options keepDensity(float keepDensity, long seed, Rescale rescale) {
      if (!(keepDensity > 0f && keepDensity <= 1f)) {
        throw new IllegalArgumentException("keepDensity must be in (0, 1], got " + keepDensity);
      }
      return new Options(1f - keepDensity, seed, rescale);
    }
  }

  /** out = base + Σ λ_i·r_i·keep_i⊙(models_i − base), NaN/Inf reported with the model and tensor. */
  public static void merge(SegmentTable out, SegmentTable base, List<SegmentTable> models, float[] lambdas,
      Options options) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(models, "models");
    if (lambdas.length != models.size()) {
      throw new IllegalArgumentException(lambdas.length + " lambdas for " + models.size() + " models");
    }
    for (int i = 0; i < lambdas.length; i++) {
      if (!Float.isFinite(lambdas[i])) throw new IllegalArgumentException("lambdas[" + i + "] is " + lambdas[i]);
    }
    out.requireSameLayout(base, "out", "base");
    int nSeg = base.size();
    long[] modelAddresses = new long[models.size() * nSeg];
    for (int i = 0; i < models.size(); i++) {
      models.get(i).requireSameLayout(base, "model " + i, "base");
      System.arraycopy(models.get(i).addressesArray(), 0, modelAddresses, i * nSeg, nSeg);
    }
    long[] keys = new long[nSeg];
    for (int s = 0; s < nSeg; s++) keys[s] = tensorKey(base.name(s));
    long stream = base.device() == DeviceKind.CUDA && base.tensorBacked() ? CudaStreams.current(base.deviceIndex()) : 0L;
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_dare_f32(base.device().code(), stream, nSeg, base.lengthsArray(), keys,
        out.addressesArray(), base.addressesArray(), models.size(), modelAddresses, lambdas, options.dropRate(),
        options.seed(), options.rescale().code, MergetuneNative.MT_CHECK_FINITE);
    KernelErrors.throwOnFailure(status, base, "model", "base");
  }

  /**
   * The RNG key of a tensor: 64-bit FNV-1a of its name in UTF-8. Keying on the name (not the position) is what
   * makes masks independent of tensor order and sharding.
   */
  public static long tensorKey(String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x100000001b3L;
    }
    return h;
  }
}
