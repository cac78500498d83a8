package dev.mergetune.merge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;

/**
 * The merge's reused I/O buffers in native memory that is neither zeroed nor moved: {@code ByteBuffer.allocateDirect}
 * zeroes every byte (≈ 2 GB for a ViT-B/16 × 8 merge's slots, a second of memset before the first read), and its
 * memory is only freed when the collector runs. These are freed at {@link #close}.
 */
final class NativeBuffers implements AutoCloseable {
  private final List<BytePointer> owned = new ArrayList<>();

  /** A little-endian direct buffer of {@code bytes} (≥ 64) bytes, contents undefined. */
  synchronized ByteBuffer allocate(long bytes) {
    BytePointer p = new BytePointer(Math.max(bytes, 64));
    if (p.isNull()) throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of native memory for the merge's buffers");
    owned.add(p);
    return p.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public synchronized void close() {
    for (BytePointer p : owned) p.deallocate();
    owned.clear();
  }
}
