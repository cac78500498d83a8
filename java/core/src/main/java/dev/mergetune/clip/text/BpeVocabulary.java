package dev.mergetune.clip.text;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * CLIP's byte-level BPE vocabulary built from a gzipped merges file as {@code SimpleTokenizer.__init__} builds it:
 * the 256 {@code bytes_to_unicode} characters, the same with {@code </w>} appended, each merge joined, then
 * {@code <|startoftext|>} and {@code <|endoftext|>}; ids are positions in that list (the last one wins for a
 * repeated string, as {@code dict(zip(vocab, range))} does) and merge ranks are merge-line positions. Immutable and
 * thread-safe.
 */
final class BpeVocabulary {
  static final String START_OF_TEXT = "<|startoftext|>";
  static final String END_OF_TEXT = "<|endoftext|>";

  /** bytes_to_unicode(): byte value to its printable character. */
  static final char[] BYTE_ENCODER = new char[256];
  /** The id of each byte's single-character token (its position in bytes_to_unicode's order). */
  static final int[] BYTE_ID = new int[256];

  static {
    int[] bs = new int[256];
    int[] cs = new int[256];
    int k = 0;
    for (int b = '!'; b <= '~'; b++) bs[k++] = b;
    for (int b = 0xA1; b <= 0xAC; b++) bs[k++] = b;
    for (int b = 0xAE; b <= 0xFF; b++) bs[k++] = b;
    int printable = k;
    for (int i = 0; i < printable; i++) cs[i] = bs[i];
    boolean[] seen = new boolean[256];
    for (int i = 0; i < printable; i++) seen[bs[i]] = true;
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (!seen[b]) {
        bs[k] = b;
        cs[k] = 256 + n++;
        k++;
      }
    }
    for (int i = 0; i < 256; i++) {
      BYTE_ENCODER[bs[i]] = (char) cs[i];
      BYTE_ID[bs[i]] = i;
    }
  }

  private final Path source;
  private final String[] vocab;
  private final Map<String, Integer> encoder;
  private final int startOfText;
  private final int endOfText;
  /** (first id, second id) → rank. */
  private final LongIntMap ranks;
  /** rank → id of the joined symbol. */
  private final int[] merged;
  /** Decoding: character → byte, -1 for characters that are no byte's. */
  private static final int[] BYTE_DECODER = new int[512];

  static {
    Arrays.fill(BYTE_DECODER, -1);
    for (int b = 0; b < 256; b++) BYTE_DECODER[BYTE_ENCODER[b]] = b;
  }

  private BpeVocabulary(Path source, String[] vocab, Map<String, Integer> encoder, String[][] merges) {
    this.source = source;
    this.vocab = vocab;
    this.encoder = encoder;
    this.startOfText = encoder.get(START_OF_TEXT);
    this.endOfText = encoder.get(END_OF_TEXT);
    this.ranks = new LongIntMap(merges.length * 2);
    this.merged = new int[merges.length];
    for (int r = 0; r < merges.length; r++) {
      Integer first = encoder.get(merges[r][0]);
      Integer second = encoder.get(merges[r][1]);
      merged[r] = encoder.get(merges[r][0] + merges[r][1]);
      // a merge of symbols that are not in the vocabulary can never apply (every symbol of a word is one)
      if (first != null && second != null) ranks.put(pairKey(first, second), r);  // last rank wins, as dict(zip)
    }
  }

  /** Reads lines {@code 1 .. mergeCount} (after the header line) of the gzipped merges file. */
  static BpeVocabulary load(Path file, int mergeCount) {
    return parse(file, readGzipUtf8(file), mergeCount);
  }

  /** The same from a plain-text merges file (Hugging Face's {@code merges.txt}, header line {@code #version}). */
  static BpeVocabulary loadText(Path file, int mergeCount) {
    return parse(file, readUtf8(file, readBytes(file)), mergeCount);
  }

  /** The same from gzipped bytes (the bundled vocabulary); {@code source} names them in errors. */
  static BpeVocabulary loadGzip(Path source, byte[] gzipped, int mergeCount) {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gzipped), 1 << 16)) {
      return parse(source, readUtf8(source, in.readAllBytes(), "not UTF-8 text after gunzip"), mergeCount);
    } catch (IOException e) {
      throw new ClipVocabularyException(source, "cannot read: " + e, e);
    }
  }

  private static BpeVocabulary parse(Path file, String text, int mergeCount) {
    if (mergeCount < 0) throw new IllegalArgumentException("merge count must be >= 0, got " + mergeCount);
    String[][] merges = new String[mergeCount][];
    int pos = text.indexOf('\n');  // line 0 is the "#version" header
    int line = 1;
    for (int r = 0; r < mergeCount; r++, line++) {
      int start = pos + 1;
      int end = pos < 0 ? -1 : text.indexOf('\n', start);
      if (pos < 0 || (end < 0 && start == text.length())) {  // no more lines (or only the last line's newline)
        throw new ClipVocabularyException(file, String.format("has %d merges, expected at least %d (the CLIP BPE "
            + "merges file bpe_simple_vocab_16e6.txt.gz has 262144)", r, mergeCount));
      }
      String l = end < 0 ? text.substring(start) : text.substring(start, end);
      pos = end;
      String[] parts = splitWhitespace(l);
      if (parts.length != 2) {
        throw new ClipVocabularyException(file, String.format("line %d is not a merge of two symbols: \"%s\"",
            line + 1, l.length() > 60 ? l.substring(0, 57) + "..." : l));
      }
      merges[r] = parts;
    }
    String[] vocab = new String[512 + mergeCount + 2];
    for (int b = 0; b < 256; b++) {
      int id = BYTE_ID[b];
      vocab[id] = String.valueOf(BYTE_ENCODER[b]);
      vocab[256 + id] = BYTE_ENCODER[b] + "</w>";
    }
    for (int r = 0; r < mergeCount; r++) vocab[512 + r] = merges[r][0] + merges[r][1];
    vocab[512 + mergeCount] = START_OF_TEXT;
    vocab[513 + mergeCount] = END_OF_TEXT;
    Map<String, Integer> encoder = new HashMap<>(vocab.length * 2);
    for (int i = 0; i < vocab.length; i++) encoder.put(vocab[i], i);
    return new BpeVocabulary(file, vocab, encoder, merges);
  }

  /** The number of merge lines after the header (non-blank lines 1 …) of a gzipped merges file. */
  static int countMerges(Path file) {
    return countMergeLines(readGzipUtf8(file));
  }

  /** The same for a plain-text merges file. */
  static int countMergesText(Path file) {
    return countMergeLines(readUtf8(file, readBytes(file)));
  }

  private static int countMergeLines(String text) {
    int n = 0;
    boolean header = true;
    for (String line : text.split("\n", -1)) {
      if (header) {
        header = false;
      } else if (!line.isBlank()) {
        n++;
      }
    }
    return n;
  }

  private static String readGzipUtf8(Path file) {
    if (Files.isDirectory(file)) throw new ClipVocabularyException(file, "is a directory, not the BPE merges file");
    byte[] bytes;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
      bytes = in.readAllBytes();
    } catch (NoSuchFileException e) {
      throw new ClipVocabularyException(file, "no such file (the CLIP BPE merges, bpe_simple_vocab_16e6.txt.gz)");
    } catch (ZipException e) {
      throw new ClipVocabularyException(file, "not a gzip file (" + e.getMessage() + "); expected the gzipped CLIP "
          + "BPE merges, bpe_simple_vocab_16e6.txt.gz", e);
    } catch (EOFException e) {
      throw new ClipVocabularyException(file, "truncated gzip data", e);
    } catch (IOException e) {
      throw new ClipVocabularyException(file, "cannot read: " + e, e);
    }
    return readUtf8(file, bytes, "not UTF-8 text after gunzip");
  }

  private static byte[] readBytes(Path file) {
    if (Files.isDirectory(file)) throw new ClipVocabularyException(file, "is a directory, not a merges file");
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ClipVocabularyException(file, "no such file");
    } catch (IOException e) {
      throw new ClipVocabularyException(file, "cannot read: " + e, e);
    }
  }

  private static String readUtf8(Path file, byte[] bytes) {
    return readUtf8(file, bytes, "not UTF-8 text");
  }

  private static String readUtf8(Path file, byte[] bytes, String error) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new ClipVocabularyException(file, error, e);
    }
  }

  /** Python's {@code str.split()}: runs of whitespace ({@code str.isspace}) separate, none kept. */
  private static String[] splitWhitespace(String s) {
    java.util.List<String> parts = new java.util.ArrayList<>(2);
    int n = s.length();
    int i = 0;
    while (i < n) {
      while (i < n && isPySpace(s.charAt(i))) i++;
      if (i == n) break;
      int start = i;
      while (i < n && !isPySpace(s.charAt(i))) i++;
      parts.add(s.substring(start, i));
    }
    return parts.toArray(new String[0]);
  }

  private static boolean isPySpace(char c) {
    return CharClasses.isPythonSpace(c);
  }

  static long pairKey(int first, int second) {
    return ((long) first << 32) | (second & 0xFFFFFFFFL);
  }

  Path source() {
    return source;
  }

  int size() {
    return vocab.length;
  }

  int startOfText() {
    return startOfText;
  }

  int endOfText() {
    return endOfText;
  }

  String token(int id) {
    return vocab[id];
  }

  int mergeCount() {
    return merged.length;
  }

  /** The id of {@code token}, or -1 when the vocabulary has no such token. */
  int id(String token) {
    Integer id = encoder.get(token);
    return id == null ? -1 : id;
  }

  /**
   * The token ids of one pre-tokenised piece: its UTF-8 bytes as byte symbols, the last one with {@code </w>},
   * merged by lowest rank first, all occurrences of the chosen pair left to right, until no pair has a rank —
   * {@code SimpleTokenizer.bpe}.
   */
  int[] bpe(byte[] utf8, int length) {
    int[] sym = new int[length];
    for (int i = 0; i < length; i++) sym[i] = BYTE_ID[utf8[i] & 0xFF];
    sym[length - 1] += 256;
    int m = length;
    while (m > 1) {
      int best = Integer.MAX_VALUE;
      int at = -1;
      for (int i = 0; i + 1 < m; i++) {
        int r = ranks.get(pairKey(sym[i], sym[i + 1]));
        if (r >= 0 && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      int first = sym[at];
      int second = sym[at + 1];
      int into = merged[best];
      int j = at;  // nothing before the first occurrence changes
      for (int i = at; i < m; ) {
        if (sym[i] == first && i + 1 < m && sym[i + 1] == second) {
          sym[j++] = into;
          i += 2;
        } else {
          sym[j++] = sym[i++];
        }
      }
      m = j;
    }
    return m == sym.length ? sym : Arrays.copyOf(sym, m);
  }

  /**
   * SimpleTokenizer.decode: the tokens' characters back to bytes, decoded as UTF-8 with U+FFFD for invalid
   * sequences, then every {@code </w>} replaced by a space.
   */
  String decode(int[] ids) {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(ids.length * 4);
    for (int id : ids) {
      if (id < 0 || id >= vocab.length) {
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (vocab.length - 1)
            + ")");
      }
      String t = vocab[id];
      for (int i = 0; i < t.length(); i++) {
        char c = t.charAt(i);
        int b = c < BYTE_DECODER.length ? BYTE_DECODER[c] : -1;
        if (b < 0) {
          throw new IllegalArgumentException("token " + id + " (\"" + t + "\") has a character that is no byte's");
        }
        bytes.write(b);
      }
    }
    return decodeUtf8Replacing(bytes.toByteArray()).replace("</w>", " ");
  }

  /**
   * Python's {@code bytes.decode("utf-8", errors="replace")}: one U+FFFD per maximal invalid subpart (an invalid
   * byte, or a valid start and its valid continuations cut short), surrogate encodings (ED A0..BF) invalid. Java's
   * own decoder replaces a 3-byte surrogate encoding by one U+FFFD where Python writes three.
   */
  static String decodeUtf8Replacing(byte[] b) {
    StringBuilder out = new StringBuilder(b.length);
    int n = b.length;
    int i = 0;
    while (i < n) {
      int c = b[i] & 0xFF;
      if (c < 0x80) {
        out.append((char) c);
        i++;
        continue;
      }
      int need;
      int lo = 0x80;
      int hi = 0xBF;
      int cp;
      if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
      } else {
        out.append('\uFFFD');
        i++;
        continue;
      }
      int j = i + 1;
      int got = 0;
      while (got < need && j < n) {
        int d = b[j] & 0xFF;
        if (d < (got == 0 ? lo : 0x80) || d > (got == 0 ? hi : 0xBF)) break;
        cp = (cp << 6) | (d & 0x3F);
        j++;
        got++;
      }
      if (got == need) out.appendCodePoint(cp); else out.append('\uFFFD');
      i = j;
    }
    return out.toString();
  }
}
