package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a safetensors file atomically ({@link AtomicFiles}): header with the given metadata, then each tensor's
 * bytes in order. A source that writes more or fewer bytes than its dtype and shape need fails the write, naming
 * the tensor, and leaves any existing file at the target untouched.
 */
public final class SafetensorsWriter {
  private SafetensorsWriter() {}

  public static void write(Path target, List<TensorSource> tensors, Map<String, String> metadata) throws IOException {
    List<TensorInfo> layout = new ArrayList<>(tensors.size());
    Set<String> names = new HashSet<>();
    for (TensorSource t : tensors) {
      if (t.name().equals(SafetensorsHeader.METADATA_KEY)) {
        throw new IllegalArgumentException("'" + SafetensorsHeader.METADATA_KEY + "' cannot name a tensor");
      }
      if (!names.add(t.name())) throw new IllegalArgumentException("tensor '" + t.name() + "' appears twice");
      for (long d : t.shape()) {
        if (d < 0) throw new IllegalArgumentException("tensor '" + t.name() + "' has a negative dimension");
      }
      layout.add(new TensorInfo(t.name(), t.dtype(), t.shape(), 0, t.byteLength()));
    }
    byte[] header = SafetensorsHeader.serialize(layout, metadata);
    AtomicFiles.write(target, ch -> {
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
      writeAll(ch, prefix);
      writeAll(ch, ByteBuffer.wrap(header));
      for (int i = 0; i < tensors.size(); i++) {
        long before = ch.position();
        tensors.get(i).writeTo(ch);
        long written = ch.position() - before;
        if (written != layout.get(i).byteLength()) {
          throw new IOException("tensor '" + tensors.get(i).name() + "' wrote " + written + " bytes but "
              + layout.get(i).dtype() + " " + layout.get(i).shapeString() + " needs " + layout.get(i).byteLength());
        }
      }
    });
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}
