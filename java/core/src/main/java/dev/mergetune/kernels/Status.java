package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;

/** The status codes of the C ABI ({@code mergetune/status.h}). */
public enum Status {
  OK(MergetuneNative.MT_OK),
  INVALID_ARGUMENT(MergetuneNative.MT_INVALID_ARGUMENT),
  NON_FINITE(MergetuneNative.MT_NON_FINITE),
  CUDA_UNAVAILABLE(MergetuneNative.MT_CUDA_UNAVAILABLE),
  CUDA_ERROR(MergetuneNative.MT_CUDA_ERROR),
  OUT_OF_MEMORY(MergetuneNative.MT_OUT_OF_MEMORY),
  INTERNAL(MergetuneNative.MT_INTERNAL);

  private final int code;

  Status(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static Status of(int code) {
    for (Status s : values()) {
      if (s.code == code) return s;
    }
    return INTERNAL;
  }

  /** Throws a {@link KernelException} carrying the native thread-local message when {@code code} is not OK. */
  public static void check(int code, String what) {
    if (code == MergetuneNative.MT_OK) return;
    throw new KernelException(of(code), what + ": " + MergetuneNative.mt_last_error());
  }
}
