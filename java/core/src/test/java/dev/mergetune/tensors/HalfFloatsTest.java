package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mergetune.kernels.NativeRuntime;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** F16/BF16 conversions against LibTorch's own (an independent implementation), bit for bit. */
class HalfFloatsTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static float[] interestingFloats() {
    float[] fixed = {0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, 65536f, -70000f, 6.1035156e-5f, 6.097555e-5f,
        5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 1e-10f, 3.4e38f, Float.MIN_VALUE, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN, 1.00048828125f, 1.0009765625f, 1.00146484375f, 0.1f, 1f / 3};
    SplittableRandom r = new SplittableRandom(42);
    float[] all = new float[fixed.length + 200_000];
    System.arraycopy(fixed, 0, all, 0, fixed.length);
    for (int i = fixed.length; i < all.length; i++) {
      // random bit patterns cover every exponent, including the subnormal and overflow ranges of both formats
      all[i] = Float.intBitsToFloat(r.nextInt());
      if (Float.isNaN(all[i])) all[i] = 1.5f;
    }
    return all;
  }

  private static short[] torchBits(float[] values, ScalarType target) {
    Tensor t = Tensor.create(values, values.length).to(target).view(ScalarType.Short).contiguous();
    short[] bits = new short[values.length];
    t.data_ptr_short().get(bits);
    return bits;
  }

  private static float[] torchWiden(short[] bits, ScalarType source) {
    Tensor t = Tensor.create(bits, bits.length).view(source).to(ScalarType.Float).contiguous();
    float[] out = new float[bits.length];
    t.data_ptr_float().get(out);
    return out;
  }

  @Test
  void floatToF16MatchesLibTorch() {
    float[] values = interestingFloats();
    short[] expected = torchBits(values, ScalarType.Half);
    for (int i = 0; i < values.length; i++) {
      short ours = HalfFloats.floatToF16(values[i]);
      if (Float.isNaN(values[i])) {
        assertEquals(0x7c00, ours & 0x7c00);  // NaN payloads differ between libraries; NaN-ness must not
        continue;
      }
      assertEquals(expected[i], ours, "F16 of " + values[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(values[i])) + ")");
    }
  }

  @Test
  void floatToBf16MatchesLibTorch() {
    float[] values = interestingFloats();
    short[] expected = torchBits(values, ScalarType.BFloat16);
    for (int i = 0; i < values.length; i++) {
      if (Float.isNaN(values[i])) {
        assertEquals(true, Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(values[i]))));
        continue;
      }
      assertEquals(expected[i], HalfFloats.floatToBf16(values[i]), "BF16 of " + values[i]);
    }
  }

  @Test
  void everyF16AndBf16BitPatternWidensLikeLibTorch() {
    short[] all = new short[65536];
    for (int i = 0; i < all.length; i++) all[i] = (short) i;
    float[] half = torchWiden(all, ScalarType.Half);
    float[] brain = torchWiden(all, ScalarType.BFloat16);
    for (int i = 0; i < all.length; i++) {
      float h = HalfFloats.f16ToFloat(all[i]);
      float b = HalfFloats.bf16ToFloat(all[i]);
      if (Float.isNaN(half[i])) {
        assertEquals(true, Float.isNaN(h), "F16 0x" + Integer.toHexString(i));
      } else {
        assertEquals(Float.floatToRawIntBits(half[i]), Float.floatToRawIntBits(h), "F16 0x" + Integer.toHexString(i));
      }
      if (Float.isNaN(brain[i])) {
        assertEquals(true, Float.isNaN(b), "BF16 0x" + Integer.toHexString(i));
      } else {
        assertEquals(Float.floatToRawIntBits(brain[i]), Float.floatToRawIntBits(b), "BF16 0x" + Integer.toHexString(i));
      }
    }
  }
}
