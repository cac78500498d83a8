package dev.mergetune.tensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.pytorch.ByteVector;

/**
 * A whole file as a LibTorch {@code std::vector<char>} (what {@code torch::pickle_load} takes), read straight into
 * the vector's native memory. The preset's {@code new ByteVector(byte[])} copies one JNI call per byte (about
 * 10 ns each: 6 s for a 600 MB state dict) and needs the file on the Java heap (2 GiB at most); here the vector is
 * sized once and the file is read into its storage through direct buffers. The storage address is taken from the
 * vector object itself (begin and end pointers first, as libstdc++, libc++ and MSVC lay it out) and used only after
 * checking that end − begin is the size just set; otherwise the slow, layout-free copy is used.
 */
final class NativeFileBytes {
  private static final int WINDOW = 1 << 30;

  private NativeFileBytes() {}

  /** The file's bytes in a new vector; the caller owns it (attach it to a PointerScope or close it). */
  static ByteVector read(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteVector vector = new ByteVector();
      vector.resize(size);
      BytePointer data = storage(vector, size);
      if (data == null) {
        fillSlowly(vector, path, size);
        return vector;
      }
      for (long offset = 0; offset < size; offset += WINDOW) {
        long length = Math.min(WINDOW, size - offset);
        ByteBuffer window = data.position(offset).limit(offset + length).asByteBuffer();
        long at = offset;
        while (window.hasRemaining()) {
          int r = ch.read(window, at);
          if (r < 0) throw new CheckpointFormatException(path, "file shrank while being read, at byte " + at);
          at += r;
        }
      }
      return vector;
    } catch (NoSuchFileException e) {
      throw new CheckpointFormatException(path, "no such file");
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + path, e);
    }
  }

  /** The vector's storage, or null where its layout is not the begin/end pointer pair this expects. */
  static BytePointer storage(ByteVector vector, long size) {
    if (size == 0 || vector.size() != size) return null;
    PointerPointer<BytePointer> fields = new PointerPointer<>(vector);
    BytePointer begin = fields.get(BytePointer.class, 0);
    BytePointer end = fields.get(BytePointer.class, 1);
    if (begin == null || end == null || end.address() - begin.address() != size) return null;
    return begin.capacity(size);
  }

  private static void fillSlowly(ByteVector vector, Path path, long size) throws IOException {
    if (size > Integer.MAX_VALUE - 8) {
      throw new CheckpointFormatException(path, "is " + size + " bytes; files over 2 GiB cannot be passed to LibTorch "
          + "on this platform");
    }
    vector.put(Files.readAllBytes(path));
  }
}
