package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;

/** Native failures as exceptions that name tensors and inputs rather than segment indices. */
final class KernelErrors {
  private KernelErrors() {}

  /**
   * Turns a native failure into an exception that names tensors rather than segment indices; {@code indexed} names
   * the inputs the C side numbers 0.. ("model", "task"), {@code baseName} its MT_INPUT_BASE input.
   */
  static void throwOnFailure(int status, SegmentTable layout, String indexed, String baseName) {
    if (status == MergetuneNative.MT_OK) return;
    String message = MergetuneNative.mt_last_error();
    long segment = MergetuneNative.mt_last_error_segment();
    int input = MergetuneNative.mt_last_error_input();
    String tensor = segment >= 0 && segment < layout.size() ? layout.name((int) segment) : null;
    if (status == MergetuneNative.MT_NON_FINITE) {
      String role = input == MergetuneNative.MT_INPUT_BASE ? baseName
          : input == MergetuneNative.MT_INPUT_OUTPUT ? "result" : indexed + " " + input;
      long element = MergetuneNative.mt_last_error_element();
      throw new NonFiniteException(role, tensor, element,
          (input == MergetuneNative.MT_INPUT_OUTPUT ? "result overflowed" : "non-finite input in " + role)
              + " at tensor '" + tensor + "' element " + element + " (" + message + ")");
    }
    throw new KernelException(Status.of(status),
        "kernel failed" + (tensor != null ? " at tensor '" + tensor + "'" : "") + ": " + message);
  }
}
