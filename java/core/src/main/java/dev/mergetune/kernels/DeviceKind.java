package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;

/** Where the memory of a segment table lives, and so which implementation of a kernel runs. */
public enum DeviceKind {
  CPU(MergetuneNative.MT_DEVICE_CPU),
  CUDA(MergetuneNative.MT_DEVICE_CUDA);

  private final int code;

  DeviceKind(int code) {
    this.code = code;
  }

  int code() {
    return code;
  }
}
