package dev.mergetune.tensors;

import java.util.Arrays;

/**
 * One tensor of a checkpoint file: its name, dtype, shape, and where its bytes are (absolute file offset, length).
 * The offset is 0 where it means nothing: layouts still to be written, and formats held in memory (.pt files).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long fileOffset, long byteLength) {
  public TensorInfo {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long numel() {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
        && fileOffset == t.fileOffset && byteLength == t.byteLength;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + shapeString();
  }
}
