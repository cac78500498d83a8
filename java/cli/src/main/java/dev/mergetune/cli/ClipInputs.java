package dev.mergetune.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
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
  static final String VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz";

  private ClipInputs() {}

  /**
   * The BPE merges file: the one given, else $MERGETUNE_CLIP_VOCAB, else {@value #VOCAB_FILE} beside the model.
   */
  static Path vocabulary(Path given, Path model) {
    if (given != null) return given;
    String env = System.getenv("MERGETUNE_CLIP_VOCAB");
    if (env != null && !env.isBlank()) return Path.of(env);
    Path beside = model.toAbsolutePath().resolveSibling(VOCAB_FILE);
    if (Files.isRegularFile(beside)) return beside;
    throw new IllegalArgumentException("no CLIP vocabulary: give --vocab PATH (" + VOCAB_FILE + " from the CLIP release), "
        + "set MERGETUNE_CLIP_VOCAB, or put it beside " + model);
  }

  /** A tokenizer for the model's context length, whose ids must fit the model's token embedding. */
  static TextTokenizer tokenizer(Path vocab, ClipModel model, boolean truncate) {
    ClipTokenizer t = clipTokenizer(vocab, model);
    int contextLength = model.config().contextLength();
    return TextTokenizer.of(t, contextLength, truncate ? Truncation.TRUNCATE : Truncation.ERROR);
  }

  /**
   * {@link #clipTokenizer(Path, ClipModel)} for a checkpoint not otherwise loaded here (it is loaded to read its
   * configuration, then released).
   */
  static ClipTokenizer clipTokenizer(Path vocab, Path model) {
    try (ClipModel m = ClipLoader.load(model)) {
      return clipTokenizer(vocab, m);
    }
  }

  /** CLIP's tokenizer from the merges file, checked to fit the model's token embedding. */
  static ClipTokenizer clipTokenizer(Path vocab, ClipModel model) {
    ClipTokenizer t = model.config().vocabSize() >= ClipTokenizer.CLIP_VOCAB_SIZE ? ClipTokenizer.load(vocab)
        : ClipTokenizer.forVocabSize(vocab, model.config().vocabSize());  // a smaller vocabulary of its own (the world's)
    if (t.vocabSize() > model.config().vocabSize()) {
      throw new IllegalArgumentException(vocab + " has " + t.vocabSize() + " tokens but the model's token embedding has "
          + model.config().vocabSize() + " rows: not this model's vocabulary");
    }
    return t;
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
