package dev.mergetune.clip;

import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.ClipVocabularyException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A model's tokenizer and where it came from. {@link #resolve} finds it in this order:
 *
 * <ol>
 *   <li>the file given ({@code --vocab}): a gzipped CLIP merges file, or a Hugging Face {@code vocab.json} /
 *       {@code merges.txt} (the other one beside it);
 *   <li>a Hugging Face snapshot's own {@code vocab.json} + {@code merges.txt} ({@link ClipModelFiles});
 *   <li>{@code $MERGETUNE_CLIP_VOCAB};
 *   <li>beside the model: {@code bpe_simple_vocab_16e6.txt.gz}, else the one {@code *.txt.gz} merges file whose size
 *       fits the model's token embedding (such as the shapes world's {@code world-bpe.txt.gz}; two that fit are an
 *       error asking for {@code --vocab});
 *   <li>for a model with CLIP's 49408-token embedding, the bundled standard vocabulary
 *       ({@link ClipTokenizer#standard()}).
 * </ol>
 * The tokenizer is checked to fit the model's token embedding. {@link #file()} is what to pass as {@code --vocab}
 * to get the same tokenizer again (null for the bundled one, which is found again without it).
 */
public record ClipVocabulary(ClipTokenizer tokenizer, Path file, String description) {
  public static final String ENV = "MERGETUNE_CLIP_VOCAB";
  public static final String CLIP_FILE = "bpe_simple_vocab_16e6.txt.gz";

  /**
   * @param given the file the user named, or null
   * @param model the model's file or snapshot folder
   * @param vocabSize rows of the model's token embedding
   */
  public static ClipVocabulary resolve(Path given, Path model, int vocabSize) {
    if (given != null) return fromFile(given, vocabSize, "--vocab " + given);
    ClipModelFiles files = ClipModelFiles.of(model);
    if (files.hfVocab() != null) {
      return checked(ClipTokenizer.loadHuggingFace(files.hfVocab(), files.hfMerges()), files.hfVocab(), vocabSize,
          "the snapshot's " + files.hfVocab() + " + merges.txt");
    }
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) return fromFile(Path.of(env), vocabSize, "$" + ENV + " = " + env);
    Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
    if (dir != null) {
      Path clip = dir.resolve(CLIP_FILE);
      if (Files.isRegularFile(clip)) return fromFile(clip, vocabSize, clip + " (beside the model)");
      List<Path> fitting = new ArrayList<>();
      for (Path p : gzipFiles(dir)) {
        try {
          if (ClipTokenizer.mergeCount(p) + 514 == vocabSize) fitting.add(p);
        } catch (ClipVocabularyException e) {
          // not a merges file: not this model's vocabulary
        }
      }
      if (fitting.size() == 1) return fromFile(fitting.get(0), vocabSize, fitting.get(0) + " (beside the model)");
      if (fitting.size() > 1) {
        throw new IllegalArgumentException("several vocabularies beside " + model + " fit its " + vocabSize
            + "-token embedding: " + fitting + "; give --vocab FILE");
      }
    }
    if (vocabSize == ClipTokenizer.CLIP_VOCAB_SIZE) {
      return new ClipVocabulary(ClipTokenizer.standard(), null, ClipTokenizer.STANDARD_DESCRIPTION);
    }
    throw new IllegalArgumentException("no vocabulary for " + model + ": its token embedding has " + vocabSize
        + " rows, not CLIP's " + ClipTokenizer.CLIP_VOCAB_SIZE + ", and no merges file of that size lies beside it;"
        + " give --vocab FILE (the BPE merges it was trained with) or set $" + ENV);
  }

  /** A named vocabulary file for a model of {@code vocabSize} tokens. */
  public static ClipVocabulary fromFile(Path p, int vocabSize, String description) {
    String name = p.getFileName().toString();
    if (name.endsWith(".json") || (name.endsWith(".txt") && !name.endsWith(".txt.gz"))) {
      Path vocab = name.endsWith(".json") ? p : p.resolveSibling("vocab.json");
      Path merges = name.endsWith(".json") ? p.resolveSibling("merges.txt") : p;
      if (!Files.isRegularFile(vocab) || !Files.isRegularFile(merges)) {
        throw new ClipVocabularyException(p, "a Hugging Face tokenizer is vocab.json and merges.txt side by side;"
            + " " + (Files.isRegularFile(vocab) ? merges : vocab) + " is missing");
      }
      return checked(ClipTokenizer.loadHuggingFace(vocab, merges), vocab, vocabSize, description);
    }
    ClipTokenizer t = vocabSize >= ClipTokenizer.CLIP_VOCAB_SIZE ? ClipTokenizer.load(p)
        : ClipTokenizer.forVocabSize(p, vocabSize);  // a smaller vocabulary of its own (the world's)
    return checked(t, p, vocabSize, description);
  }

  private static ClipVocabulary checked(ClipTokenizer t, Path file, int vocabSize, String description) {
    if (t.vocabSize() > vocabSize) {
      throw new IllegalArgumentException(file + " has " + t.vocabSize() + " tokens but the model's token embedding has "
          + vocabSize + " rows: not this model's vocabulary");
    }
    return new ClipVocabulary(t, file, description);
  }

  private static List<Path> gzipFiles(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".txt.gz") && Files.isRegularFile(p)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("listing " + dir, e);
    }
  }
}
