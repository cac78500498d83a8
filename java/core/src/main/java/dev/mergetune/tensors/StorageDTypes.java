package dev.mergetune.tensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * The storage dtype of an output's floating tensors ({@code --out-dtype}, mergekit's {@code out_dtype}) and the one
 * conversion every written floating tensor goes through. Rounding is to nearest, ties to even, from the exact
 * input value:
 *
 * <pre>
 *   F32, F16, BF16 → F32 / F16 / BF16: widen to float32 (exact), then {@link HalfFloats} (one RNE rounding)
 *   F64 → F32: Java's (float) cast (RNE)
 *   F64 → F16 / BF16: round to odd into float32, then RNE into the 16-bit type. Rounding to odd into a format with
 *     at least two more significand bits than the target (24 ≥ 11 + 2) never creates a false tie, so the two steps
 *     equal one RNE rounding of the double (Boldo &amp; Melquiond, "Emulation of FMA and correctly rounded sums:
 *     proved algorithms using rounding to odd", IEEE TC 2008); a plain (float) cast first would round twice.
 * </pre>
 *
 * NaN stays NaN, ±Inf and ±0 are kept, finite values past the target's range become ±Inf.
 */
public final class StorageDTypes {
  private StorageDTypes() {}

  /** The dtype a user names: fp32 | float32 | f32, fp16 | float16 | half | f16, bf16 | bfloat16; null for others. */
  public static DType parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "fp32", "float32", "f32", "float" -> DType.F32;
      case "fp16", "float16", "f16", "half" -> DType.F16;
      case "bf16", "bfloat16" -> DType.BF16;
      default -> null;
    };
  }

  /** {@link #parse}, or an error naming {@code where} and the accepted names. */
  public static DType require(String name, String where) {
    DType d = parse(name);
    if (d == null) throw new IllegalArgumentException(where + " '" + name + "' (fp32, fp16, bf16)");
    return d;
  }

  /** The dtype a floating tensor stored as {@code input} is written as: {@code out}, or F32 for F64, else its own. */
  public static DType written(DType input, DType out) {
    if (!input.isFloating()) return input;
    if (out != null) return out;
    return input == DType.F64 ? DType.F32 : input;
  }

  /** Converts n elements of {@code from} at {@code src}'s position to {@code to} at {@code dst}'s position. */
  public static void convert(ByteBuffer src, DType from, ByteBuffer dst, DType to, long n) {
    ByteBuffer s = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer d = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (from == to) {
      s.limit(s.position() + (int) (n * from.byteSize()));
      d.put(s);
      return;
    }
    int si = s.position(), di = d.position();
    for (int j = 0; j < n; j++) {
      if (from == DType.F64) {
        double v = s.getDouble(si + 8 * j);
        switch (to) {
          case F32 -> d.putFloat(di + 4 * j, (float) v);
          case F16 -> d.putShort(di + 2 * j, HalfFloats.floatToF16(roundToOdd(v)));
          case BF16 -> d.putShort(di + 2 * j, HalfFloats.floatToBf16(roundToOdd(v)));
          default -> throw new IllegalArgumentException("cannot store as " + to);
        }
      } else {
        float v = switch (from) {
          case F32 -> s.getFloat(si + 4 * j);
          case F16 -> HalfFloats.f16ToFloat(s.getShort(si + 2 * j));
          case BF16 -> HalfFloats.bf16ToFloat(s.getShort(si + 2 * j));
          default -> throw new IllegalArgumentException("not a floating dtype: " + from);
        };
        switch (to) {
          case F32 -> d.putFloat(di + 4 * j, v);
          case F16 -> d.putShort(di + 2 * j, HalfFloats.floatToF16(v));
          case BF16 -> d.putShort(di + 2 * j, HalfFloats.floatToBf16(v));
          default -> throw new IllegalArgumentException("cannot store as " + to);
        }
      }
    }
  }

  /** The double rounded to float32 towards zero, with the last bit set when inexact (NaN/Inf kept). */
  static float roundToOdd(double v) {
    float f = (float) v;
    if (Double.isNaN(v) || Double.isInfinite(v) || f == v) return f;
    if (Math.abs((double) f) > Math.abs(v)) f = Math.nextAfter(f, 0.0);  // truncate (also turns an overflow into MAX)
    return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
  }

  /** The double's F16 bits rounded once (nearest, ties to even). */
  public static short doubleToF16(double v) {
    return HalfFloats.floatToF16(roundToOdd(v));
  }

  /** The double's BF16 bits rounded once (nearest, ties to even). */
  public static short doubleToBf16(double v) {
    return HalfFloats.floatToBf16(roundToOdd(v));
  }
}
