package dev.mergetune.clip.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batches of files on worker threads: order kept, one contiguous output, failures named. */
class ImageBatchTest {
  @TempDir Path dir;

  private List<Path> files(int n) throws Exception {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int w = 20 + 7 * i;
      int h = 13 + 3 * (i % 4);
      byte[] bytes = i % 3 == 2
          ? TestImages.jpeg(TestImages.rgbImage(w, h, TestImages.pattern(w, h, 3, i)), 0.9f)
          : TestImages.png(w, h, i % 3 == 0 ? TestImages.RGB : TestImages.GREY, 8,
              TestImages.noise(w * h * (i % 3 == 0 ? 3 : 1), 8, i), null, null);
      files.add(Files.write(dir.resolve("img" + i + (i % 3 == 2 ? ".jpg" : ".png")), bytes));
    }
    return files;
  }

  @Test
  void batchKeepsOrderAndEqualsSingleImages() throws Exception {
    List<Path> files = files(9);
    ClipImageTransform t = ClipImageTransform.of(32);
    float[] batch = ImageBatch.load(files, t, 3);
    assertEquals(9 * 3 * 32 * 32, batch.length);
    for (int i = 0; i < files.size(); i++) {
      float[] one = t.apply(files.get(i));
      float[] slice = new float[one.length];
      System.arraycopy(batch, i * one.length, slice, 0, one.length);
      assertArrayEquals(one, slice, "image " + i);
    }
    assertArrayEquals(batch, ImageBatch.load(files, t, 1));
    FloatBuffer direct = ImageBatch.loadDirect(files, t, 4);
    assertTrue(direct.isDirect());
    assertEquals(0, direct.position());
    float[] fromDirect = new float[batch.length];
    direct.get(fromDirect);
    assertArrayEquals(batch, fromDirect);
  }

  @Test
  void failingFileIsNamedWithItsPosition() throws Exception {
    List<Path> files = files(6);
    Path broken = Files.write(dir.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2});
    files.set(3, broken);
    Path alsoBroken = Files.write(dir.resolve("empty.png"), new byte[0]);
    files.set(5, alsoBroken);
    ImageDecodeException e = assertThrows(ImageDecodeException.class,
        () -> ImageBatch.load(files, ClipImageTransform.of(16), 2));
    assertEquals(broken, e.file());
    assertTrue(e.getMessage().startsWith(broken.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("(image 4 of 6)"), e.getMessage());
  }

  @Test
  void emptyListGivesAnEmptyBatch() {
    assertEquals(0, ImageBatch.load(List.of(), ClipImageTransform.of(16), 2).length);
    assertThrows(IllegalArgumentException.class, () -> ImageBatch.load(List.of(), ClipImageTransform.of(16), 0));
  }

  @Test
  void tensorsOwnTheirData() throws Exception {
    NativeRuntime.ensureTorch();
    List<Path> files = files(4);
    ClipImageTransform t = ClipImageTransform.of(24);
    float[] batch = ImageBatch.load(files, t, 2);
    try (PointerScope scope = new PointerScope()) {
      Tensor direct = ImageBatch.loadTensor(files, t, 2);
      assertArrayEquals(new long[] {4, 3, 24, 24}, direct.sizes().vec().get());
      float[] got = new float[batch.length];
      direct.data_ptr_float().capacity(got.length).get(got);
      assertArrayEquals(batch, got);

      float[] copy = batch.clone();
      Tensor copied = ImageBatch.toTensor(copy, 4, 24);
      java.util.Arrays.fill(copy, 0f);  // the tensor holds its own copy
      copied.data_ptr_float().capacity(got.length).get(got);
      assertArrayEquals(batch, got);
      assertThrows(IllegalArgumentException.class, () -> ImageBatch.toTensor(new float[5], 1, 24));
    }
  }
}
