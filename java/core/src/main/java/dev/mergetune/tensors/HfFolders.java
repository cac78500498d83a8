package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face model folders as merge inputs and outputs: the checkpoint a folder holds ({@value ShardPlan#SINGLE},
 * else {@value ShardPlan#INDEX} and its shards), and the files beside the weights that make a folder loadable — the
 * model configuration, tokenizer and processor files of a snapshot (for CLIP: config.json, vocab.json, merges.txt,
 * tokenizer.json, tokenizer_config.json, special_tokens_map.json, preprocessor_config.json; open_clip's
 * open_clip_config.json; for language models also generation_config.json, tokenizer.model, added_tokens.json and
 * the chat templates, the files mergekit's {@code _copy_tokenizer} copies).
 */
public final class HfFolders {
  private HfFolders() {}

  /** The non-weight files copied from a base folder to an output folder, where present. */
  public static final List<String> SIDE_FILES = List.of("config.json", "generation_config.json",
      "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
      "merges.txt", "tokenizer.model", "added_tokens.json", "chat_template.json", "chat_template.jinja",
      "open_clip_config.json");
  private static final long MAX_SIDE_FILE = 256L << 20;

  /** The checkpoint file of a folder (model.safetensors, else its shard index), or an error naming the folder. */
  public static Path checkpointIn(Path folder, String what) {
    for (String name : List.of(ShardPlan.SINGLE, ShardPlan.INDEX)) {
      if (Files.isRegularFile(folder.resolve(name))) return folder.resolve(name);
    }
    throw new IllegalArgumentException(what + " " + folder + " is a folder without " + ShardPlan.SINGLE + " or "
        + ShardPlan.INDEX);
  }

  /** {@code path} itself, or the checkpoint inside it when it is a folder. */
  public static Path resolveInput(Path path, String what) {
    return path != null && Files.isDirectory(path) ? checkpointIn(path, what) : path;
  }

  /**
   * The HF folder an input checkpoint was read from: its folder when the file is the folder's model.safetensors,
   * its shard index or pytorch_model.bin, and a config.json lies beside it; else null.
   */
  public static Path folderOf(Path checkpoint) {
    Path name = checkpoint.getFileName();
    Path dir = checkpoint.toAbsolutePath().getParent();
    if (name == null || dir == null) return null;
    String n = name.toString();
    boolean weights = n.equals(ShardPlan.SINGLE) || n.equals(ShardPlan.INDEX) || n.equals("pytorch_model.bin");
    return weights && Files.isRegularFile(dir.resolve("config.json")) ? dir : null;
  }

  /** Copies the {@link #SIDE_FILES} {@code from} holds into {@code to}, each atomically; returns their names. */
  public static List<String> copySideFiles(Path from, Path to) throws IOException {
    List<String> copied = new ArrayList<>();
    if (from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) return copied;
    for (String name : SIDE_FILES) {
      Path src = from.resolve(name);
      if (!Files.isRegularFile(src)) continue;
      long size = Files.size(src);
      if (size > MAX_SIDE_FILE) throw new IOException(src + ": " + size + " bytes; side files are at most " + MAX_SIDE_FILE);
      AtomicFiles.write(to.resolve(name), Files.readAllBytes(src));
      copied.add(name);
    }
    return copied;
  }
}
