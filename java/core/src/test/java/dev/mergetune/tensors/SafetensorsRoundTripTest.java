package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
  @TempDir Path dir;

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 8 - 4);
    return v;
  }

  @Test
  void everyDtypeShapeAndMetadataSurvivesARoundTrip() throws IOException {
    float[] w = random(6 * 5, 1);
    float[] h = random(7, 2);
    float[] b = random(3, 3);
    long[] ids = {49406, 320, 1125, 539, 49407, Long.MIN_VALUE, Long.MAX_VALUE};
    ByteBuffer idBytes = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    idBytes.asLongBuffer().put(ids);
    Path file = dir.resolve("model.safetensors");
    SafetensorsWriter.write(file, List.of(
        TensorSource.ofFloats("visual.proj", new long[] {6, 5}, w, DType.F32),
        TensorSource.ofFloats("half", new long[] {7}, h, DType.F16),
        TensorSource.ofFloats("brain", new long[] {3}, b, DType.BF16),
        TensorSource.ofFloats("logit_scale", new long[] {}, new float[] {4.6052f}, DType.F32),
        TensorSource.ofFloats("empty", new long[] {0, 4}, new float[0], DType.F32),
        TensorSource.ofBytes("tokens", DType.I64, new long[] {7}, idBytes)),
        Map.of("method", "test", "note", "ünïcödé ✓"));

    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertEquals(List.of("visual.proj", "half", "brain", "logit_scale", "empty", "tokens"), List.copyOf(f.tensors().keySet()));
      assertEquals(Map.of("method", "test", "note", "ünïcödé ✓"), f.metadata());
      assertArrayEquals(new long[] {6, 5}, f.info("visual.proj").shape());
      assertArrayEquals(w, f.readFloats("visual.proj"));
      float[] hr = f.readFloats("half");
      for (int i = 0; i < h.length; i++) assertEquals(HalfFloats.f16ToFloat(HalfFloats.floatToF16(h[i])), hr[i]);
      float[] br = f.readFloats("brain");
      for (int i = 0; i < b.length; i++) assertEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(b[i])), br[i]);
      assertEquals(0, f.info("logit_scale").shape().length);
      assertArrayEquals(new float[] {4.6052f}, f.readFloats("logit_scale"));
      assertEquals(0, f.readFloats("empty").length);
      long[] back = new long[ids.length];
      f.bytes("tokens").asLongBuffer().get(back);
      assertArrayEquals(ids, back);
      assertThrows(IllegalArgumentException.class, () -> f.readFloats("tokens"));
      assertThrows(IllegalArgumentException.class, () -> f.info("nope"));
    }
    long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLength % 8, "header is padded to 8 bytes so the data buffer is aligned");
  }

  @Test
  void aFailingWriteLeavesTheOldFileAndNoTemporary() throws IOException {
    Path file = dir.resolve("out.safetensors");
    SafetensorsWriter.write(file, List.of(TensorSource.ofFloats("a", new long[] {2}, new float[] {1, 2}, DType.F32)), Map.of());
    byte[] before = Files.readAllBytes(file);
    TensorSource shortWriter = new TensorSource() {
      @Override
      public String name() {
        return "b";
      }

      @Override
      public DType dtype() {
        return DType.F32;
      }

      @Override
      public long[] shape() {
        return new long[] {4};
      }

      @Override
      public void writeTo(WritableByteChannel channel) throws IOException {
        channel.write(ByteBuffer.allocate(8));  // half of what F32 [4] needs
      }
    };
    IOException e = assertThrows(IOException.class, () -> SafetensorsWriter.write(file,
        List.of(TensorSource.ofFloats("a", new long[] {2}, new float[] {5, 6}, DType.F32), shortWriter), Map.of()));
    assertTrue(e.getMessage().contains("'b'"), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file));
    try (var listing = Files.list(dir)) {
      assertEquals(List.of(file), listing.toList());
    }
  }

  @Test
  void duplicateNamesAndMismatchedDataAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("x.safetensors"), List.of(
        TensorSource.ofFloats("a", new long[] {1}, new float[] {1}, DType.F32),
        TensorSource.ofFloats("a", new long[] {1}, new float[] {1}, DType.F32)), Map.of()));
    assertThrows(IllegalArgumentException.class,
        () -> TensorSource.ofFloats("a", new long[] {3}, new float[] {1}, DType.F32));
  }
}
