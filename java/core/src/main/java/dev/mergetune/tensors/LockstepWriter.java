package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes several safetensors files with one layout in lockstep: tensor by tensor, each tensor's bytes for every
 * file written together (a λ sweep computes all its outputs from one read of the inputs). Every file goes to a
 * temporary file first; {@link #commit} forces each file to disk once (one fdatasync per output, at the end) and
 * renames them into place only when all are complete; {@link #close} without a commit removes every temporary file
 * and leaves the targets as they were. One thread at a time may use a writer (the merge's writer thread).
 */
public final class LockstepWriter implements AutoCloseable {
  /** Fills one buffer per output file with tensor {@code index}'s bytes (little-endian, exactly its byte length). */
  @FunctionalInterface
  public interface Producer {
    void produce(int index, TensorInfo tensor, ByteBuffer[] outputs) throws IOException;
  }

  private final List<Path> targets;
  private final List<TensorInfo> layout;
  private final List<Path> temps = new ArrayList<>();
  private final List<FileChannel> channels = new ArrayList<>();
  private final List<byte[]> headers = new ArrayList<>();
  private int next;
  private boolean committed;

  private LockstepWriter(List<Path> targets, List<TensorInfo> layout) {
    this.targets = List.copyOf(targets);
    this.layout = List.copyOf(layout);
  }

  /** Creates the temporary files and writes their headers. Layout entries need name, dtype and shape. */
  public static LockstepWriter open(List<Path> targets, List<TensorInfo> layout, List<Map<String, String>> metadata)
      throws IOException {
    if (targets.size() != metadata.size()) throw new IllegalArgumentException(targets.size() + " targets, " + metadata.size() + " metadata maps");
    if (targets.isEmpty()) throw new IllegalArgumentException("no output files");
    for (TensorInfo t : layout) {
      if (t.byteLength() > Integer.MAX_VALUE) throw new IOException("tensor '" + t.name() + "' is over 2 GiB");
    }
    LockstepWriter w = new LockstepWriter(targets, layout);
    try {
      for (int k = 0; k < targets.size(); k++) {
        Path tmp = AtomicFiles.temporaryFor(targets.get(k));
        w.temps.add(tmp);
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        w.channels.add(ch);
        byte[] header = SafetensorsHeader.serialize(layout, metadata.get(k));
        w.headers.add(header);
        writeAll(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
        writeAll(ch, ByteBuffer.wrap(header));
      }
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e;
    }
  }

  public int files() {
    return targets.size();
  }

  /** Writes tensor {@code index} (the next in layout order): buffer k's position..limit is file k's bytes. */
  public void write(int index, ByteBuffer[] outputs) throws IOException {
    if (index != next) throw new IllegalStateException("tensor " + index + " written, tensor " + next + " expected");
    TensorInfo t = layout.get(index);
    for (int k = 0; k < channels.size(); k++) {
      ByteBuffer b = outputs[k].duplicate();
      if (b.remaining() != t.byteLength()) {
        throw new IllegalStateException("tensor '" + t.name() + "' is " + t.byteLength() + " bytes, got " + b.remaining());
      }
      writeAll(channels.get(k), b);
    }
    next++;
  }

  /**
   * Replaces strings in every file's header with others of the same length (values known only once the data is
   * written, e.g. an input's digest), in place; each must occur exactly once in a header that holds it.
   */
  public void patchHeaders(Map<String, String> replacements) throws IOException {
    for (int k = 0; k < channels.size(); k++) {
      byte[] header = headers.get(k);
      String text = new String(header, java.nio.charset.StandardCharsets.ISO_8859_1);
      for (Map.Entry<String, String> e : replacements.entrySet()) {
        int at = text.indexOf(e.getKey());
        if (at < 0) continue;
        if (text.indexOf(e.getKey(), at + 1) >= 0 || e.getValue().length() != e.getKey().length()
            || !e.getValue().chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '"' && c != '\\')) {
          throw new IllegalStateException("cannot patch '" + e.getKey() + "' in the header of " + targets.get(k));
        }
        ByteBuffer b = ByteBuffer.wrap(e.getValue().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        long pos = 8 + at;
        while (b.hasRemaining()) pos += channels.get(k).write(b, pos);
      }
    }
  }

  /** Every tensor written: forces each file to disk once, closes them and renames them over the targets. */
  public void commit() throws IOException {
    if (next != layout.size()) throw new IllegalStateException(next + " of " + layout.size() + " tensors written");
    for (FileChannel ch : channels) ch.force(false);
    for (FileChannel ch : channels) ch.close();
    channels.clear();
    for (int k = 0; k < targets.size(); k++) AtomicFiles.commit(temps.get(k), targets.get(k));
    committed = true;
  }

  /** Without a {@link #commit}: closes and removes every temporary file. */
  @Override
  public void close() throws IOException {
    for (FileChannel ch : channels) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // already failing
      }
    }
    channels.clear();
    if (!committed) {
      for (Path tmp : temps) Files.deleteIfExists(tmp);
    }
  }

  /** The synchronous form: {@code producer} fills every tensor's buffers in turn, then all files are committed. */
  public static void write(List<Path> targets, List<TensorInfo> layout, List<Map<String, String>> metadata,
      Producer producer) throws IOException {
    try (LockstepWriter w = open(targets, layout, metadata)) {
      ByteBuffer[] buffers = new ByteBuffer[targets.size()];
      for (int i = 0; i < layout.size(); i++) {
        TensorInfo t = layout.get(i);
        for (int k = 0; k < buffers.length; k++) {
          if (buffers[k] == null || buffers[k].capacity() < t.byteLength()) {
            buffers[k] = ByteBuffer.allocateDirect((int) Math.max(t.byteLength(), 1L << 16)).order(ByteOrder.LITTLE_ENDIAN);
          }
          buffers[k].clear().limit((int) t.byteLength());
        }
        producer.produce(i, t, buffers);
        for (ByteBuffer b : buffers) b.position(0).limit((int) t.byteLength());
        w.write(i, buffers);
      }
      w.commit();
    }
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}
