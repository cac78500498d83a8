package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.bytedeco.pytorch.ByteVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file read into a LibTorch byte vector holds exactly the file's bytes, through the fast (direct) path here. */
class NativeFileBytesTest {
  @TempDir Path dir;

  @Test
  void theVectorHoldsTheFileByteForByte() throws IOException {
    NativeRuntime.ensureTorch();
    byte[] content = new byte[300_001];
    new Random(3).nextBytes(content);
    Path file = dir.resolve("blob.bin");
    Files.write(file, content);
    ByteVector v = NativeFileBytes.read(file);
    try {
      assertEquals(content.length, v.size());
      assertNotNull(NativeFileBytes.storage(v, v.size()), "the std::vector layout check failed: the slow path is in use");
      assertArrayEquals(content, v.get());  // element by element through the vector's own accessor
    } finally {
      v.close();
    }
    Path empty = dir.resolve("empty.bin");
    Files.write(empty, new byte[0]);
    ByteVector none = NativeFileBytes.read(empty);
    assertEquals(0, none.size());
    none.close();
  }
}
