package dev.mergetune.tensors;

/**
 * IEEE binary16 (F16) and bfloat16 (BF16) to and from float32, rounding to nearest, ties to even, as LibTorch and
 * NumPy do. NaN stays NaN (quiet), infinities and signed zeros are kept, float32 values beyond the F16 range
 * become infinities, and F16 subnormals are produced and read exactly.
 */
public final class HalfFloats {
  private HalfFloats() {}

  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x0040);  // NaN: keep sign, make quiet
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  public static float f16ToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f;  // zero or subnormal: exact in float32
      return sign != 0 ? -magnitude : magnitude;
    }
    if (exponent == 31) return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  public static short floatToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs > 0x7f800000) return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));  // NaN, quiet
    if (abs >= 0x477ff000) return (short) (sign | 0x7c00);  // rounds to beyond 65504: infinity
    if (abs < 0x38800000) {
      // Result is an F16 subnormal (or zero): value / 2^-24 rounded to an integer, ties to even.
      if (abs < 0x33000000) return (short) sign;  // below half the smallest subnormal: signed zero
      int exponent = abs >>> 23;
      int mantissa = (abs & 0x7fffff) | 0x800000;
      int shift = 126 - exponent;  // 14..24 for the range handled here
      int result = mantissa >>> shift;
      int remainder = mantissa & ((1 << shift) - 1);
      int half = 1 << (shift - 1);
      if (remainder > half || (remainder == half && (result & 1) != 0)) result++;
      return (short) (sign | result);
    }
    // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even (a carry may bump the
    // exponent, which is correct, up to the 0x7c00 infinity excluded above).
    int rebased = abs - (112 << 23);
    int rounded = rebased + 0xfff + ((rebased >>> 13) & 1);
    return (short) (sign | (rounded >>> 13));
  }
}
