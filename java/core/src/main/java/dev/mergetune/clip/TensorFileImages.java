package dev.mergetune.clip;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Images that are already preprocessed (normalised float [N, 3, R, R]) in a safetensors file: the tensor named
 * {@code images}, else the file's only 4-D floating tensor. Batches are read from the memory-mapped file.
 */
public final class TensorFileImages implements BatchSource, AutoCloseable {
  private final SafetensorsFile file;
  private final TensorInfo info;
  private final long[] shape;
  private float[] widened;  // non-F32 tensors, widened once on the first batch

  private TensorFileImages(SafetensorsFile file, TensorInfo info) {
    this.file = file;
    this.info = info;
    this.shape = info.shape();
  }

  public static TensorFileImages open(Path path, int resolution) {
    SafetensorsFile f = SafetensorsFile.open(path);
    try {
      TensorInfo chosen = f.tensors().get("images");
      if (chosen == null) {
        List<TensorInfo> candidates = new ArrayList<>();
        for (TensorInfo t : f.tensors().values()) {
          if (t.dtype().isFloating() && t.shape().length == 4) candidates.add(t);
        }
        if (candidates.size() != 1) {
          throw new IllegalArgumentException(path + ": expected a tensor 'images' or exactly one 4-D floating tensor, found "
              + candidates.stream().map(TensorInfo::name).toList());
        }
        chosen = candidates.get(0);
      }
      long[] s = chosen.shape();
      if (!chosen.dtype().isFloating() || s.length != 4 || s[1] != 3 || s[2] != resolution || s[3] != resolution) {
        throw new IllegalArgumentException(path + ": tensor '" + chosen.name() + "' is " + chosen.dtype() + " "
            + Arrays.toString(s) + ", the model needs floating [N, 3, " + resolution + ", " + resolution + "]");
      }
      return new TensorFileImages(f, chosen);
    } catch (RuntimeException e) {
      f.close();
      throw e;
    }
  }

  @Override
  public long size() {
    return shape[0];
  }

  @Override
  public Tensor batch(long start, int count) {
    // F32 is sliced from the mapping; other float types are widened whole once (rare: inputs are written as F32).
    long per = shape[1] * shape[2] * shape[3];
    if (info.dtype() != DType.F32 && widened == null) widened = file.readFloats(info.name());
    float[] all = widened;
    float[] out = new float[(int) (count * per)];
    if (all != null) {
      System.arraycopy(all, (int) (start * per), out, 0, out.length);
    } else {
      java.nio.ByteBuffer b = file.bytes(info.name());
      try {
        b.order(java.nio.ByteOrder.LITTLE_ENDIAN).position((int) (start * per * 4));
        b.asFloatBuffer().get(out);
      } finally {
        dev.mergetune.tensors.MappedBuffers.release(b);
      }
    }
    return Tensor.create(out, count, shape[1], shape[2], shape[3]);
  }

  @Override
  public String identity() {
    try {
      return "tensor-file sha256:" + dev.mergetune.merge.InputHashes.sha256(file.path()) + " " + info.name();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("hashing " + file.path(), e);
    }
  }

  @Override
  public void close() {
    file.close();
  }
}
