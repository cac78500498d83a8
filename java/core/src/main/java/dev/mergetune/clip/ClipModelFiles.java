package dev.mergetune.clip;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a CLIP model's files are: the weights, and the configuration and tokenizer files that come with them in a
 * Hugging Face or open_clip snapshot folder. {@code path} may be such a folder or a weights file; a file's folder
 * is searched only when the file has one of the names those snapshots use (so a merged checkpoint written next to
 * someone's {@code config.json} is not taken for that model).
 *
 * <ul>
 *   <li>Hugging Face: {@code model.safetensors}, {@code model.safetensors.index.json} (sharded) or
 *       {@code pytorch_model.bin}, with {@code config.json}, {@code vocab.json} and {@code merges.txt};
 *   <li>open_clip: {@code open_clip_model.safetensors}, {@code open_clip_pytorch_model.safetensors} or
 *       {@code open_clip_pytorch_model.bin}, with {@code open_clip_config.json}.
 * </ul>
 * In a folder that has both (the LAION repositories do), the Hugging Face weights are taken.
 */
public record ClipModelFiles(Path given, Path weights, Path hfConfig, Path openClipConfig, Path hfVocab, Path hfMerges) {
  static final List<String> HF_WEIGHTS = List.of("model.safetensors", "model.safetensors.index.json",
      "pytorch_model.bin");
  static final List<String> OPEN_CLIP_WEIGHTS = List.of("open_clip_model.safetensors",
      "open_clip_pytorch_model.safetensors", "open_clip_pytorch_model.bin");
  public static final String OPEN_CLIP_CONFIG = "open_clip_config.json";

  public static ClipModelFiles of(Path path) {
    if (Files.isDirectory(path)) {
      for (List<String> names : List.of(HF_WEIGHTS, OPEN_CLIP_WEIGHTS)) {
        for (String n : names) {
          Path w = path.resolve(n);
          if (Files.isRegularFile(w)) return beside(path, w);
        }
      }
      throw new IllegalArgumentException(path + ": a folder without CLIP weights (expected one of "
          + String.join(", ", HF_WEIGHTS) + " with config.json, or " + String.join(", ", OPEN_CLIP_WEIGHTS)
          + " with " + OPEN_CLIP_CONFIG + ")");
    }
    Path dir = path.toAbsolutePath().getParent();
    String name = path.getFileName().toString();
    if (dir != null && (HF_WEIGHTS.contains(name) || OPEN_CLIP_WEIGHTS.contains(name))) return beside(dir, path);
    return new ClipModelFiles(path, path, null, null, null, null);
  }

  private static ClipModelFiles beside(Path dir, Path weights) {
    boolean hf = HF_WEIGHTS.contains(weights.getFileName().toString());
    Path hfConfig = hf ? existing(dir.resolve(HuggingFaceConfig.FILE)) : null;
    Path ocConfig = hf ? null : existing(dir.resolve(OPEN_CLIP_CONFIG));
    Path vocab = existing(dir.resolve("vocab.json"));
    Path merges = existing(dir.resolve("merges.txt"));
    boolean tokenizer = vocab != null && merges != null;
    return new ClipModelFiles(dir, weights, hfConfig, ocConfig, tokenizer ? vocab : null, tokenizer ? merges : null);
  }

  private static Path existing(Path p) {
    return Files.isRegularFile(p) ? p : null;
  }

  /** The folder's configuration file (config.json or open_clip_config.json), or null. */
  public Path configFile() {
    return hfConfig != null ? hfConfig : openClipConfig;
  }
}
