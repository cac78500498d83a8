package dev.mergetune.tensors;

import java.nio.ByteBuffer;

/**
 * Widens a floating tensor's little-endian bytes to float32 (F16/BF16 exactly, F64 rounded to nearest), the one
 * rule every checkpoint format's {@code readFloats} follows, so a tensor reads the same whatever file it came from.
 */
final class FloatWidening {
  private FloatWidening() {}

  /** Fills {@code out} (numel floats) from {@code bytes}, which must be little-endian and hold numel elements. */
  static void widen(DType dtype, ByteBuffer bytes, float[] out) {
    switch (dtype) {
      case F32 -> bytes.asFloatBuffer().get(out);
      case F64 -> {
        var d = bytes.asDoubleBuffer();
        for (int i = 0; i < out.length; i++) out[i] = (float) d.get(i);
      }
      case F16 -> {
        var s = bytes.asShortBuffer();
        for (int i = 0; i < out.length; i++) out[i] = HalfFloats.f16ToFloat(s.get(i));
      }
      case BF16 -> {
        var s = bytes.asShortBuffer();
        for (int i = 0; i < out.length; i++) out[i] = HalfFloats.bf16ToFloat(s.get(i));
      }
      default -> throw new IllegalStateException("not a floating dtype: " + dtype);
    }
  }
}
