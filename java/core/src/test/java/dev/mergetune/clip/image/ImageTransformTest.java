package dev.mergetune.clip.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CLIP's _transform(n_px): torchvision's sizes and offsets, LibTorch's normalisation, and Pillow's outputs. */
class ImageTransformTest {
  @TempDir Path dir;

  @Test
  void resizedSizeIsTorchvisionsTruncatedLongSide() {
    assertArrayEquals(new int[] {434, 224}, ClipImageTransform.resizedSize(33, 17, 224));  // 434.82 → 434
    assertArrayEquals(new int[] {224, 434}, ClipImageTransform.resizedSize(17, 33, 224));
    assertArrayEquals(new int[] {37333, 224}, ClipImageTransform.resizedSize(500, 3, 224));
    assertArrayEquals(new int[] {224, 224}, ClipImageTransform.resizedSize(1, 1, 224));
    assertArrayEquals(new int[] {224, 300}, ClipImageTransform.resizedSize(224, 300, 224));  // unchanged
    assertArrayEquals(new int[] {298, 224}, ClipImageTransform.resizedSize(640, 480, 224));  // 298.67
    assertArrayEquals(new int[] {224, 224}, ClipImageTransform.resizedSize(1000, 999, 224));  // 224.22
    assertArrayEquals(new int[] {336, 448}, ClipImageTransform.resizedSize(300, 400, 336));
  }

  @Test
  void cropOffsetRoundsHalvesToEvenAsPythonDoes() {
    assertEquals(0, ClipImageTransform.cropOffset(224, 224));
    assertEquals(0, ClipImageTransform.cropOffset(225, 224));  // round(0.5) = 0
    assertEquals(1, ClipImageTransform.cropOffset(226, 224));
    assertEquals(2, ClipImageTransform.cropOffset(227, 224));  // round(1.5) = 2
    assertEquals(2, ClipImageTransform.cropOffset(229, 224));  // round(2.5) = 2
    assertEquals(4, ClipImageTransform.cropOffset(231, 224));  // round(3.5) = 4
    assertEquals(105, ClipImageTransform.cropOffset(434, 224));  // round(105.0)
    assertEquals(18554, ClipImageTransform.cropOffset(37333, 224));  // round(18554.5) = 18554
  }

  @Test
  void centreCropTakesTheOffsetWindow() {
    int w = 229;
    int h = 224;
    byte[] px = new byte[w * h];
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) px[y * w + x] = (byte) x;
    byte[] rgb = ClipImageTransform.of(224).rgb(PilImage.of(PilMode.L, w, h, px));
    assertEquals(2, rgb[0]);  // columns 2 .. 225
    assertEquals((byte) 225, rgb[3 * 223]);
  }

  /** torchvision's ToTensor and Normalize, run by LibTorch's own CPU kernels: div(255), sub(mean), div(std). */
  @Test
  void normalisationIsBitIdenticalToLibTorch() {
    NativeRuntime.ensureTorch();
    ClipImageTransform t = ClipImageTransform.of(224);
    try (PointerScope scope = new PointerScope()) {
      float[] values = new float[3 * 256];
      for (int c = 0; c < 3; c++) for (int v = 0; v < 256; v++) values[c * 256 + v] = v;  // a uint8 image as float
      Tensor x = Tensor.create(values, 3, 256);
      float[] mean = new float[3];
      float[] std = new float[3];
      for (int c = 0; c < 3; c++) {
        mean[c] = (float) ClipImageTransform.MEAN[c];  // torch.as_tensor(mean, dtype=float32)
        std[c] = (float) ClipImageTransform.STD[c];
      }
      Tensor y = x.div(new Scalar(255L)).sub(Tensor.create(mean, 3, 1)).div(Tensor.create(std, 3, 1)).contiguous();
      float[] torchValues = new float[3 * 256];
      y.data_ptr_float().capacity(torchValues.length).get(torchValues);
      for (int c = 0; c < 3; c++) {
        for (int v = 0; v < 256; v++) {
          assertEquals(Float.floatToRawIntBits(torchValues[c * 256 + v]), Float.floatToRawIntBits(t.normalise(c, v)),
              "channel " + c + " value " + v);
        }
      }
    }
  }

  @Test
  void outputIsChwNormalised() {
    ClipImageTransform t = ClipImageTransform.of(5);
    byte[] rgb = new byte[5 * 5 * 3];
    for (int i = 0; i < 25; i++) {
      rgb[3 * i] = (byte) i;
      rgb[3 * i + 1] = (byte) (100 + i);
      rgb[3 * i + 2] = (byte) (200 + i);
    }
    float[] out = t.apply(PilImage.of(PilMode.RGB, 5, 5, rgb));
    assertEquals(75, out.length);
    for (int i = 0; i < 25; i++) {
      assertEquals((i / 255f - (float) 0.48145466) / (float) 0.26862954, out[i], 0f);
      assertEquals(((100 + i) / 255f - (float) 0.4578275) / (float) 0.26130258, out[25 + i], 0f);
      assertEquals(((200 + i) / 255f - (float) 0.40821073) / (float) 0.27577711, out[50 + i], 0f);
    }
  }

  @Test
  void oddSizesGiveFullFiniteOutputs() {
    ClipImageTransform t = ClipImageTransform.of(224);
    int[][] sizes = {{33, 17}, {17, 33}, {1, 1}, {500, 3}, {3, 500}, {2, 1}};
    for (int[] s : sizes) {
      byte[] px = ImageResampleTest.bytes(s[0] * s[1] * 3, s[0] * 31L + s[1]);
      float[] out = t.apply(PilImage.of(PilMode.RGB, s[0], s[1], px));
      assertEquals(3 * 224 * 224, out.length);
      for (float f : out) assertTrue(Float.isFinite(f) && f > -2.0f && f < 2.2f, s[0] + "x" + s[1] + ": " + f);
    }
  }

  @Test
  void onePixelImageBecomesAConstantImage() {
    float[] out = ClipImageTransform.of(224).apply(PilImage.of(PilMode.RGB, 1, 1, new byte[] {10, (byte) 128, -1}));
    ClipImageTransform t = ClipImageTransform.of(224);
    for (int i = 0; i < 224 * 224; i++) {
      assertEquals(t.normalise(0, 10), out[i], 0f);
      assertEquals(t.normalise(1, 128), out[224 * 224 + i], 0f);
      assertEquals(t.normalise(2, 255), out[2 * 224 * 224 + i], 0f);
    }
  }

  /**
   * The whole chain (PNG decode, torchvision sizes, Pillow resize in the file's mode, crop, convert("RGB")) against
   * outputs recorded once from Pillow 9.4.0 (Debian's python3-pil) running CLIP's transform on the same files,
   * which this test makes again from the same seeds. Pillow 9.4 predates 12.2, so the tall image matches the
   * older resampling order and differs from the default.
   */
  @Test
  void matchesOutputsRecordedFromPillow() throws Exception {
    byte[] plte = new byte[64 * 3];
    int[] pl = TestImages.noise(64 * 3, 8, 103);
    for (int i = 0; i < pl.length; i++) plte[i] = (byte) pl[i];
    check(TestImages.png(33, 17, TestImages.RGB, 8, TestImages.noise(33 * 17 * 3, 8, 101), null, null), 7, false,
        "67765480b1638d6f88887d5f6782905680928068b57da579669966856d6683797f7098638bb8787da79465a56d6f71664f7995596774"
        + "a79883775b5a6894807690717394875e5596745876707f9468a2916d88769a5d5d926a9968647d677d7b76979e81a1888ba1597454"
        + "4d748d7f628576a2667b90754a8b738475916861776a797f4d7076818f8666b0774b81898672877a");
    check(TestImages.png(29, 23, TestImages.RGBA, 8, TestImages.noise(29 * 23 * 4, 8, 102), null, null), 7, false,
        "8b759986517b7b6c9292978b8c4b5581599c4e8d598e738b976e6583666481918a8686887d9f987f8f9f776289995872754f91646c"
        + "90876e9c8e8aa6a2658f7477557254646394827b70776b75717c9492775f6a7a77526a6a57826e6e8c7a457e8d717795aa8c8a99"
        + "8d81557072a1899a75859a76867b896ba57a649178654b53993c5e79826a6e91737b7d997981945d8178");
    check(TestImages.png(19, 31, TestImages.PALETTE, 8, TestImages.noise(19 * 31, 6, 104), plte, null), 7, false,
        "9779b6655c679820bb5c95007741f79779b684c0b95f9f028974553d903e3a0d55fa7b098974556f55b9fa7b0923f98ac410baff8b"
        + "a7bc6d0d90f40fff8ba7fa7b090bd6d151fc9e3d903eae616e9a96586e6142ca2ed967572186a6923d903eca2ed9bc6d0dca1e41"
        + "86092c3d903e5ab2172ac1805f9f02ae616e9a96580a267bf24dbc367f8f04d02bae616e6f55b9f81c07");
    check(TestImages.png(16, 16, TestImages.GREY_ALPHA, 8, TestImages.noise(16 * 16 * 2, 8, 105), null, null), 7,
        false, "a3a3a39999998181815f5f5f5b5b5b4848486767679f9f9f9e9e9e8f8f8f8080805e5e5e4f4f4f6a6a6a5d5d5d585858"
        + "646464a6a6a68f8f8f5252525f5f5f828282a2a2a29696966b6b6b5f5f5f5d5d5d5858587373737f7f7f7474749292928c8c8c8a8a"
        + "8a737373b5b5b59494948383837474747070708989897272729595959090906c6c6c949494767676757575727272");
    String tall = "8558b884546678977f4d4b7f896bb1904d61735a90bc3e935a67635f32d5814e5a64af418d31bf432fc988a27ec395aa6e72"
        + "66b65e8fbcada1a072b46a808a4c876d56565e408a7bb958838ba29344be4f60b38c6c6a7468ab6f8a6b92877bb8349d86a2ca38af"
        + "8241977560a58e758a5e62639c65ba7e4a9250948b766bc35f288e2c302e9d845090a46d9757d6816dd17580";
    byte[] tallPng = TestImages.png(10, 1500, TestImages.RGB, 8, TestImages.noise(10 * 1500 * 3, 8, 106), null, null);
    check(tallPng, 7, true, tall);
    Path file = Files.write(dir.resolve("tall.png"), tallPng);
    assertNotEquals(tall, HexFormat.of().formatHex(ClipImageTransform.of(7).rgb(ImageDecoder.read(file))));
    check(TestImages.png(5, 4, TestImages.GREY, 8, TestImages.noise(5 * 4, 8, 107), null, null), 9, false,
        "dadadacfcfcfacacac5a5a5a282828727272d3d3d3cacaca939393b3b3b3aeaeae9999995d5d5d3e3e3e878787dededec8c8c8848484"
        + "5050506060606c6c6c676767727272bcbcbcffffffc8c8c85f5f5f1212122222223f3f3f696969989898d4d4d4f9f9f9b3b3b34343"
        + "435151512525251818185151518a8a8a9494948a8a8a6c6c6c4747479898983d3d3d0909093f3f3f7171715353532727273131314f"
        + "4f4f7e7e7e5757574141415757576b6b6b6464645656564c4c4c4444444646467272728e8e8e7b7b7b6c6c6c929292b6b6b6848484"
        + "3434343030307d7d7daeaeae8989896c6c6ca3a3a3dbdbdb9a9a9a2d2d2d");
  }

  private void check(byte[] png, int n, boolean beforePillow12_2, String expectedHex) throws Exception {
    Path file = Files.write(Files.createTempFile(dir, "img", ".png"), png);
    ClipImageTransform t = ClipImageTransform.of(n);
    if (beforePillow12_2) t = t.withPillowBefore12_2();
    assertEquals(expectedHex, HexFormat.of().formatHex(t.rgb(ImageDecoder.read(file))), file.toString());
  }
}
