package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * One tensor to be written: its name, dtype, shape, and a writer for exactly its bytes (little-endian). The
 * bytes are produced only when the writer reaches the tensor, so a merge can stream its outputs.
 */
public interface TensorSource {
  String name();

  DType dtype();

  long[] shape();

  /** Writes exactly numel·dtype-size bytes to the channel. */
  void writeTo(WritableByteChannel channel) throws IOException;

  default long byteLength() {
    long n = dtype().byteSize();
    for (long d : shape()) n = Math.multiplyExact(n, d);
    return n;
  }

  /** Writes a tensor's bytes to a channel. */
  @FunctionalInterface
  interface BytesWriter {
    void writeTo(WritableByteChannel channel) throws IOException;
  }

  /** A tensor whose bytes come from {@code writer} when the file writer reaches it. */
  static TensorSource of(String name, DType dtype, long[] shape, BytesWriter writer) {
    long[] shapeCopy = shape.clone();
    return new TensorSource() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public DType dtype() {
        return dtype;
      }

      @Override
      public long[] shape() {
        return shapeCopy.clone();
      }

      @Override
      public void writeTo(WritableByteChannel channel) throws IOException {
        writer.writeTo(channel);
      }
    };
  }

  /** A float32 tensor from an array (written as {@code dtype}: F32, or rounded to F16/BF16). */
  static TensorSource ofFloats(String name, long[] shape, float[] values, DType dtype) {
    long numel = 1;
    for (long d : shape) numel *= d;
    if (numel != values.length) {
      throw new IllegalArgumentException("tensor '" + name + "': shape has " + numel + " elements, data has " + values.length);
    }
    if (!dtype.isFloating() || dtype == DType.F64) {
      throw new IllegalArgumentException("tensor '" + name + "': floats are written as F32, F16 or BF16, not " + dtype);
    }
    return of(name, dtype, shape, channel -> {
      ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
      switch (dtype) {
        case F32 -> b.asFloatBuffer().put(values);
        case F16 -> {
          var s = b.asShortBuffer();
          for (float v : values) s.put(HalfFloats.floatToF16(v));
        }
        case BF16 -> {
          var s = b.asShortBuffer();
          for (float v : values) s.put(HalfFloats.floatToBf16(v));
        }
        default -> throw new IllegalStateException("unreachable: " + dtype);
      }
      while (b.hasRemaining()) channel.write(b);
    });
  }

  /** Any tensor from its raw little-endian bytes (integer tensors pass through this way). */
  static TensorSource ofBytes(String name, DType dtype, long[] shape, ByteBuffer bytes) {
    ByteBuffer data = bytes.duplicate();
    long expected = dtype.byteSize();
    for (long d : shape) expected *= d;
    if (data.remaining() != expected) {
      throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " " + java.util.Arrays.toString(shape)
          + " needs " + expected + " bytes, got " + data.remaining());
    }
    return of(name, dtype, shape, channel -> {
      ByteBuffer b = data.duplicate();
      while (b.hasRemaining()) channel.write(b);
    });
  }
}
