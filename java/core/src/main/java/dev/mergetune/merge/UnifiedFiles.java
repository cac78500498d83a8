package dev.mergetune.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.tensors.AtomicFiles;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * The one on-disk format of a sign-consistent-max unify (EMR-Merging's {@code merge --method emr} and ConDU's
 * {@code condu unify}), three files named after the unified one:
 *
 * <pre>
 *   OUT.safetensors          U, the unified delta (tensor names as θ0's; metadata mergetune.param.output = unified-delta)
 *   OUT.masks.safetensors    for each unified tensor an I32 tensor [T, ⌈n/32⌉]: bit k of word w of row i is M_i at
 *                            element 32·w + k (TaskMasks' layout); metadata mergetune.emr = masks
 *   OUT.emr.json             {method: emr | condu, unified, masks, base, base_sha256 (or null), models, tasks, rescalers}
 * </pre>
 *
 * Expert i is θ0 + λ_i·M_i ⊙ U on the tensors the masks file holds and θ0 elsewhere ({@link UnifiedExpert}).
 */
public final class UnifiedFiles {
  private UnifiedFiles() {}

  /** The bit-packed mask words of a task on one tensor. */
  public interface MaskWords {
    int[] words(int task, int tensor);
  }

  /** Writes all three files from an in-memory unify (ConDU's last session); returns them. */
  public static List<Path> write(Path out, String method, Path base, String baseSha256, List<Path> models,
      List<String> tasks, List<String> names, List<Tensor> unified, TaskMasks masks, double[] rescalers)
      throws IOException {
    List<TensorSource> u = new ArrayList<>();
    for (int s = 0; s < names.size(); s++) {
      Tensor t = unified.get(s);
      float[] v = new float[Math.toIntExact(t.numel())];
      if (v.length > 0) new FloatPointer(t.data_ptr_float()).capacity(v.length).get(v);
      u.add(TensorSource.ofFloats(names.get(s), t.sizes().vec().get(), v, DType.F32));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("mergetune.method", method);
    meta.put("mergetune.param.output", "unified-delta");
    SafetensorsWriter.write(out, u, meta);
    List<Path> written = new ArrayList<>(List.of(out));
    written.addAll(writeSideFiles(out, method, base, baseSha256, models, tasks, names, masks::words, rescalers));
    return written;
  }

  /** Writes the masks and the JSON beside an already written U ({@code merge --method emr}); returns them. */
  public static List<Path> writeSideFiles(Path out, String method, Path base, String baseSha256, List<Path> models,
      List<String> tasks, List<String> names, MaskWords masks, double[] rescalers) throws IOException {
    int t = tasks.size();
    List<TensorSource> sources = new ArrayList<>();
    for (int s = 0; s < names.size(); s++) {
      int[][] words = new int[t][];
      for (int i = 0; i < t; i++) words[i] = masks.words(i, s);
      ByteBuffer b = ByteBuffer.allocate(t * words[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int[] w : words) for (int x : w) b.putInt(x);
      b.flip();
      sources.add(TensorSource.ofBytes(names.get(s), DType.I32, new long[] {t, words[0].length}, b));
    }
    Path maskFile = sibling(out, ".masks.safetensors");
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("mergetune.emr", "masks");
    meta.put("mergetune.emr.layout", "[task, word]: bit k of word w is element 32·w + k");
    SafetensorsWriter.write(maskFile, sources, meta);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("method", method);
    json.put("unified", out.getFileName().toString());
    json.put("masks", maskFile.getFileName().toString());
    json.put("base", base == null ? null : base.toString());
    json.put("base_sha256", baseSha256);
    List<String> paths = new ArrayList<>();
    for (Path p : models) paths.add(p.toString());
    json.put("models", paths);
    json.put("tasks", tasks);
    json.put("rescalers", rescalers);
    Path jsonFile = sibling(out, ".emr.json");
    AtomicFiles.write(jsonFile, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json));
    return List.of(maskFile, jsonFile);
  }

  /** OUT.safetensors → OUT + suffix. */
  public static Path sibling(Path out, String suffix) {
    String name = out.getFileName().toString();
    String stem = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
    return out.resolveSibling(stem + suffix);
  }

  /** A model's task name: its file name without .safetensors (a folder's name for model.safetensors). */
  public static String taskName(Path model) {
    Path name = model.getFileName();
    String s = name == null ? model.toString() : name.toString();
    if ((s.equals("model.safetensors") || s.equals("model.safetensors.index.json")) && model.getParent() != null
        && model.getParent().getFileName() != null) {
      return model.getParent().getFileName().toString();
    }
    for (String ext : List.of(".safetensors.index.json", ".safetensors", ".pt", ".pth", ".bin")) {
      if (s.endsWith(ext)) return s.substring(0, s.length() - ext.length());
    }
    return s;
  }
}
