package dev.mergetune.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipConfigResolver;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ClipVocabulary;
import dev.mergetune.clip.FeatureCache;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.PromptTemplates;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.merge.InputHashes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the CLIP commands share: finding the vocabulary, reading text files, the tokenizer, extractor and cache. */
final class ClipInputs {
  /** The help text of every {@code --model-config} option. */
  static final String MODEL_CONFIG_HELP = "The model configuration, for a checkpoint that does not record it:"
      + " openai (OpenAI's build_model rules: heads = width/64, QuickGELU), an open_clip name (ViT-B-32, ViT-B-16,"
      + " ViT-L-14, ViT-L-14-336, ViT-H-14, ViT-g-14, ViT-bigG-14, -quickgelu variants), or a JSON file (open_clip"
      + " model config, Hugging Face config.json). Default: what the checkpoint records (metadata, config.json beside"
      + " it, OpenAI TorchScript archive); `mergetune info MODEL` shows it";

  private ClipInputs() {}

  /** A --model-config value as recorded (paths absolute), or null. */
  static String modelConfig(String given) {
    return ClipConfigResolver.canonicalSpec(given, null);
  }

  /**
   * The model's vocabulary: the one given, else its snapshot's vocab.json + merges.txt, $MERGETUNE_CLIP_VOCAB, a
   * merges file beside the model that fits it, or the bundled CLIP vocabulary ({@link ClipVocabulary#resolve}).
   */
  static ClipVocabulary vocabulary(Path given, Path modelPath, ClipModel model) {
    return ClipVocabulary.resolve(given, modelPath, model.config().vocabSize());
  }

  /** A tokenizer for the model's context length. */
  static TextTokenizer tokenizer(ClipTokenizer t, ClipModel model, boolean truncate) {
    return TextTokenizer.of(t, model.config().contextLength(), truncate ? Truncation.TRUNCATE : Truncation.ERROR);
  }

  /** Texts from a JSON array of strings (.json) or one text per line (anything else; a final newline ends a line). */
  static List<String> texts(Path file) {
    try {
      if (file.getFileName().toString().endsWith(".json")) {
        return new ObjectMapper().readValue(file.toFile(), new TypeReference<List<String>>() {});
      }
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read the texts (" + e.getMessage() + ")", e);
    }
  }

  /**
   * A --templates value: imagenet80 | coop:DATASET | mtil:DATASET | mergetune:DATASET (MergeTune's anchor template)
   * | a file (one template with {} per line) | one template with {}.
   */
  static List<String> templates(String spec) {
    if (spec.equals("imagenet80")) return PromptTemplates.imagenet80();
    if (spec.startsWith("coop:")) return List.of(PromptTemplates.coop(spec.substring(5)));
    if (spec.startsWith("mtil:")) return PromptTemplates.mtil(spec.substring(5));
    if (spec.startsWith("mergetune:")) return List.of(PromptTemplates.mergetune(spec.substring(10)));
    if (!spec.contains("{}") && Files.isRegularFile(Path.of(spec))) return PromptTemplates.load(Path.of(spec));
    if (!spec.contains("{}")) {
      throw new IllegalArgumentException("--templates '" + spec + "' is neither a template with {} nor a set"
          + " (imagenet80, coop:DATASET, mtil:DATASET, mergetune:DATASET) nor a file");
    }
    return List.of(spec);
  }

  static FeatureExtractor extractor(int batch, boolean progress, Path cacheDir) {
    return new FeatureExtractor(batch, progress, cacheDir == null ? null : new FeatureCache(cacheDir));
  }

  /** The model's identity for the feature cache: its file's SHA-256 (computed only when a cache is used). */
  static String identity(Path model, Path cacheDir) {
    if (cacheDir == null) return model.toString();
    try {
      return "sha256:" + InputHashes.sha256(model);
    } catch (IOException e) {
      throw new UncheckedIOException("hashing " + model, e);
    }
  }
}
