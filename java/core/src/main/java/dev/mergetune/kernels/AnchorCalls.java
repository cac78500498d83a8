package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.List;

/** What the K2 and K5 wrappers share: the stream of a table's device, and their native errors as exceptions. */
final class AnchorCalls {
  private AnchorCalls() {}

  /** LibTorch's current stream for a tensor-backed CUDA table (which must be on the current device), else 0. */
  static long streamFor(DeviceKind device, int deviceIndex, boolean tensorBacked) {
    if (device != DeviceKind.CUDA || !tensorBacked) return 0L;
    int current = org.bytedeco.pytorch.global.torch_cuda.current_device();
    if (current != deviceIndex) {
      throw new IllegalArgumentException("tensors are on cuda:" + deviceIndex + " but the current CUDA device is cuda:"
          + current + "; make cuda:" + deviceIndex + " current first");
    }
    return CudaStreams.current(deviceIndex);
  }

  static long streamFor(SegmentTable t) {
    return streamFor(t.device(), t.deviceIndex(), t.tensorBacked());
  }

  /**
   * Throws for a failed call; {@code inputNames.get(k)} names the C side's input k (MT_ANCHOR_INPUT_* or a set index),
   * {@code baseName} its MT_INPUT_BASE, and segments are named from {@code layout} (null: by index).
   */
  static void throwOnFailure(int status, SegmentTable layout, List<String> inputNames, String baseName) {
    if (status == MergetuneNative.MT_OK) return;
    String message = MergetuneNative.mt_last_error();
    long segment = MergetuneNative.mt_last_error_segment();
    int input = MergetuneNative.mt_last_error_input();
    String tensor = layout != null && segment >= 0 && segment < layout.size() ? layout.name((int) segment) : null;
    String role = input == MergetuneNative.MT_INPUT_BASE ? baseName
        : input == MergetuneNative.MT_INPUT_OUTPUT ? "result"
        : input >= 0 && input < inputNames.size() ? inputNames.get(input)
        : input >= 0 ? inputNames.get(inputNames.size() - 1) + " " + input : null;
    if (status == MergetuneNative.MT_NON_FINITE) {
      long element = MergetuneNative.mt_last_error_element();
      throw new NonFiniteException(role, tensor, element,
          (input == MergetuneNative.MT_INPUT_OUTPUT ? "result is not finite" : "non-finite input in " + role)
              + (tensor != null ? " at tensor '" + tensor + "'" : "") + " element " + element + " (" + message + ")");
    }
    if (status == MergetuneNative.MT_INVALID_ARGUMENT) {
      throw new IllegalArgumentException((tensor != null ? "tensor '" + tensor + "': " : "") + message);
    }
    throw new KernelException(Status.of(status),
        "kernel failed" + (tensor != null ? " at tensor '" + tensor + "'" : "") + ": " + message);
  }
}
