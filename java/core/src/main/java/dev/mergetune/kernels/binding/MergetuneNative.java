package dev.mergetune.kernels.binding;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The raw JavaCPP binding of libmergetune's C ABI ({@code native/include/mergetune/*.h}), one native method per C
 * function, nothing else. Use {@link dev.mergetune.kernels.NativeRuntime} to load it (it orders the LibTorch
 * prefetch first) and the checked wrappers in {@code dev.mergetune.kernels} to call it.
 *
 * <p>Pointer arrays (segment tables) are passed as {@code long[]} of addresses: JNI hands the C side a
 * {@code jlong*}, which is the {@code void* const*} table on LP64.
 */
@Platform(value = "linux-x86_64", include = "mergetune/mergetune.h", link = "mergetune")
public final class MergetuneNative {
  static {
    Loader.load();
  }

  private MergetuneNative() {}

  // status.h
  public static final int MT_OK = 0;
  public static final int MT_INVALID_ARGUMENT = 1;
  public static final int MT_NON_FINITE = 2;
  public static final int MT_CUDA_UNAVAILABLE = 3;
  public static final int MT_CUDA_ERROR = 4;
  public static final int MT_OUT_OF_MEMORY = 5;
  public static final int MT_INTERNAL = 6;
  public static final int MT_INPUT_NONE = -3;
  public static final int MT_INPUT_OUTPUT = -2;
  public static final int MT_INPUT_BASE = -1;

  public static native String mt_last_error();

  public static native long mt_last_error_segment();

  public static native long mt_last_error_element();

  public static native int mt_last_error_input();

  public static native String mt_status_name(int status);

  // device.h
  public static final int MT_DEVICE_CPU = 0;
  public static final int MT_DEVICE_CUDA = 1;
  public static final int MT_COPY_HOST_TO_DEVICE = 1;
  public static final int MT_COPY_DEVICE_TO_HOST = 2;
  public static final int MT_COPY_DEVICE_TO_DEVICE = 3;

  public static native String mt_version();

  public static native int mt_built_with_cuda();

  public static native String mt_cuda_architectures();

  public static native String mt_cpu_isa();

  public static native int mt_set_cpu_isa(String isa);

  public static native void mt_set_num_threads(int n);

  public static native int mt_get_num_threads();

  public static native int mt_cuda_device_count();

  public static native String mt_cuda_unavailable_reason();

  public static native int mt_cuda_device_info(
      int device,
      @Cast("char*") byte[] name,
      int nameCapacity,
      @Cast("int64_t*") long[] totalBytes,
      @Cast("int64_t*") long[] freeBytes,
      int[] ccMajor,
      int[] ccMinor);

  public static native int mt_cuda_versions(int[] runtimeVersion, int[] driverVersion);

  public static native int mt_cuda_malloc(@Cast("int64_t") long bytes, @Cast("void**") long[] ptr);

  public static native int mt_cuda_free(@Cast("void*") long ptr);

  public static native int mt_cuda_memcpy(
      @Cast("void*") long dst, @Cast("const void*") long src, @Cast("int64_t") long bytes, int direction);

  public static native int mt_cuda_synchronize();

  // interp.h
  public static final int MT_CHECK_FINITE = 1;

  public static native int mt_interp_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("float* const*") long[] out,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      float[] lambdas,
      int flags);

  /** Same, with the tables in native memory (no JNI array copies for very large state dicts). */
  public static native int mt_interp_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") Pointer lengths,
      @Cast("float* const*") Pointer out,
      @Cast("const float* const*") Pointer base,
      int nModels,
      @Cast("const float* const*") Pointer models,
      @Cast("const float*") Pointer lambdas,
      int flags);

  // signmax.h
  public static native int mt_signmax_unify_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] theta0,
      int nTasks,
      @Cast("const float* const*") long[] inputs,
      @Cast("float* const*") long[] unified,
      @Cast("uint32_t* const*") long[] masks,
      double[] sumAbsDelta,
      double[] sumAbsMasked,
      int flags);

  public static native int mt_signmax_decouple_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("float* const*") long[] out,
      @Cast("const float* const*") long[] theta0,
      @Cast("const float* const*") long[] unified,
      @Cast("const uint32_t* const*") long[] mask,
      float lambda,
      int flags);

  // dare.h
  public static final int MT_DARE_RESCALE_NONE = 0;
  public static final int MT_DARE_RESCALE_INVERSE = 1;
  public static final int MT_DARE_RESCALE_L1 = 2;

  public static native int mt_dare_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const uint64_t*") long[] tensorKeys,
      @Cast("float* const*") long[] out,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      float[] lambdas,
      float dropRate,
      @Cast("uint64_t") long seed,
      int rescale,
      int flags);

  public static native void mt_philox4x32_10(
      @Cast("const uint32_t*") int[] counter, @Cast("const uint32_t*") int[] key, @Cast("uint32_t*") int[] out);

  // ties.h
  public static final int MT_TIES_ELECT_MASS = 0;
  public static final int MT_TIES_ELECT_COUNT = 1;
  public static final int MT_TIES_DISJOINT_SUM = 0;
  public static final int MT_TIES_DISJOINT_MEAN = 1;
  public static final int MT_TIES_DISJOINT_MAX = 2;
  public static final int MT_TIES_TIES_KEEP_ALL = 0;
  public static final int MT_TIES_TIES_EXACT = 1;
  public static final int MT_TIES_KEEP_NONE = 0xffffffff;
  public static final int MT_TIES_LEVEL0_BINS = 32768;
  public static final int MT_TIES_LEVEL1_BINS = 65536;

  public static native int mt_ties_histogram_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      int level,
      @Cast("const uint32_t*") int[] prefixes,
      @Cast("int64_t*") long[] hist,
      int flags);

  public static native int mt_ties_tie_cutoffs_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      @Cast("const uint32_t*") int[] thresholds,
      @Cast("const int64_t*") long[] wanted,
      @Cast("int64_t*") long[] tieCounts,
      @Cast("int64_t*") long[] cutoffs,
      int flags);

  public static native int mt_ties_trim_per_segment_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      @Cast("const int64_t*") long[] keepCounts,
      int ties,
      @Cast("uint32_t*") int[] thresholds,
      @Cast("int64_t*") long[] cutoffs,
      int flags);

  public static native int mt_ties_sign_census_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      @Cast("const uint32_t*") int[] thresholds,
      @Cast("const int64_t*") long[] cutoffs,
      float[] weights,
      int election,
      @Cast("int64_t*") long[] signSums,
      int flags);

  public static native int mt_ties_merge_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("float* const*") long[] out,
      @Cast("const float* const*") long[] base,
      int nModels,
      @Cast("const float* const*") long[] models,
      @Cast("const uint32_t*") int[] thresholds,
      @Cast("const int64_t*") long[] cutoffs,
      float[] weights,
      int election,
      float[] zeroSigns,
      int aggregate,
      float lambda,
      int flags);

  public static native int mt_ties_pick_bin(
      @Cast("const int64_t*") long[] hist, int bins, @Cast("int64_t") long rank, int[] bin, @Cast("int64_t*") long[] rankInBin);

  // ---- K1: multialpha.h (every data pointer an address: host memory, or CUDA device memory with MT_DEVICE_CUDA)
  public static final int MT_MULTIALPHA_MAX_POINTS = 64;
  public static final int MT_MA_INPUT_A = 0;
  public static final int MT_MA_INPUT_D = 1;
  public static final int MT_MA_INPUT_N0 = 2;
  public static final int MT_MA_INPUT_N1 = 3;
  public static final int MT_MA_INPUT_N2 = 4;
  public static final int MT_MA_INPUT_TARGETS = 5;
  public static final int MT_MA_INPUT_RESULT = 6;

  public static native int mt_multialpha_ce_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long rows,
      @Cast("int64_t") long classes,
      @Cast("const float*") long a,
      @Cast("const float*") long d,
      @Cast("const float*") long n0,
      @Cast("const float*") long n1,
      @Cast("const float*") long n2,
      @Cast("const int32_t*") long labels,
      float smoothing,
      int nPoints,
      float[] alphas,
      float[] weights,
      float scale,
      @Cast("float*") long losses,
      @Cast("float*") long total,
      @Cast("float*") long gradA,
      @Cast("float*") long gradD,
      @Cast("float*") long gradN0,
      @Cast("float*") long gradN1,
      @Cast("float*") long gradN2,
      int flags);

  public static native int mt_multialpha_kl_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long rows,
      @Cast("int64_t") long classes,
      @Cast("const float*") long a,
      @Cast("const float*") long d,
      @Cast("const float*") long n0,
      @Cast("const float*") long n1,
      @Cast("const float*") long n2,
      @Cast("const float*") long targets,
      int nPoints,
      float[] alphas,
      float[] weights,
      float scale,
      @Cast("float*") long losses,
      @Cast("float*") long total,
      @Cast("float*") long gradA,
      @Cast("float*") long gradD,
      @Cast("float*") long gradN0,
      @Cast("float*") long gradN1,
      @Cast("float*") long gradN2,
      int flags);
  // ---- end K1
  // ------------------------------------------------------------------ K2 anchor.h and K5 scratch_interp.h
  public static final int MT_ANCHOR_BLOCK = 4096;
  public static final int MT_ANCHOR_INPUT_W = 0;
  public static final int MT_ANCHOR_INPUT_W1 = 1;
  public static final int MT_ANCHOR_INPUT_GRAD = 2;
  public static final int MT_ANCHOR_INPUT_STATE0 = 3;
  public static final int MT_ANCHOR_INPUT_STATE1 = 4;

  public static native int mt_anchor_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] w,
      @Cast("const float* const*") long[] w1,
      @Cast("float* const*") long[] grad,
      float lambda,
      double[] value,
      int flags);

  public static native int mt_anchor_sgd_step_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("float* const*") long[] w,
      @Cast("const float* const*") long[] w1,
      @Cast("const float* const*") long[] grad,
      @Cast("float* const*") long[] momentumBuf,
      float lambda,
      double lr,
      double momentum,
      double dampening,
      double weightDecay,
      int nesterov,
      int firstStep,
      double[] value,
      int flags);

  public static native int mt_anchor_adamw_step_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("float* const*") long[] w,
      @Cast("const float* const*") long[] w1,
      @Cast("const float* const*") long[] grad,
      @Cast("float* const*") long[] expAvg,
      @Cast("float* const*") long[] expAvgSq,
      float lambda,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      @Cast("int64_t") long step,
      double[] value,
      int flags);

  public static native int mt_anchor_feature_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nClasses,
      @Cast("int64_t") long dim,
      @Cast("const float*") long features,
      @Cast("const float*") long targets,
      float lambda,
      double[] value,
      @Cast("float*") long gradFeatures,
      int flags);

  public static native int mt_scratch_interp_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("const float* const*") long[] w,
      @Cast("const float* const*") long[] w2hat,
      int nAlphas,
      float[] alphas,
      @Cast("float* const*") long[] scratch,
      int flags);

  public static native int mt_scratch_grad_accumulate_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long nSegments,
      @Cast("const int64_t*") long[] lengths,
      @Cast("float* const*") long[] gradW,
      int nSets,
      @Cast("const float* const*") long[] gradScratch,
      float[] alphas,
      float[] omegas,
      int flags);

  // gta.h (mergekit's generalized task arithmetic)
  public static final int MT_GTA_CONSENSUS_NONE = 0;
  public static final int MT_GTA_CONSENSUS_SUM = 1;
  public static final int MT_GTA_CONSENSUS_COUNT = 2;
  public static final int MT_GTA_SPARSIFY_MAGNITUDE = 0;
  public static final int MT_GTA_SPARSIFY_OUTLIERS = 1;
  public static final int MT_GTA_SPARSIFY_RANDOM = 2;
  public static final int MT_GTA_SPARSIFY_DELLA = 3;
  public static final int MT_GTA_MAX_MODELS = 256;

  public static native int mt_gta_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long n,
      @Cast("float*") long out,
      @Cast("const float*") long base,
      int nModels,
      @Cast("const float* const*") long[] models,
      @Cast("const uint32_t* const*") long[] keepBits,
      float[] coefs,
      float[] weights,
      int consensus,
      int normalize,
      float divisor,
      float lambda,
      int flags);

  public static native int mt_gta_sparsify_f32(
      @Cast("int64_t") long n,
      @Cast("int64_t") long outer,
      @Cast("int64_t") long len,
      @Cast("int64_t") long inner,
      @Cast("const float*") long base,
      @Cast("const float*") long model,
      int method,
      double density,
      double param,
      @Cast("uint64_t") long seed,
      @Cast("uint64_t") long tensorKey,
      int modelIndex,
      @Cast("uint32_t*") long bits,
      double[] sums,
      int flags);

  // gram.h
  public static final int MT_GRAM_MAX_INPUTS = 16;

  public static native int mt_gram_f32(
      int device,
      @Cast("void*") long stream,
      @Cast("int64_t") long n,
      @Cast("const float*") long base,
      int k,
      @Cast("const float* const*") long[] inputs,
      double[] gram,
      int flags);
}
