package dev.mergetune.condu;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.tensors.CheckpointFormatException;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A task's prototypes as safetensors: tensor {@code prototypes} [C, D] float32, class names in metadata {@code classes}. */
final class PrototypeFiles {
  static final String TENSOR = "prototypes";
  static final String CLASSES = "classes";
  private static final ObjectMapper JSON = new ObjectMapper();

  private PrototypeFiles() {}

  static void write(Path target, Prototypes p) throws IOException {
    String classes = JSON.writeValueAsString(p.classNames());
    SafetensorsWriter.write(target, List.of(TensorSource.ofFloats(TENSOR, new long[] {p.classes(), p.dim()},
        p.values(), DType.F32)), Map.of(CLASSES, classes));
  }

  static Prototypes read(Path file) throws IOException {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      TensorInfo info = f.info(TENSOR);
      long[] shape = info.shape();
      String classes = f.metadata().get(CLASSES);
      if (shape.length != 2 || classes == null) {
        throw new CheckpointFormatException(file, "prototypes must be [C, D] with class names in metadata '" + CLASSES + "'");
      }
      List<String> names = JSON.readValue(classes, new TypeReference<List<String>>() {});
      return new Prototypes(names, Math.toIntExact(shape[1]), f.readFloats(TENSOR));
    }
  }
}
