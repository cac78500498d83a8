package dev.mergetune.merge;

import dev.mergetune.tensors.HfFolders;
import dev.mergetune.tensors.LockstepWriter;
import dev.mergetune.tensors.ShardPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a merge's {@code --out} goes. A path ending in '/' or naming an existing folder is a Hugging Face style
 * output folder: {@value ShardPlan#SINGLE}, or with a shard size its shards and {@value ShardPlan#INDEX}; once the
 * weights are in place, the base's config and tokenizer files ({@link HfFolders#SIDE_FILES}) are copied into it
 * when the base was read from an HF folder ({@link HfFolders#folderOf}), and HF-named weight files an earlier write
 * left there are removed. Any other path is one .safetensors file (a shard size then is an error).
 */
public record MergeOutputs(Path written, Path folder) {
  /** The output for {@code out} ({@code shardBytes} 0: unsharded). */
  public static MergeOutputs of(String out, long shardBytes) {
    Path p = Path.of(out);
    boolean folder = out.endsWith("/") || Files.isDirectory(p);
    if (shardBytes > 0) {
      if (!folder && out.endsWith(".safetensors")) {
        throw new IllegalArgumentException("--out-shard-size writes a folder of shards and " + ShardPlan.INDEX
            + ": give --out a folder (e.g. merged/), not the file " + out);
      }
      return new MergeOutputs(p, p);
    }
    return folder ? new MergeOutputs(p.resolve(ShardPlan.SINGLE), p) : new MergeOutputs(p, null);
  }

  /** The paths {@link StreamingMerge#run} writes for these outputs. */
  public static List<Path> written(List<MergeOutputs> outs) {
    List<Path> paths = new ArrayList<>();
    for (MergeOutputs o : outs) paths.add(o.written);
    return paths;
  }

  /** Creates the output folders of unsharded folder outputs (a sharded writer creates its own). */
  public static void prepare(List<MergeOutputs> outs) throws IOException {
    for (MergeOutputs o : outs) if (o.folder != null) Files.createDirectories(o.folder);
  }

  /**
   * After the weights are committed: stale HF weight files removed from each folder, the base's side files copied
   * in. Returns one line per folder that received side files ("copied config.json, ... from DIR").
   */
  public static List<String> finish(List<MergeOutputs> outs, Path reference, long shardBytes) throws IOException {
    List<String> lines = new ArrayList<>();
    Path from = reference == null ? null : HfFolders.folderOf(reference);
    for (MergeOutputs o : outs) {
      if (o.folder == null) continue;
      if (shardBytes == 0) LockstepWriter.removeStale(o.folder, List.of(o.written));
      if (from == null) continue;
      List<String> copied = HfFolders.copySideFiles(from, o.folder);
      if (!copied.isEmpty()) lines.add("copied " + String.join(", ", copied) + " from " + from + " to " + o.folder);
    }
    return lines;
  }
}
