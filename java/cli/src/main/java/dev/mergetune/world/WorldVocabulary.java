package dev.mergetune.world;

import dev.mergetune.clip.text.ClipTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * The world's own byte-level BPE vocabulary, learnt from its caption words (not CLIP's): BPE training over the word
 * list (each distinct word counted once; the most frequent adjacent pair is merged first, ties to the
 * lexicographically smallest pair) until every word is a single symbol. Written in CLIP's gzipped merges format
 * ({@code #version: 0.2} header, one "first second" merge a line, {@code </w>} ending a word), so that
 * {@link ClipTokenizer#load(java.nio.file.Path, int)} reads it with vocabulary size 512 + merges + 2: every world word is then one
 * token, the start and end tokens are 512 + merges and 513 + merges.
 *
 * <p>The words are ASCII lower-case letters, whose byte-level symbols are the letters themselves.
 */
public final class WorldVocabulary {
  private WorldVocabulary() {}

  /** The merges, in rank order, that spell each of {@code words} as one token. */
  public static List<String> learn(List<String> words) {
    List<List<String>> symbols = new ArrayList<>();
    for (String w : new java.util.TreeSet<>(words)) {
      if (w.isEmpty() || !w.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
        throw new IllegalArgumentException("vocabulary words must be lower-case ASCII letters, got '" + w + "'");
      }
      List<String> s = new ArrayList<>();
      for (int i = 0; i < w.length(); i++) s.add(w.charAt(i) + (i == w.length() - 1 ? "</w>" : ""));
      symbols.add(s);
    }
    List<String> merges = new ArrayList<>();
    while (true) {
      Map<String, Integer> counts = new TreeMap<>();
      for (List<String> s : symbols) {
        for (int i = 0; i + 1 < s.size(); i++) counts.merge(s.get(i) + " " + s.get(i + 1), 1, Integer::sum);
      }
      if (counts.isEmpty()) return merges;
      String best = null;
      int bestCount = 0;
      for (Map.Entry<String, Integer> e : counts.entrySet()) {
        if (e.getValue() > bestCount) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      merges.add(best);
      String first = best.substring(0, best.indexOf(' '));
      String second = best.substring(best.indexOf(' ') + 1);
      for (List<String> s : symbols) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(first) && s.get(i + 1).equals(second)) {
            s.set(i, first + second);
            s.remove(i + 1);
          }
        }
      }
    }
  }

  /** The gzipped merges file's bytes (fixed gzip header: no name, time 0). */
  public static byte[] encode(List<String> merges) {
    StringBuilder sb = new StringBuilder("#version: 0.2\n");
    for (String m : merges) sb.append(m).append('\n');
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The vocabulary size of a tokenizer with {@code merges} merges: 256 bytes, 256 word-final bytes, merges, 2 specials. */
  public static int vocabSize(int merges) {
    return 512 + merges + 2;
  }
}
