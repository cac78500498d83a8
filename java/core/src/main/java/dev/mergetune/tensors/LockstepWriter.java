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
 * file produced together (a λ sweep computes all its outputs from one read of the inputs). Every file goes to a
 * temporary file first and is renamed into place only when all of them are complete; on any failure every temporary
 * file is removed and the targets are left as they were.
 */
public final class LockstepWriter {
  /** Fills one buffer per output file with tensor {@code index}'s bytes (little-endian, exactly its byte length). */
  @FunctionalInterface
  public interface Producer {
    void produce(int index, TensorInfo tensor, ByteBuffer[] outputs) throws IOException;
  }

  private LockstepWriter() {}

  /** Layout entries need name, dtype and shape; offsets are assigned here. */
  public static void write(List<Path> targets, List<TensorInfo> layout, List<Map<String, String>> metadata,
      Producer producer) throws IOException {
    if (targets.size() != metadata.size()) throw new IllegalArgumentException(targets.size() + " targets, " + metadata.size() + " metadata maps");
    if (targets.isEmpty()) throw new IllegalArgumentException("no output files");
    List<Path> temps = new ArrayList<>();
    List<FileChannel> channels = new ArrayList<>();
    boolean done = false;
    try {
      for (int k = 0; k < targets.size(); k++) {
        Path tmp = AtomicFiles.temporaryFor(targets.get(k));
        temps.add(tmp);
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        channels.add(ch);
        byte[] header = SafetensorsHeader.serialize(layout, metadata.get(k));
        writeAll(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
        writeAll(ch, ByteBuffer.wrap(header));
      }
      ByteBuffer[] buffers = new ByteBuffer[targets.size()];
      for (int i = 0; i < layout.size(); i++) {
        TensorInfo t = layout.get(i);
        if (t.byteLength() > Integer.MAX_VALUE) throw new IOException("tensor '" + t.name() + "' is over 2 GiB");
        for (int k = 0; k < buffers.length; k++) {
          if (buffers[k] == null || buffers[k].capacity() < t.byteLength()) {
            buffers[k] = ByteBuffer.allocateDirect((int) Math.max(t.byteLength(), 1L << 16)).order(ByteOrder.LITTLE_ENDIAN);
          }
          buffers[k].clear().limit((int) t.byteLength());
        }
        producer.produce(i, t, buffers);
        for (int k = 0; k < buffers.length; k++) {
          ByteBuffer b = buffers[k];
          b.position(0).limit((int) t.byteLength());
          writeAll(channels.get(k), b);
        }
      }
      for (FileChannel ch : channels) ch.force(true);
      for (FileChannel ch : channels) ch.close();
      channels.clear();
      for (int k = 0; k < targets.size(); k++) AtomicFiles.commit(temps.get(k), targets.get(k));
      done = true;
    } finally {
      for (FileChannel ch : channels) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      if (!done) {
        for (Path tmp : temps) Files.deleteIfExists(tmp);
      }
    }
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}
