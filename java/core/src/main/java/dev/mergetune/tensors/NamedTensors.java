package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Named float32 CPU tensors to and from a safetensors file: trained states (contexts, heads, adapters, a method's
 * trainable tensors, optimizer state) and checkpoints.
 */
public final class NamedTensors {
  private NamedTensors() {}

  /** Writes the tensors in the map's order, F32, with {@code metadata} in the header. */
  public static void save(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    List<TensorSource> sources = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue().detach().contiguous();
      if (t.scalar_type().value != torch.ScalarType.Float.value) {  // JavaCPP enums are not interned
        throw new IllegalArgumentException("tensor '" + e.getKey() + "' is not float32");
      }
      float[] values = new float[Math.toIntExact(t.numel())];
      t.data_ptr_float().get(values);
      sources.add(TensorSource.ofFloats(e.getKey(), t.sizes().vec().get(), values, DType.F32));
    }
    SafetensorsWriter.write(target, sources, metadata);
  }

  /**
   * Copies the file's tensors into {@code into} in place, without recording gradients. The names must match exactly,
   * and so must the shapes. Returns the file's metadata.
   */
  public static Map<String, String> load(Path source, Map<String, Tensor> into) {
    try (SafetensorsFile f = SafetensorsFile.open(source); NoGradGuard g = new NoGradGuard()) {
      Set<String> saved = f.tensors().keySet();
      if (!saved.equals(into.keySet())) {
        throw new IllegalArgumentException(source + " holds " + saved + ", expected " + into.keySet());
      }
      for (Map.Entry<String, Tensor> e : into.entrySet()) {
        Tensor dst = e.getValue();
        long[] shape = f.info(e.getKey()).shape();
        if (!Arrays.equals(shape, dst.sizes().vec().get())) {
          throw new IllegalArgumentException("tensor '" + e.getKey() + "': file shape " + Arrays.toString(shape)
              + ", expected " + Arrays.toString(dst.sizes().vec().get()));
        }
        dst.copy_(Tensor.create(f.readFloats(e.getKey()), shape));
      }
      return Map.copyOf(f.metadata());
    }
  }

  /** The metadata of a safetensors file. */
  public static Map<String, String> metadata(Path source) {
    try (SafetensorsFile f = SafetensorsFile.open(source)) {
      return Map.copyOf(f.metadata());
    }
  }
}
