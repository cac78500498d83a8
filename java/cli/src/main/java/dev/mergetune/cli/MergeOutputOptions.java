package dev.mergetune.cli;

import dev.mergetune.kernels.Devices;
import dev.mergetune.merge.MergeOutputs;
import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.ShardPlan;
import dev.mergetune.tensors.StorageDTypes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code merge}'s compute, storage and placement options, the same for every method and beside --config: the
 * compute dtype (float32, the only one the kernels run), the storage dtype of floating tensors, HF-style sharding
 * of the output folder, and the device.
 */
final class MergeOutputOptions {
  @Option(names = "--dtype", paramLabel = "fp32",
      description = "Compute dtype: fp32 (the default, and the only one the merge kernels run; others are refused)")
  String dtype;

  @Option(names = "--out-dtype", paramLabel = "fp32|fp16|bf16", description = "Storage dtype of every floating"
      + " tensor written, rounded to nearest even (default: each tensor's input dtype, F64 as F32)")
  String outDtype;

  @Option(names = "--out-shard-size", paramLabel = "SIZE", description = "Write --out as a Hugging Face folder of"
      + " shards of at most SIZE of tensor data each (5GB, 500MB, 2GiB) with model.safetensors.index.json")
  String shardSize;

  @Option(names = "--device", paramLabel = "cpu|cuda", description = "Where the merge kernels run: cpu (default);"
      + " cuda is refused with the reason")
  String device;

  /** The compute dtype and device checks; one clear error for anything but float32 on the CPU. */
  void checkCompute() {
    if (dtype != null) requireFloat32(dtype, "--dtype");
    if (device != null) {
      switch (device.toLowerCase(Locale.ROOT)) {
        case "cpu" -> { }
        case "cuda" -> {
          if (!Devices.cudaAvailable()) {
            throw new IllegalArgumentException("--device cuda: no usable CUDA device here (" + Devices.cudaUnavailableReason()
                + "); leave --device out to merge on the CPU");
          }
          throw new IllegalArgumentException("--device cuda: merge does not run its kernels on CUDA yet (it streams"
              + " through the CPU kernels); leave --device out to merge on the CPU");
        }
        default -> throw new IllegalArgumentException("unknown --device '" + device + "' (cpu, cuda)");
      }
    }
  }

  /** A compute dtype given as {@code where}: float32 passes; float64 and the 16-bit types are refused, saying why. */
  static void requireFloat32(String name, String where) {
    String n = name.toLowerCase(Locale.ROOT);
    if (List.of("fp32", "float32", "f32", "float").contains(n)) return;
    if (List.of("fp64", "float64", "f64", "double").contains(n)) {
      throw new IllegalArgumentException(where + " " + name + ": the merge kernels compute in float32 only (their"
          + " reductions accumulate in double); leave it out");
    }
    if (StorageDTypes.parse(n) != null) {
      throw new IllegalArgumentException(where + " " + name + ": merges compute in float32; to store " + name
          + " give --out-dtype " + name);
    }
    throw new IllegalArgumentException("unknown " + where + " '" + name + "' (fp32)");
  }

  /** A mergekit dtype: float32, or the 16-bit types (computed in float32, noted by the caller); float64 refused. */
  static void requireFloat32Or16(String name, String where) {
    if (name.equals("float16") || name.equals("bfloat16")) return;
    requireFloat32(name, where);
  }

  DType outDType() {
    return outDtype == null ? null : StorageDTypes.require(outDtype, "unknown --out-dtype");
  }

  long shardBytes() {
    return shardSize == null ? 0 : ShardPlan.parseSize(shardSize, "--out-shard-size");
  }

  /** {@code options} with the storage dtype ({@code fallback} when --out-dtype is not given) and shard size. */
  StreamingMerge.Options apply(StreamingMerge.Options options, DType fallback) {
    DType d = outDType();
    return options.withOutDType(d != null ? d : fallback).withShardBytes(shardBytes());
  }

  /** The outputs of --out values (strings: a trailing '/' marks a folder). */
  List<MergeOutputs> outputs(List<String> outs) {
    List<MergeOutputs> o = new ArrayList<>();
    for (String p : outs) o.add(MergeOutputs.of(p, shardBytes()));
    return o;
  }

  /** Runs after a merge: stale files removed, side files copied, each copy reported on {@code w}. */
  void finish(List<MergeOutputs> outs, Path reference, PrintWriter w) throws IOException {
    for (String line : MergeOutputs.finish(outs, reference, shardBytes())) w.println(line);
  }
}
