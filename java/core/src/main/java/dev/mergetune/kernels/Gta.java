package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;

/**
 * mergekit's generalized task arithmetic on one tensor ({@code native/include/mergetune/gta.h}): the keep masks
 * of its sparsification methods ({@link #sparsify}) and the one-pass merge ({@link #apply}),
 *
 * <pre>
 *   wd_i = w_i·r_i·keep_i⊙(m_i − b);   none: mixed = Σ wd_i, D = Σ w_i
 *   sum / count: s = elected sign; mixed = Σ [sgn wd_i = s]·wd_i, D = Σ [sgn wd_i = s]·w_i
 *   out = b + λ·(normalize ? mixed / D : mixed)
 * </pre>
 *
 * Addresses are of float32 CPU memory (or CUDA device memory for {@link #apply} on {@link DeviceKind#CUDA});
 * masks are {@code ⌈n/32⌉} uint32 words, element j at bit j mod 32 of word j / 32.
 */
public final class Gta {
  private Gta() {}

  public enum Consensus {
    NONE(MergetuneNative.MT_GTA_CONSENSUS_NONE),
    SUM(MergetuneNative.MT_GTA_CONSENSUS_SUM),
    COUNT(MergetuneNative.MT_GTA_CONSENSUS_COUNT);

    final int code;

    Consensus(int code) {
      this.code = code;
    }
  }

  public enum Sparsification {
    /** Keep the ⌊density·n⌋ largest |δ| (TIES). */
    MAGNITUDE(MergetuneNative.MT_GTA_SPARSIFY_MAGNITUDE),
    /** Breadcrumbs: drop the ⌊γ·n⌋ largest and the smallest, keep ⌊density·n⌋. */
    OUTLIERS(MergetuneNative.MT_GTA_SPARSIFY_OUTLIERS),
    /** DARE's Philox Bernoulli(density) masks, bit for bit. */
    RANDOM(MergetuneNative.MT_GTA_SPARSIFY_RANDOM),
    /** DELLA's MAGPRUNE: Bernoulli with a probability linear in the row rank of |δ|, density ± ε. */
    DELLA(MergetuneNative.MT_GTA_SPARSIFY_DELLA);

    final int code;

    Sparsification(int code) {
      this.code = code;
    }
  }

  /**
   * Writes the keep bits of {@code model − base} (base 0: no base) into {@code bits} and returns {Σ|δ|, Σ keep·|δ|}
   * when {@code sums} (else null: RANDOM then reads no tensor data).
   * {@code shape} is the tensor's shape (DELLA ranks along its dimension 1; a 0-/1-D tensor is one row).
   */
  public static double[] sparsify(String tensor, long[] shape, long base, long model, int modelIndex,
      Sparsification method, double density, double param, long seed, long bits, boolean sums) {
    long n = 1;
    for (long d : shape) n *= d;
    long outer = shape.length >= 2 ? shape[0] : 1;
    long len = shape.length >= 2 ? shape[1] : n;
    long inner = n == 0 ? 1 : n / Math.max(1, outer * len);
    double[] out = sums ? new double[2] : null;
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_gta_sparsify_f32(n, outer, len, inner, base, model, method.code, density, param,
        seed, Dare.tensorKey(tensor), modelIndex, bits, out, MergetuneNative.MT_CHECK_FINITE);
    check(status, tensor);
    return out;
  }

  /** One merged tensor of n elements into {@code out}; {@code keepBits} may be null (no masks) or hold 0 entries. */
  public static void apply(DeviceKind device, String tensor, long n, long out, long base, long[] models,
      long[] keepBits, float[] coefs, float[] weights, Consensus consensus, boolean normalize, float divisor,
      float lambda) {
    if (coefs.length != models.length || weights.length != models.length) {
      throw new IllegalArgumentException(models.length + " models, " + coefs.length + " coefs, " + weights.length + " weights");
    }
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_gta_f32(device.code(), 0L, n, out, base, models.length, models, keepBits, coefs,
        weights, consensus.code, normalize ? 1 : 0, divisor, lambda, MergetuneNative.MT_CHECK_FINITE);
    check(status, tensor);
  }

  /**
   * The Gram matrix G[i][j] = Σ_e (x_i − b)(x_j − b) in double of one tensor's inputs (base 0: no base), for the
   * merges whose coefficients come from angles (slerp, model_stock).
   */
  public static double[][] gram(DeviceKind device, String tensor, long n, long base, long[] inputs) {
    int k = inputs.length;
    double[] g = new double[k * k];
    NativeRuntime.ensureLoaded();
    check(MergetuneNative.mt_gram_f32(device.code(), 0L, n, base, k, inputs, g, MergetuneNative.MT_CHECK_FINITE), tensor);
    double[][] out = new double[k][k];
    for (int i = 0; i < k; i++) System.arraycopy(g, i * k, out[i], 0, k);
    return out;
  }

  private static void check(int status, String tensor) {
    if (status == MergetuneNative.MT_OK) return;
    String message = MergetuneNative.mt_last_error();
    if (status == MergetuneNative.MT_NON_FINITE) {
      int input = MergetuneNative.mt_last_error_input();
      String role = input == MergetuneNative.MT_INPUT_BASE ? "base"
          : input == MergetuneNative.MT_INPUT_OUTPUT ? "result" : "model " + input;
      long element = MergetuneNative.mt_last_error_element();
      throw new NonFiniteException(role, tensor, element,
          "non-finite value in " + role + " at tensor '" + tensor + "' element " + element + " (" + message + ")");
    }
    if (status == MergetuneNative.MT_INVALID_ARGUMENT) throw new IllegalArgumentException("tensor '" + tensor + "': " + message);
    throw new KernelException(Status.of(status), "kernel failed at tensor '" + tensor + "': " + message);
  }
}
