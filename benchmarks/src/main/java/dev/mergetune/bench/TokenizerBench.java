package dev.mergetune.bench;

import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * CLIP tokenizer throughput on one thread, in prompts per second: {@code tokenize} of a batch of
 * {@value #PROMPTS} zero-shot prompts "a photo of a {class}." (the shape merge and evaluation code feeds it) into
 * [n][77] rows.
 *
 * <ul>
 *   <li>{@code warmCache}: the piece cache already holds every piece (the steady state of repeated evaluation);
 *   <li>{@code coldCache}: the cache is emptied before each batch, so every distinct piece of the batch goes through
 *       BPE once (the first evaluation over a class list);
 *   <li>{@code noCache}: a tokenizer without a cache: BPE on every piece, the floor.
 * </ul>
 *
 * Class names are 1–3 words drawn (fixed seed) from the vocabulary's own word tokens, a fifth of them glued into
 * one longer word ("snowleopard") so that BPE has several merges to do; 1000 distinct class names, so one batch
 * uses every prompt once. Needs the real merges file: {@code MERGETUNE_CLIP_VOCAB} or
 * {@code ../shared/data/clip/bpe_simple_vocab_16e6.txt.gz} from the repository root.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class TokenizerBench {
  static final int PROMPTS = 1000;

  private ClipTokenizer warm;
  private ClipTokenizer cold;
  private ClipTokenizer uncached;
  private List<String> prompts;

  static Path vocabulary() {
    String env = System.getenv("MERGETUNE_CLIP_VOCAB");
    Path p = env != null ? Path.of(env) : Path.of("..", "shared", "data", "clip", "bpe_simple_vocab_16e6.txt.gz");
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("TokenizerBench needs CLIP's merges file: set MERGETUNE_CLIP_VOCAB (not found: "
          + p.toAbsolutePath() + ")");
    }
    return p;
  }

  /** {@value #PROMPTS} zero-shot prompts with class names made of the vocabulary's word tokens. */
  static List<String> prompts(ClipTokenizer tok, int count, long seed) {
    List<String> words = new ArrayList<>();
    for (int id = 512; id < tok.vocabSize() - 2; id++) {
      String t = tok.token(id);
      if (t.endsWith("</w>") && t.length() >= 7 && t.substring(0, t.length() - 4).chars().allMatch(c -> c >= 'a' && c <= 'z')) {
        words.add(t.substring(0, t.length() - 4));
      }
    }
    SplittableRandom r = new SplittableRandom(seed);
    java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
    while (names.size() < count) {
      int n = 1 + r.nextInt(3);
      StringBuilder name = new StringBuilder();
      boolean glue = r.nextInt(5) == 0;
      for (int i = 0; i < n; i++) {
        if (i > 0 && !glue) name.append(' ');
        name.append(words.get(r.nextInt(words.size())));
      }
      names.add(name.toString());
    }
    List<String> out = new ArrayList<>();
    for (String name : names) out.add("a photo of a " + name + ".");
    return out;
  }

  @Setup(Level.Trial)
  public void setUp() {
    ClipTokenizer tok = ClipTokenizer.load(vocabulary());
    prompts = prompts(tok, PROMPTS, 42);
    warm = tok;
    warm.tokenize(prompts, Truncation.TRUNCATE);
    cold = tok.withCacheCapacity(ClipTokenizer.DEFAULT_CACHE_CAPACITY);
    uncached = tok.withCacheCapacity(0);
  }

  @Benchmark
  @OperationsPerInvocation(PROMPTS)
  public int[][] warmCache() {
    return warm.tokenize(prompts, Truncation.TRUNCATE);
  }

  @Benchmark
  @OperationsPerInvocation(PROMPTS)
  public int[][] coldCache() {
    cold.clearCache();
    return cold.tokenize(prompts, Truncation.TRUNCATE);
  }

  @Benchmark
  @OperationsPerInvocation(PROMPTS)
  public int[][] noCache() {
    return uncached.tokenize(prompts, Truncation.TRUNCATE);
  }
}
