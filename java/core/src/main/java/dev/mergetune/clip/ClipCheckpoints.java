package dev.mergetune.clip;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes a {@link ClipModel}'s weights as a safetensors state dict with OpenAI names (atomically, with metadata,
 * including the model configuration — heads, activation, MLP width, ε, LayerScale — so that {@link ClipLoader}
 * rebuilds the same model).
 */
public final class ClipCheckpoints {
  private ClipCheckpoints() {}

  public static void save(ClipModel model, Path path, Map<String, String> metadata) throws IOException {
    List<TensorSource> tensors = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
      Tensor t = e.getValue().detach().contiguous();
      long[] shape = t.sizes().vec().get();
      long n = t.numel();
      tensors.add(TensorSource.of(e.getKey(), DType.F32, shape, channel -> {
        ByteBuffer b = ByteBuffer.allocate((int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        if (n > 0) {
          float[] values = new float[(int) n];
          ((java.nio.FloatBuffer) t.createBuffer()).get(values);
          b.asFloatBuffer().put(values);
        }
        while (b.hasRemaining()) channel.write(b);
      }));
    }
    Map<String, String> meta = new java.util.LinkedHashMap<>(metadata);
    meta.putAll(ClipConfigCarry.metadata(model.config(), model.origin()));
    SafetensorsWriter.write(path, tensors, meta);
  }
}
