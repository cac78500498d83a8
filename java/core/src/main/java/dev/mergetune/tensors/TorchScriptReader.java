package dev.mergetune.tensors;

import dev.mergetune.tensors.Pickled.PDict;
import dev.mergetune.tensors.Pickled.PObject;
import dev.mergetune.tensors.Pickled.TensorRef;
import dev.mergetune.tensors.TorchScriptClasses.ClassInfo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The state dict of a TorchScript archive (the container of OpenAI's released CLIP checkpoints), read without
 * running any of its code: {@code data.pkl} is unpickled by {@link PickleMachine} into inert objects (class name +
 * attribute dict), and {@code code/} is read as text only for each class's {@code __parameters__} and
 * {@code __buffers__} lists ({@link TorchScriptClasses}). Every parameter and buffer of every submodule is named and
 * ordered as Python's {@code module.state_dict()} does (each module's parameters, then its buffers, then its
 * submodules); buffers include integer tensors such as OpenAI's {@code input_resolution}. An archive whose classes
 * define {@code __setstate__} is refused: its weights would depend on running that code (which LibTorch does on load,
 * and which may loop forever or do anything TorchScript can). {@code constants.pkl} is not needed and not read.
 */
final class TorchScriptReader {
  static final int MAX_MODULE_DEPTH = 64;

  private TorchScriptReader() {}

  static TorchTensors read(PtZip zip, String archive) {
    Path path = zip.path();
    TorchScriptClasses classes = TorchScriptClasses.read(zip, archive);
    String setState = classes.firstWithSetState();
    if (setState != null) {
      throw new CheckpointFormatException(path, "class " + setState + " defines __setstate__: its weights depend on "
          + "running the archive's code, which mergetune never does (released CLIP archives define none)");
    }
    String entry = archive + "/data.pkl";
    Object root = PickleMachine.run(path, entry, zip.readBytes(entry, TorchSaveReader.MAX_PICKLE_BYTES), true);
    if (!(root instanceof PObject module)) {
      throw new CheckpointFormatException(path, entry + " holds a " + Pickled.kind(root) + ", not a TorchScript module");
    }
    Map<String, TensorRef> tensors = new LinkedHashMap<>();
    Set<String> parameters = new LinkedHashSet<>();
    visit(path, classes, module, "", 0, tensors, parameters);
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("mergetune.source_format", TorchArchives.Kind.TORCHSCRIPT.description());
    return new TorchTensors(tensors, parameters, metadata, archive + "/data/");
  }

  private static void visit(Path path, TorchScriptClasses classes, PObject module, String prefix, int depth,
      Map<String, TensorRef> tensors, Set<String> parameters) {
    if (depth > MAX_MODULE_DEPTH) {
      throw new CheckpointFormatException(path, "modules nest more than " + MAX_MODULE_DEPTH + " deep at '" + prefix + "'");
    }
    ClassInfo info = classes.get(module.className);
    if (info == null) {
      throw new CheckpointFormatException(path, "module '" + prefix + "' is of class " + module.className
          + ", which code/ does not define");
    }
    if (!(module.state instanceof PDict state)) {
      throw new CheckpointFormatException(path, "module '" + prefix + "' (" + module.className + ") has a "
          + Pickled.kind(module.state) + " state, not an attribute dict");
    }
    for (int pass = 0; pass < 2; pass++) {
      Set<String> wanted = pass == 0 ? info.parameters() : info.buffers();
      for (Map.Entry<Object, Object> e : state.map.entrySet()) {
        if (!(e.getKey() instanceof String key) || !wanted.contains(key) || e.getValue() == Pickled.NONE) continue;
        if (!(e.getValue() instanceof TensorRef t)) {
          throw new CheckpointFormatException(path, "'" + prefix + key + "' is declared a " + (pass == 0 ? "parameter"
              : "buffer") + " but holds a " + Pickled.kind(e.getValue()));
        }
        String name = prefix + key;
        if (tensors.put(name, t) != null) {
          throw new CheckpointFormatException(path, "tensor '" + name + "' appears twice in the module tree");
        }
        if (pass == 0) parameters.add(name);
      }
    }
    for (Map.Entry<Object, Object> e : state.map.entrySet()) {
      if (e.getKey() instanceof String key && e.getValue() instanceof PObject child) {
        ClassInfo c = classes.get(child.className);
        if (c != null && c.module()) visit(path, classes, child, prefix + key + ".", depth + 1, tensors, parameters);
      }
    }
  }
}
