package dev.mergetune.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes expert k of a unify in {@link UnifiedFiles}' format as a checkpoint:
 *
 * <pre>
 *   expert_k = θ0 + λ_k · M_k ⊙ U      (kernel K3's decouple, fp32; on the tensors the masks file holds)
 *   expert_k = θ0                      (every other tensor, its bytes as they are; F64 → F32 as merge does)
 * </pre>
 *
 * in θ0's dtypes. θ0 is the base the JSON records (its SHA-256 is checked where recorded) unless one is given.
 * One tensor of U and θ0 is in memory at a time besides the written expert.
 */
public final class UnifiedExpert {
  private UnifiedExpert() {}

  /** @param base θ0, or null for the one the JSON records */
  public static Path write(Path unified, int task, Path base, Path out) throws IOException {
    NativeRuntime.ensureTorch();
    Path jsonFile = UnifiedFiles.sibling(unified, ".emr.json");
    if (!Files.isRegularFile(jsonFile)) {
      throw new IllegalArgumentException(unified + ": no " + jsonFile.getFileName() + " beside it (written by merge"
          + " --method emr or condu unify)");
    }
    JsonNode json = new ObjectMapper().readTree(jsonFile.toFile());
    JsonNode rescalers = json.get("rescalers");
    JsonNode masksName = json.get("masks");
    if (rescalers == null || !rescalers.isArray() || masksName == null || !masksName.isTextual()) {
      throw new IllegalArgumentException(jsonFile + ": needs 'rescalers' (a list) and 'masks' (a file name)");
    }
    int tasks = rescalers.size();
    if (task < 0 || task >= tasks) {
      throw new IllegalArgumentException("--task " + task + " is not one of the " + tasks + " tasks (0.." + (tasks - 1) + ") of " + jsonFile);
    }
    float lambda = (float) rescalers.get(task).asDouble();
    if (base == null) {
      JsonNode b = json.get("base");
      if (b == null || !b.isTextual()) throw new IllegalArgumentException(jsonFile + " records no base: give --base (θ0)");
      base = Path.of(b.asText());
    }
    JsonNode sha = json.get("base_sha256");
    if (sha != null && sha.isTextual() && !InputHashes.sha256(base).equals(sha.asText())) {
      throw new IllegalArgumentException(base + ": not the θ0 of " + jsonFile + " (its SHA-256 differs from " + sha.asText() + ")");
    }
    Path maskFile = jsonFile.resolveSibling(masksName.asText());
    List<TensorSource> outTensors = new ArrayList<>();
    try (Checkpoint b = Checkpoints.open(base); SafetensorsFile u = SafetensorsFile.open(unified);
        SafetensorsFile m = SafetensorsFile.open(maskFile)) {
      for (String name : m.tensors().keySet()) {
        if (!b.tensors().containsKey(name)) throw new IllegalArgumentException(maskFile + ": tensor '" + name + "' is not in " + base);
      }
      for (TensorInfo t : b.tensors().values()) {
        DType dtype = t.dtype() == DType.F64 ? DType.F32 : t.dtype();
        if (!m.tensors().containsKey(t.name())) {
          if (t.dtype() == DType.F64) outTensors.add(TensorSource.ofFloats(t.name(), t.shape(), floats(b, t), DType.F32));
          else outTensors.add(TensorSource.ofBytes(t.name(), t.dtype(), t.shape(), copy(b, t)));
          continue;
        }
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(base + ": tensor '" + t.name() + "' is " + t.dtype() + ", not floating");
        TensorInfo ui = u.tensors().get(t.name());
        if (ui == null) throw new IllegalArgumentException(unified + ": tensor '" + t.name() + "' is missing");
        if (!Arrays.equals(ui.shape(), t.shape())) {
          throw new IllegalArgumentException(unified + ": tensor '" + t.name() + "' has shape " + Arrays.toString(ui.shape())
              + " but θ0's is " + Arrays.toString(t.shape()));
        }
        long n = t.numel();
        TensorInfo mi = m.tensors().get(t.name());
        long words = TaskMasks.wordsFor(n);
        if (mi.dtype() != DType.I32 || !Arrays.equals(mi.shape(), new long[] {tasks, words})) {
          throw new IllegalArgumentException(maskFile + ": tensor '" + t.name() + "' is " + mi.dtype() + " "
              + Arrays.toString(mi.shape()) + ", expected I32 [" + tasks + ", " + words + "]");
        }
        ByteBuffer raw = m.bytes(t.name()).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int[] w = new int[(int) words];
        for (int j = 0; j < w.length; j++) w[j] = raw.getInt((int) ((task * words + j) * 4));
        float[] expert = new float[(int) n];
        try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, new long[] {n}, tasks);
            Tensor theta0 = Tensor.create(floats(b, t), t.shape());
            Tensor uu = Tensor.create(u.readFloats(t.name()), t.shape());
            Tensor e = Tensor.create(new float[(int) n], t.shape())) {
          masks.setWords(task, 0, w);
          List<String> one = List.of(t.name());
          SignConsistentMax.decouple(SegmentTable.ofTensors(one, List.of(e)), SegmentTable.ofTensors(one, List.of(theta0)),
              SegmentTable.ofTensors(one, List.of(uu)), masks, task, lambda);
          if (n > 0) new FloatPointer(e.data_ptr_float()).capacity(n).get(expert);
        }
        outTensors.add(TensorSource.ofFloats(t.name(), t.shape(), expert, dtype));
      }
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("mergetune.method", json.path("method").asText("emr"));
    meta.put("mergetune.param.output", "expert");
    meta.put("mergetune.param.task", Integer.toString(task));
    meta.put("mergetune.param.rescaler", String.valueOf(rescalers.get(task).asDouble()));
    JsonNode names = json.get("tasks");
    if (names != null && names.isArray() && names.size() == tasks) meta.put("mergetune.task", names.get(task).asText());
    SafetensorsWriter.write(out, outTensors, meta);
    return out;
  }

  private static ByteBuffer copy(Checkpoint c, TensorInfo t) {
    ByteBuffer raw = c.bytes(t.name());
    try {
      ByteBuffer b = ByteBuffer.allocate(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      b.put(raw.duplicate()).flip();
      return b;
    } finally {
      c.release(raw);
    }
  }

  /** A floating tensor as float32: F16/BF16 widened exactly, F64 rounded to nearest. */
  public static float[] floats(Checkpoint c, TensorInfo t) {
    float[] out = new float[Math.toIntExact(t.numel())];
    ByteBuffer raw = c.bytes(t.name());
    try {
      ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      for (int j = 0; j < out.length; j++) {
        out[j] = switch (t.dtype()) {
          case F32 -> b.getFloat(j * 4);
          case F64 -> (float) b.getDouble(j * 8);
          case F16 -> HalfFloats.f16ToFloat(b.getShort(j * 2));
          case BF16 -> HalfFloats.bf16ToFloat(b.getShort(j * 2));
          default -> throw new IllegalArgumentException(c.path() + ": tensor '" + t.name() + "' is " + t.dtype());
        };
      }
    } finally {
      c.release(raw);
    }
    return out;
  }
}
