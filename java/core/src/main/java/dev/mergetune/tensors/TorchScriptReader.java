package dev.mergetune.tensors;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedJitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_module_iterator;
import org.bytedeco.pytorch.named_module_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

/**
 * The state dict of a TorchScript archive (the container of OpenAI's released CLIP checkpoints): every parameter
 * and buffer of every submodule, named and ordered as Python's {@code module.state_dict()} names and orders them
 * (module by module, each module's parameters before its buffers). Buffers include integer tensors such as OpenAI's
 * {@code input_resolution}, {@code context_length} and {@code vocab_size}; they are kept, and told apart from the
 * parameters so trainable-only filters can skip them. The archive is mapped to the CPU whatever device it was
 * saved from. Must run inside a PointerScope: the module and every temporary are freed when it closes.
 */
final class TorchScriptReader {
  private TorchScriptReader() {}

  static TorchTensors read(Path path) {
    JitModule root = torch.load(path.toString(), new DeviceOptional(new Device("cpu")), false);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Set<String> parameters = new LinkedHashSet<>();
    named_module_list modules = root.named_modules();
    for (named_module_iterator it = modules.begin(); it.notEquals(modules.end()); it = it.increment()) {
      NamedJitModule named = it.access();
      BytePointer moduleName = named.name();  // null for the root, whose name is empty
      String prefix = moduleName == null || moduleName.getString().isEmpty() ? "" : moduleName.getString() + ".";
      JitModule module = named.value();
      named_parameter_list ps = module.named_parameters(false);
      for (named_parameter_iterator p = ps.begin(); p.notEquals(ps.end()); p = p.increment()) {
        String name = add(path, tensors, prefix, p.access());
        parameters.add(name);
      }
      named_buffer_list bs = module.named_buffers(false);
      for (named_buffer_iterator b = bs.begin(); b.notEquals(bs.end()); b = b.increment()) add(path, tensors, prefix, b.access());
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("mergetune.source_format", TorchArchives.Kind.TORCHSCRIPT.description());
    return new TorchTensors(tensors, parameters, metadata);
  }

  private static String add(Path path, Map<String, Tensor> tensors, String prefix, NamedTensor named) {
    String name = prefix + named.name().getString();
    if (tensors.put(name, named.value()) != null) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' appears twice in the module tree");
    }
    return name;
  }
}
