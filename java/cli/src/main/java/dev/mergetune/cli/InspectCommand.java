package dev.mergetune.cli;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune inspect FILE}: the tensors of a checkpoint with shapes, dtypes and bytes, and, where the format
 * records it (TorchScript), how many are parameters and how many buffers.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "inspect", description = "List the tensors of a checkpoint (.safetensors, sharded index, or .pt "
    + "TorchScript / torch.save): name, dtype, shape, bytes.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "A .safetensors file, a *.safetensors.index.json or a .pt")
  Path file;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Checkpoint ckpt = Checkpoints.open(file)) {
      int width = 6;
      for (String name : ckpt.tensors().keySet()) width = Math.max(width, name.length());
      String format = "%-" + width + "s  %-5s  %-20s  %12s%n";
      out.printf(format, "tensor", "dtype", "shape", "bytes");
      long total = 0;
      long elements = 0;
      Map<DType, Long> byType = new EnumMap<>(DType.class);
      for (TensorInfo t : ckpt.tensors().values()) {
        out.printf(format, t.name(), t.dtype(), t.shapeString(), t.byteLength());
        total += t.byteLength();
        elements += t.numel();
        byType.merge(t.dtype(), t.numel(), Long::sum);
      }
      out.printf("%n%d tensors, %d elements, %d bytes (%.1f MiB) in %d file(s); elements by dtype: %s%n",
          ckpt.tensors().size(), elements, total, total / 1048576.0, ckpt.shardCount(), byType);
      ckpt.parameterNames().ifPresent(params -> out.printf("%d parameters, %d buffers%n", params.size(),
          ckpt.tensors().size() - params.size()));
      if (!ckpt.metadata().isEmpty()) out.printf("metadata: %s%n", ckpt.metadata());
    }
    out.flush();
    return 0;
  }
}
