package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Storage rounding (--out-dtype) against an independent reference: every finite non-negative F16 / BF16 value
 * decoded from its bit fields into a double (exactly), the nearest found by binary search on |x|, a tie going to
 * the even bit pattern, and the first value past the largest finite one standing for infinity (so that the
 * overflow threshold is itself a tie to even, as IEEE 754 rounds). Covers NaN, ±Inf, ±0, subnormals, ties,
 * overflow, and doubles whose float32 cast would round twice.
 */
class StorageDTypesTest {
  /** Sorted magnitudes of a 16-bit format's finite values, plus the overflow sentinel at the end. */
  private static double[] table(boolean half) {
    int finite = half ? 0x7bff : 0x7f7f;
    double[] t = new double[finite + 2];
    for (int h = 0; h <= finite; h++) {
      int e = half ? h >>> 10 : h >>> 7;
      int m = half ? h & 0x3ff : h & 0x7f;
      double frac = half ? m / 1024.0 : m / 128.0;
      int bias = half ? 15 : 127;
      t[h] = e == 0 ? frac * Math.pow(2, 1 - bias) : (1 + frac) * Math.pow(2, e - bias);
    }
    t[finite + 1] = half ? 65536.0 : Math.pow(2, 128);
    return t;
  }

  private static final double[] F16 = table(true);
  private static final double[] BF16 = table(false);

  /** The reference bits of x rounded to nearest even in the format of {@code t} (infinity bits = t.length - 1). */
  private static int reference(double x, double[] t) {
    int inf = t.length - 1;  // 0x7c00 / 0x7f80: the sentinel's index is the infinity's bit pattern
    int signBit = t == F16 ? 0x8000 : 0x8000;
    if (Double.isNaN(x)) return -1;
    int sign = (Double.doubleToRawLongBits(x) < 0) ? signBit : 0;
    double a = Math.abs(x);
    if (a >= t[inf]) return sign | inf;
    int lo = 0, hi = inf;  // t[lo] <= a < t[hi]
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (t[mid] <= a) lo = mid;
      else hi = mid;
    }
    double dl = a - t[lo], dh = t[hi] - a;  // exact: a and the table values are close doubles
    int pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) == 0 ? lo : hi);
    return sign | pick;
  }

  private static void checkFloat(float f) {
    int rf = reference(f, F16), rb = reference(f, BF16);
    short h = HalfFloats.floatToF16(f), b = HalfFloats.floatToBf16(f);
    if (rf < 0) {
      assertTrue(Float.isNaN(HalfFloats.f16ToFloat(h)), "F16 of NaN");
      assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(b)), "BF16 of NaN");
      return;
    }
    assertEquals(rf, h & 0xffff, () -> "F16 of " + f + " (" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
    assertEquals(rb, b & 0xffff, () -> "BF16 of " + f + " (" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
  }

  private static void checkDouble(double d) {
    int rf = reference(d, F16), rb = reference(d, BF16);
    if (rf < 0) {
      assertTrue(Float.isNaN(HalfFloats.f16ToFloat(StorageDTypes.doubleToF16(d))));
      return;
    }
    assertEquals(rf, StorageDTypes.doubleToF16(d) & 0xffff, () -> "F16 of double " + d);
    assertEquals(rb, StorageDTypes.doubleToBf16(d) & 0xffff, () -> "BF16 of double " + d);
  }

  @Test
  void floatsRoundToNearestEvenIncludingSpecialsSubnormalsTiesAndOverflow() {
    float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
        -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 65504f, 65519.996f, 65520f, -65520f,
        65536f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-24f, 0x1p-14f, 0x1.ff8p-15f, 1f, 1.0009766f, 1.00048828125f,
        0x1.fefffep127f, 0x1.ffp127f, 0x1p-133f, 0x1p-134f};
    for (float f : specials) checkFloat(f);
    // every F16 midpoint (a tie), and one float ulp either side of it
    for (int h = 0; h < 0x7bff; h++) {
      float mid = (float) ((F16[h] + F16[h + 1]) / 2);
      checkFloat(mid);
      checkFloat(Math.nextUp(mid));
      checkFloat(Math.nextDown(mid));
      checkFloat(-mid);
    }
    for (int b = 0; b < 0x7f7f; b += 7) {
      float mid = (float) ((BF16[b] + BF16[b + 1]) / 2);
      checkFloat(mid);
      checkFloat(Math.nextUp(mid));
      checkFloat(-Math.nextDown(mid));
    }
    Random rng = new Random(23);
    for (int i = 0; i < 300_000; i++) checkFloat(Float.intBitsToFloat(rng.nextInt()));
  }

  @Test
  void doublesRoundOnceEvenWhereAFloatCastWouldRoundTwice() {
    double[] specials = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE,
        -Double.MIN_VALUE, 1e-300, 1e300, -1e300, Double.MAX_VALUE, 65520.0, 65519.99999999999, 3.5e38, 1e39};
    for (double d : specials) checkDouble(d);
    int twice = 0;
    Random rng = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      int h = rng.nextInt(0x7bff);
      double mid = (F16[h] + F16[h + 1]) / 2;
      // just above or below a tie, by far less than a float32 ulp: (float) d lands on the tie, then RNE picks even
      double d = mid + (rng.nextBoolean() ? 1 : -1) * Math.ulp(mid) * (1 + rng.nextInt(1000));
      checkDouble(d);
      checkDouble(-d);
      if ((HalfFloats.floatToF16((float) d) & 0xffff) != reference(d, F16)) twice++;
    }
    for (int i = 0; i < 20_000; i++) checkDouble(Double.longBitsToDouble(rng.nextLong()));
    for (int i = 0; i < 20_000; i++) checkDouble(rng.nextGaussian() * Math.pow(2, rng.nextInt(60) - 40));
    assertTrue(twice > 1000, "the double-rounding cases are exercised (" + twice + " where a float cast is wrong)");
  }

  @Test
  void convertWritesEveryPairOfDtypes() {
    double[] v = {1.0, -2.5, 0x1.0020000001p0, 65520.0, 1e-8, Double.NaN};
    ByteBuffer d = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int j = 0; j < v.length; j++) d.putDouble(8 * j, v[j]);
    ByteBuffer h = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    StorageDTypes.convert(d, DType.F64, h, DType.F16, v.length);
    for (int j = 0; j < v.length - 1; j++) assertEquals(reference(v[j], F16), h.getShort(2 * j) & 0xffff, "F64→F16 " + v[j]);
    assertTrue(Float.isNaN(HalfFloats.f16ToFloat(h.getShort(2 * (v.length - 1)))));
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    StorageDTypes.convert(h, DType.F16, b, DType.BF16, v.length);
    for (int j = 0; j < v.length - 1; j++) {
      double widened = HalfFloats.f16ToFloat(h.getShort(2 * j));
      assertEquals(reference(widened, BF16), b.getShort(2 * j) & 0xffff, "F16→BF16 " + widened);
    }
    ByteBuffer f = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    StorageDTypes.convert(b, DType.BF16, f, DType.F32, v.length);
    for (int j = 0; j < v.length; j++) {
      assertEquals(Float.floatToIntBits(HalfFloats.bf16ToFloat(b.getShort(2 * j))), Float.floatToIntBits(f.getFloat(4 * j)));
    }
  }
}
