package dev.mergetune.tensors;

import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Writes PyTorch files from Java with LibTorch's own writers, so tests need no Python and no shared fixtures.
 * torch.save files: the preset cannot construct a {@code c10::Dict} directly, so the value is built by a small
 * TorchScript method over the given tensors (registered as buffers {@code self.t0, self.t1, ...}) and written
 * with {@code torch::pickle_save}, the zip format Python's {@code torch.load} reads.
 */
public final class TorchFiles {
  private TorchFiles() {}

  /** A torch.save file holding {name: tensor, ...} in the given order. */
  public static void saveDict(Path file, Map<String, Tensor> tensors) throws IOException {
    List<Tensor> fields = new ArrayList<>(tensors.values());
    pickleSave(file, fields, "Dict[str, Tensor]", dictOf(new ArrayList<>(tensors.keySet()), 0));
  }

  /** A torch.save file holding {wrapper: {name: tensor, ...}, "other": {...}}: a wrapped state dict. */
  public static void saveWrapped(Path file, String wrapper, Map<String, Tensor> tensors) throws IOException {
    List<Tensor> fields = new ArrayList<>(tensors.values());
    fields.add(Tensor.create(new float[] {1f}, 1));
    String inner = dictOf(new ArrayList<>(tensors.keySet()), 0);
    String other = "{\"optimizer.step\": self.t" + tensors.size() + "}";
    pickleSave(file, fields, "Dict[str, Dict[str, Tensor]]", "{\"other\": " + other + ", " + quote(wrapper) + ": " + inner + "}");
  }

  /**
   * A torch.save file holding whatever {@code expression} (TorchScript, of static type {@code type}) evaluates to,
   * where {@code self.t0 ...} are {@code fields}.
   */
  public static void pickleSave(Path file, List<Tensor> fields, String type, String expression) throws IOException {
    NativeRuntime.ensureTorch();
    JitModule m = new JitModule(new QualifiedName("Fields"));
    for (int i = 0; i < fields.size(); i++) m.register_buffer("t" + i, fields.get(i));
    m.define("def value(self) -> " + type + ":\n  return " + expression + "\n");
    IValue value = m.get_method("value").apply(new IValueVector());
    ByteVector bytes = torch.pickle_save(value);
    Files.write(file, bytes.get());
  }

  /**
   * A TorchScript archive (LibTorch's own writer) whose {@code __setstate__} never returns: LibTorch runs it on load
   * and hangs; mergetune must refuse it without running it.
   */
  public static void loopingSetState(Path file) {
    NativeRuntime.ensureTorch();
    JitModule m = new JitModule(new QualifiedName("Looping"));
    m.register_parameter("w", Tensor.create(new float[] {1, 2}, 2), false);
    m.define("def __getstate__(self) -> Tuple[Tensor, int]:\n  return (self.w, 0)\n");
    m.define("def __setstate__(self, state: Tuple[Tensor, int]) -> None:\n  i = 0\n  while i >= 0:\n    i = 1\n"
        + "  self.w = state[0]\n");
    m.define("def forward(self, x: Tensor) -> Tensor:\n  return x * self.w\n");
    m.save(file.toString());
  }

  /** {@code {"name0": self.t<first>, ...}} in TorchScript. */
  static String dictOf(List<String> names, int first) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < names.size(); i++) {
      sb.append(i == 0 ? "" : ", ").append(quote(names.get(i))).append(": self.t").append(first + i);
    }
    return sb.append("}").toString();
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** An insertion-ordered map, for building dicts inline. */
  public static Map<String, Tensor> ordered(Object... nameTensorPairs) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < nameTensorPairs.length; i += 2) m.put((String) nameTensorPairs[i], (Tensor) nameTensorPairs[i + 1]);
    return m;
  }
}
