package dev.mergetune.tensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * A safetensors file opened read-only: the header is validated on open, tensor bytes are memory-mapped on demand
 * (one mapping per read, so memory follows what is read, not the file size). Floating tensors (F64/F32/F16/BF16)
 * read as float32; any tensor reads as its raw little-endian bytes, which is how integer tensors pass through.
 */
public final class SafetensorsFile implements AutoCloseable {
  private final Path path;
  private final FileChannel channel;
  private final SafetensorsHeader header;
  private final long size;
  private FileDigest digest;

  private SafetensorsFile(Path path, FileChannel channel, SafetensorsHeader header, long size) {
    this.path = path;
    this.channel = channel;
    this.header = header;
    this.size = size;
  }

  public static SafetensorsFile open(Path path) {
    dev.mergetune.io.InputFiles.problem(path).ifPresent(p -> {
      throw new CheckpointFormatException(path, p);
    });
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new CheckpointFormatException(path, "no such file");
    } catch (IOException e) {
      throw new UncheckedIOException("opening " + path, e);
    }
    try {
      long size = sizeOf(channel, path);
      if (size < 8) throw new CheckpointFormatException(path, "file is " + size + " bytes, too short for a header");
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, prefix, 0, path);
      long n = SafetensorsHeader.checkHeaderLength(path, prefix.getLong(0), size);
      ByteBuffer json = ByteBuffer.allocate((int) n);
      readFully(channel, json, 8, path);
      SafetensorsHeader header = SafetensorsHeader.parse(path, json.array(), size);
      return new SafetensorsFile(path, channel, header, size);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  public Path path() {
    return path;
  }

  /** Tensors in header order. */
  public Map<String, TensorInfo> tensors() {
    return header.tensors();
  }

  public Map<String, String> metadata() {
    return header.metadata();
  }

  public TensorInfo info(String name) {
    TensorInfo info = header.tensors().get(name);
    if (info == null) throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
    return info;
  }

  /**
   * The tensor's bytes, little-endian, read-only: a fresh memory mapping of the file, owned by the caller, who may
   * unmap it early with {@link MappedBuffers#release} once nothing uses it any more.
   */
  public ByteBuffer bytes(String name) {
    TensorInfo info = info(name);
    if (info.byteLength() > Integer.MAX_VALUE) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' is " + info.byteLength()
          + " bytes; tensors over 2 GiB are not supported yet");
    }
    try {
      return channel.map(FileChannel.MapMode.READ_ONLY, info.fileOffset(), info.byteLength())
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException("mapping tensor '" + name + "' of " + path, e);
    }
  }

  /**
   * Reads the tensor's raw bytes into {@code dst} (its remaining space must be exactly the tensor's byte length) with
   * explicit positioned reads, no mapping: a file truncated by another process while it is read is an error naming
   * it, never a fault in native code. With {@link #digestWhileReading} on, the bytes also feed the file's digest.
   */
  public void read(String name, ByteBuffer dst) {
    TensorInfo info = info(name);
    if (dst.remaining() != info.byteLength()) {
      throw new IllegalArgumentException("tensor '" + name + "' is " + info.byteLength() + " bytes, the buffer has " + dst.remaining());
    }
    ByteBuffer view = dst.duplicate();
    readTensor(name, view, info.fileOffset());
    if (digest != null) digest.feed(dst.duplicate(), info.fileOffset());
  }

  /**
   * Computes the file's {@code algorithm} digest from the reads {@link #read} makes anyway: bytes read in file order
   * are hashed as they arrive, a gap (the header, a tensor not read) is read for the digest alone, and
   * {@link #finishDigest} hashes whatever follows the last read. Reads behind the digest's position (a second pass)
   * do not feed it.
   */
  public void digestWhileReading(dev.mergetune.io.ContentDigest algorithm) {
    digest = new FileDigest(algorithm);
  }

  /** The whole file's digest as lower-case hex (reads what the tensor reads did not cover). */
  public String finishDigest() {
    if (digest == null) throw new IllegalStateException("digestWhileReading was not called for " + path);
    String hex = digest.finish();
    digest = null;
    return hex;
  }

  private void readTensor(String name, ByteBuffer dst, long position) {
    try {
      long pos = position;
      while (dst.hasRemaining()) {
        int r = channel.read(dst, pos);
        if (r < 0) throw truncated(pos, "tensor '" + name + "'");
        pos += r;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading tensor '" + name + "' of " + path, e);
    }
  }

  private CheckpointFormatException truncated(long at, String what) {
    long now;
    try {
      now = channel.size();
    } catch (IOException e) {
      now = -1;
    }
    return new CheckpointFormatException(path, "ended at byte " + at + " while reading " + what + " (it had "
        + size + " bytes when opened" + (now >= 0 ? ", the file now has " + now : "")
        + "): it was truncated or replaced while being read");
  }

  /** A digest over the file, fed in file order; gaps are read from the channel. */
  private final class FileDigest {
    private final dev.mergetune.io.ContentDigest algorithm;
    private final dev.mergetune.io.ContentDigest.Stream md;
    private final ByteBuffer gap = ByteBuffer.allocateDirect(1 << 20);
    private long hashedTo;

    FileDigest(dev.mergetune.io.ContentDigest algorithm) {
      this.algorithm = algorithm;
      this.md = algorithm.start();
    }

    void feed(ByteBuffer bytes, long offset) {
      if (offset < hashedTo) return;
      hashUpTo(offset);
      hashedTo += bytes.remaining();
      md.update(bytes);
    }

    String finish() {
      hashUpTo(size);
      return md.hex();
    }

    private void hashUpTo(long end) {
      try {
        while (hashedTo < end) {
          gap.clear().limit((int) Math.min(gap.capacity(), end - hashedTo));
          int r = channel.read(gap, hashedTo);
          if (r < 0) throw truncated(hashedTo, "bytes for its " + algorithm.label());
          gap.flip();
          md.update(gap);
          hashedTo += r;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + path + " for its " + algorithm.label(), e);
      }
    }
  }

  /** A floating tensor as float32 (F16/BF16 widened exactly, F64 rounded to nearest). */
  public float[] readFloats(String name) {
    TensorInfo info = info(name);
    if (!info.dtype().isFloating()) {
      throw new IllegalArgumentException(path + ": tensor '" + name + "' is " + info.dtype()
          + ", not a floating type; read its bytes instead");
    }
    long n = info.numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(path + ": tensor '" + name + "' has " + n + " elements, too many for an array");
    }
    float[] out = new float[(int) n];
    ByteBuffer b = bytes(name);
    try {
      FloatWidening.widen(info.dtype(), b, out);
    } finally {
      MappedBuffers.release(b);  // copied out: the mapping need not wait for the collector
    }
    return out;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + path, e);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long position, Path path) {
    try {
      long pos = position;
      while (dst.hasRemaining()) {
        int r = ch.read(dst, pos);
        if (r < 0) throw new CheckpointFormatException(path, "unexpected end of file at byte " + pos);
        pos += r;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + path, e);
    }
  }

  private static long sizeOf(FileChannel ch, Path path) {
    try {
      return ch.size();
    } catch (IOException e) {
      throw new UncheckedIOException("reading the size of " + path, e);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // already failing; the original error is the one to report
    }
  }

  /** True when the file starts like a safetensors file would (a plausible length prefix and a '{'). */
  public static boolean looksLikeSafetensors(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      if (ch.size() < 9) return false;
      ByteBuffer b = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, b, 0, path);
      long n = b.getLong(0);
      return n >= 2 && n <= ch.size() - 8 && b.get(8) == '{';
    } catch (IOException e) {
      return false;
    }
  }
}
