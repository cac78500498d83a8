package dev.mergetune.tensors;

import dev.mergetune.tensors.Pickled.Storage;
import dev.mergetune.tensors.Pickled.TensorRef;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;

/**
 * Turns the tensor views of a PyTorch file into contiguous little-endian bytes, reading each storage record once
 * and checking every view against it first: the record holds exactly numel × element-size bytes; the view's
 * offset, sizes and strides are non-negative; numel and the furthest element offset + Σ(size−1)·stride are
 * computed without overflow and lie inside the storage. Only then are bytes copied (a slice where the view is
 * contiguous, a strided gather otherwise), so an output can only ever hold bytes of the file's own storages — the
 * check PyTorch's {@code torch.load} makes and LibTorch's reader skipped (it copied JVM heap past a 12-byte storage).
 *
 * <p>Memory is native (JavaCPP, not the Java heap), freed by {@link #close}; buffers handed out are valid until then.
 */
final class PtTensorViews implements AutoCloseable {
  private static final long WINDOW = 1L << 30;

  private final PtZip zip;
  private final String recordPrefix;
  private final Map<String, BytePointer> storages = new HashMap<>();
  private final List<BytePointer> owned = new ArrayList<>();

  /** Storages are the zip records {@code recordPrefix + key} (e.g. {@code archive/data/0}). */
  PtTensorViews(PtZip zip, String recordPrefix) {
    this.zip = zip;
    this.recordPrefix = recordPrefix;
  }

  /** The tensor {@code name}'s bytes, contiguous, read-only, little-endian. */
  ByteBuffer bytes(String name, TensorRef t) {
    Path path = zip.path();
    long elem = t.storage.dtype().byteSize();
    long numel = 1;
    long furthest = t.offset;
    try {
      if (t.offset < 0) throw new CheckpointFormatException(path, "tensor '" + name + "' has a negative storage offset " + t.offset);
      for (int i = 0; i < t.size.length; i++) {
        if (t.size[i] < 0 || t.stride[i] < 0) {
          throw new CheckpointFormatException(path, "tensor '" + name + "' has a negative size or stride (size "
              + java.util.Arrays.toString(t.size) + ", stride " + java.util.Arrays.toString(t.stride) + ")");
        }
        numel = Math.multiplyExact(numel, t.size[i]);
      }
      if (numel > 0) {
        for (int i = 0; i < t.size.length; i++) furthest = Math.addExact(furthest, Math.multiplyExact(t.size[i] - 1, t.stride[i]));
      }
      Math.multiplyExact(numel, elem);
      Math.multiplyExact(t.storage.numel(), elem);
    } catch (ArithmeticException overflow) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' has sizes/strides whose extent overflows 64 bits"
          + " (size " + java.util.Arrays.toString(t.size) + ", stride " + java.util.Arrays.toString(t.stride) + ")");
    }
    if (numel > 0 && furthest >= t.storage.numel()) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' reaches element " + furthest + " of storage '"
          + t.storage.key() + "', which holds " + t.storage.numel() + " (a view past its storage)");
    }
    if (numel * elem > Integer.MAX_VALUE - 8) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' is " + numel * elem
          + " bytes; tensors over 2 GiB are not supported yet");
    }
    if (numel == 0) return ByteBuffer.allocateDirect(0).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    BytePointer storage = storage(t.storage);
    if (contiguous(t.size, t.stride)) {
      return view(storage, t.offset * elem, numel * elem);
    }
    BytePointer out = new BytePointer(numel * elem);
    owned.add(out);
    gather(storage, t, elem, out);
    return view(out, 0, numel * elem);
  }

  private static boolean contiguous(long[] size, long[] stride) {
    long expected = 1;
    for (int i = size.length - 1; i >= 0; i--) {
      if (size[i] != 1 && stride[i] != expected) return false;
      expected *= size[i];
    }
    return true;
  }

  /** Row-major copy of the (already bounds-checked) view into {@code out}, one element at a time (no JNI). */
  private void gather(BytePointer storage, TensorRef t, long elem, BytePointer out) {
    long storageBytes = storage.capacity();
    if (storageBytes > Integer.MAX_VALUE - 8) {
      throw new CheckpointFormatException(zip.path(), "a non-contiguous view into storage '" + t.storage.key()
          + "' of over 2 GiB is not supported yet");
    }
    ByteBuffer from = new BytePointer(storage).position(0).limit(storageBytes).asByteBuffer();
    ByteBuffer to = new BytePointer(out).position(0).limit(out.capacity()).asByteBuffer();
    int rank = t.size.length;
    long[] index = new long[rank];
    long src = t.offset;
    long n = out.capacity() / elem;
    for (long k = 0; k < n; k++) {
      to.put((int) (k * elem), from, (int) (src * elem), (int) elem);
      for (int d = rank - 1; d >= 0; d--) {
        if (++index[d] < t.size[d]) {
          src += t.stride[d];
          break;
        }
        src -= (index[d] - 1) * t.stride[d];
        index[d] = 0;
      }
    }
  }

  private static ByteBuffer view(BytePointer p, long offset, long length) {
    ByteBuffer b = new BytePointer(p).position(offset).limit(offset + length).asByteBuffer();
    return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The storage's bytes, read (and CRC-checked) on first use. */
  private BytePointer storage(Storage s) {
    BytePointer p = storages.get(s.key());
    long bytes = s.numel() * s.dtype().byteSize();
    if (p != null) {
      if (p.capacity() != bytes) {
        throw new CheckpointFormatException(zip.path(), "storage '" + s.key() + "' is declared with two different sizes");
      }
      return p;
    }
    String record = recordPrefix + s.key();
    long size = zip.size(record);
    if (size != bytes) {
      throw new CheckpointFormatException(zip.path(), size < 0 ? "storage record '" + record + "' is missing"
          : "storage record '" + record + "' holds " + size + " bytes, but its tensors declare " + s.numel() + " "
              + s.dtype() + " elements (" + bytes + " bytes)");
    }
    p = new BytePointer(bytes);
    owned.add(p);
    List<ByteBuffer> windows = new ArrayList<>();
    for (long at = 0; at < bytes; at += WINDOW) {
      windows.add(new BytePointer(p).position(at).limit(Math.min(bytes, at + WINDOW)).asByteBuffer());
    }
    zip.read(record, windows);
    storages.put(s.key(), p.capacity(bytes));
    return p;
  }

  @Override
  public void close() {
    owned.forEach(BytePointer::deallocate);
    owned.clear();
    storages.clear();
  }
}
