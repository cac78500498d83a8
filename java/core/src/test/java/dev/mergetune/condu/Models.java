package dev.mergetune.condu;

import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;

/** Small CPU float32 models for the store tests: tensors from arrays, arrays from tensors, θ0 on disk. */
final class Models {
  private Models() {}

  static Tensor tensor(float[] values, long... shape) {
    return Tensor.create(values.clone(), shape);
  }

  static float[] floats(Tensor t) {
    float[] out = new float[Math.toIntExact(t.numel())];
    if (out.length > 0) new FloatPointer(t.data_ptr_float()).capacity(out.length).get(out);
    return out;
  }

  /** A model with the given names, shapes and flat values. */
  static Map<String, Tensor> model(List<String> names, List<long[]> shapes, float[][] values) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int s = 0; s < names.size(); s++) m.put(names.get(s), tensor(values[s], shapes.get(s)));
    return m;
  }

  static SegmentTable table(Map<String, Tensor> model) {
    return SegmentTable.ofTensors(model);
  }

  /** Writes θ0 as a safetensors checkpoint (the store only refers to it) and returns its reference. */
  static Theta0Ref writeTheta0(Path file, Map<String, Tensor> theta0) throws IOException {
    List<TensorSource> sources = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : theta0.entrySet()) {
      sources.add(TensorSource.ofFloats(e.getKey(), e.getValue().sizes().vec().get(), floats(e.getValue()), DType.F32));
    }
    SafetensorsWriter.write(file, sources, Map.of());
    return Theta0Ref.of(file);
  }

  /** A model of zeros shaped like {@code like} (a reusable decouple buffer). */
  static Map<String, Tensor> zerosLike(Map<String, Tensor> like) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : like.entrySet()) {
      m.put(e.getKey(), tensor(new float[Math.toIntExact(e.getValue().numel())], e.getValue().sizes().vec().get()));
    }
    return m;
  }
}
