package dev.mergetune.cli;

import dev.mergetune.clip.ClipConfigCarry;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ResolvedClipConfig;
import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import dev.mergetune.merge.InputHashes;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune convert IN OUT.safetensors}: any readable checkpoint (a TorchScript archive, a torch.save dict,
 * a sharded safetensors index) as one safetensors file, written atomically, every tensor with its name, dtype and
 * bytes unchanged. The input's metadata is kept and {@code mergetune.converted_from} names the input and its
 * SHA-256. A CLIP model's configuration goes with it ({@link ClipConfigCarry}): the one it records (an OpenAI
 * TorchScript archive's by build_model's rules, a snapshot's config.json), or the {@code --model-config} given for a
 * checkpoint that records none. A .pt is loaded whole; once converted, merges stream it with bounded memory.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "convert", description = "Convert a checkpoint (.pt TorchScript or torch.save, or sharded safetensors)"
    + " to one .safetensors file, tensors unchanged.")
final class ConvertCommand implements Callable<Integer> {
  static final String CONVERTED_FROM = "mergetune.converted_from";

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN", description = "A .pt (TorchScript archive or torch.save dict), "
      + ".safetensors or *.safetensors.index.json")
  Path in;

  @Parameters(index = "1", paramLabel = "OUT", description = "The .safetensors file to write")
  Path out;

  @Option(names = "--model-config", description = "Record this configuration in OUT (a CLIP checkpoint that does not"
      + " record one; checked against the tensors, refused if the input records another). " + ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Override
  public Integer call() throws IOException {
    if (!out.getFileName().toString().endsWith(".safetensors")) {
      throw new IllegalArgumentException("OUT must be a .safetensors file: " + out);
    }
    if (out.toAbsolutePath().normalize().equals(in.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("OUT is the input file: " + out);
    }
    PrintWriter stdout = spec.commandLine().getOut();
    try (Checkpoint ckpt = Checkpoints.open(in)) {
      List<TensorSource> sources = new ArrayList<>();
      ProgressTask bar = Progress.installed().start("convert", ckpt.tensors().size(), "tensor");
      long bytes = 0;
      for (TensorInfo t : ckpt.tensors().values()) {
        sources.add(TensorSource.of(t.name(), t.dtype(), t.shape(), channel -> {
          ByteBuffer b = ckpt.bytes(t.name());
          try {
            while (b.hasRemaining()) channel.write(b);
          } finally {
            ckpt.release(b);
          }
          bar.step(1);
        }));
        bytes += t.byteLength();
      }
      Map<String, String> metadata = new LinkedHashMap<>(ckpt.metadata());
      metadata.put(CONVERTED_FROM, in.getFileName() + " sha256:" + InputHashes.sha256(in));
      if (modelConfig != null) {
        ResolvedClipConfig r = ClipLoader.resolve(ckpt, modelConfig);
        metadata.putAll(ClipConfigCarry.metadata(r.config(), r.origin()));
      } else {
        metadata.putAll(ClipConfigCarry.carried(List.of(in), List.of(ckpt)));
      }
      try {
        SafetensorsWriter.write(out, sources, metadata);
      } finally {
        bar.close();
      }
      stdout.printf("wrote %s: %d tensors, %.1f MiB, from %s%n", out, sources.size(), bytes / 1048576.0, in);
    }
    stdout.flush();
    return 0;
  }
}
