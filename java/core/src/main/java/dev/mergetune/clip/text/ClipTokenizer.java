package dev.mergetune.clip.text;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * OpenAI CLIP's byte-level BPE tokenizer ({@code clip/simple_tokenizer.py} and {@code clip.tokenize}), in Java,
 * with the same token ids.
 *
 * <pre>{@code
 * ClipTokenizer tok = ClipTokenizer.load(Path.of("bpe_simple_vocab_16e6.txt.gz"));
 * int[][] ids = tok.tokenize(List.of("a photo of a dog.", "a photo of a cat."));           // [2][77], ERROR policy
 * int[][] cut = tok.tokenize(classPrompts, Truncation.TRUNCATE);                           // clip.tokenize(truncate=True)
 * int[] raw = tok.encode("a photo of a dog.");   // [320, 1125, 539, 320, 1929, 269]: no start/end tokens
 * String back = tok.decode(raw);                 // "a photo of a dog . "
 * }</pre>
 *
 * <h2>What one text goes through</h2>
 *
 * {@code whitespace_clean(basic_clean(text)).lower()}, then the pre-tokenisation pattern, then BPE:
 * <ol>
 *   <li>{@code ftfy.fix_text} (ftfy 6, default settings) — see below for the parts reproduced;
 *   <li>Python's {@code html.unescape} twice: the full HTML5 named-reference table (2231 names, legacy names without
 *       ';', longest-prefix matching as in {@code &notit;} → {@code ¬it;}) and numeric references with the HTML5
 *       replacements ({@code &#0;} → U+FFFD, {@code &#x80;}–{@code &#x9F;} as Windows-1252, surrogates and values
 *       past U+10FFFF → U+FFFD, non-characters and most controls dropped);
 *   <li>{@code strip()}; every run of {@code \s} (Unicode whitespace, as listed in {@code CharClasses}) → one
 *       space; {@code strip()}; {@code str.lower()} as CPython does it (simple lower-case mappings, İ → i̇, and
 *       CPython's final-sigma rule, which differs from Java's {@code toLowerCase}: see {@code PythonLower});
 *   <li>pieces by {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}
 *       (IGNORECASE), matched by a hand-written scanner with {@code regex}'s semantics: leftmost alternative first,
 *       no backtracking needed, whitespace skipped, {@code 'ſ} (long s) matching {@code 's} case-insensitively,
 *       U+0345 matching no alternative and so skipped; a literal {@code <|startoftext|>} or {@code <|endoftext|>}
 *       in the text becomes that special token, as in the original;
 *   <li>each piece's UTF-8 bytes as {@code bytes_to_unicode} symbols, merged by {@code SimpleTokenizer.bpe}
 *       (lowest-ranked pair first, all its occurrences left to right), results cached per piece in a
 *       thread-safe, size-bounded cache ({@link #withCacheCapacity}; the original's dict is unbounded).
 * </ol>
 *
 * <h2>ftfy: reproduced and not</h2>
 *
 * ftfy 6's {@code fix_text} with its defaults runs, per line (segments end after each {@code '\n'}) and until the
 * segment stops changing: {@code unescape_html}, {@code fix_encoding}, {@code fix_c1_controls},
 * {@code fix_latin_ligatures}, {@code fix_character_width}, {@code uncurl_quotes}, {@code fix_line_breaks},
 * {@code fix_surrogates}, {@code remove_terminal_escapes}, {@code remove_control_chars} and NFC. All of these are
 * reproduced exactly <b>except {@code fix_encoding}</b>:
 * <ul>
 *   <li>{@code unescape_html}: ftfy's own pass (only {@code &name;} with the semicolon, upper-cased Latin names such
 *       as {@code &EACUTE;} → É, numeric references), switched off from the first line that contains a literal
 *       {@code <} on ({@code unescape_html="auto"}); with the fixed-point loop this decodes nested escapes such as
 *       {@code &amp;amp;amp;lt;} completely before the two {@code html.unescape} calls;
 *   <li>{@code fix_c1_controls}: U+0080–U+009F read as Windows-1252 (U+0093 → “ → "), U+0085 → …;
 *   <li>{@code fix_latin_ligatures}: ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ Ĳ ĳ ŉ Ǳ ǲ ǳ Ǆ ǅ ǆ Ǉ ǈ ǉ Ǌ ǋ ǌ spelled out;
 *   <li>{@code fix_character_width}: fullwidth ASCII and halfwidth katakana/hangul (U+FF01–U+FFEF) to their NFKC
 *       forms, U+3000 to a space;
 *   <li>{@code uncurl_quotes}: U+2018–U+201B and U+02BC → {@code '}, U+201C–U+201F → {@code "} (so “quoted”
 *       tokenizes as "quoted", as the original does);
 *   <li>{@code fix_line_breaks} (no effect on tokens: every line break is whitespace), {@code fix_surrogates} (a
 *       lone surrogate → U+FFFD), {@code remove_terminal_escapes} ({@code ESC [ digits/; letter}),
 *       {@code remove_control_chars} (U+0000–U+0008, U+000B, U+000E–U+001F, U+007F, U+206A–U+206F, U+FEFF,
 *       U+FFF9–U+FFFC) and NFC (a decomposed é equals a composed é).
 * </ul>
 * Not reproduced: <b>{@code fix_encoding}</b> — ftfy's heuristic mojibake detection and repair (re-decoding text
 * that was UTF-8 read as Windows-1252, Latin-1, MacRoman, cp437 and others, e.g. {@code "cafÃ©"} → {@code "café"},
 * {@code "â€œ"} → {@code "“"}) with its sub-steps {@code restore_byte_a0}, {@code replace_lossy_sequences} and
 * {@code decode_inconsistent_utf8}. It leaves ASCII text alone (unless HTML references in it decode to mojibake:
 * ftfy turns {@code caf&Atilde;&copy;} into "café", this class into "cafã©") and acts only where its "badness"
 * heuristic flags mojibake, so clean prompts and class names (accents, curly quotes, dashes, emoji) tokenize
 * identically; text that really is mojibake keeps its mojibake here. Emoji, accents and curly quotes are covered by the conformance tests
 * against the original tokenizer's ids.
 *
 * <h2>Other known differences</h2>
 * Character classes and case mappings come from the JDK (Unicode 13 in Java 17); code points assigned in later
 * Unicode versions are symbols here where Python's {@code regex} may see letters or numbers. A decimal numeric
 * reference of more than 4300 digits, which Python 3.11+ refuses to convert (ValueError), is replaced by U+FFFD.
 * ftfy also cuts a line longer than 1,000,000 code points into pieces it fixes separately; here a line is fixed
 * whole (this matters only for an HTML reference straddling such a cut).
 *
 * <h2>Truncation</h2>
 * {@link #tokenize(List)} uses {@link Truncation#ERROR}, as {@code clip.tokenize} defaults to truncate=False: a text
 * that does not fit raises a {@link TextTooLongException} naming its index and token count. Merging and evaluation
 * code with long class names passes {@link Truncation#TRUNCATE} ({@code tokenize(texts, Truncation.TRUNCATE)}).
 *
 * <p>Instances are immutable apart from the piece cache and safe to share between threads.
 */
public final class ClipTokenizer {
  /** CLIP's context length. */
  public static final int CONTEXT_LENGTH = 77;
  /** The merges CLIP takes from the file: lines 1 to 49152 − 256 − 2. */
  public static final int CLIP_MERGES = 49152 - 256 - 2;
  /** CLIP's vocabulary size: 256 bytes, 256 bytes with {@code </w>}, the merges, two special tokens. */
  public static final int CLIP_VOCAB_SIZE = 512 + CLIP_MERGES + 2;
  /** Default bound of the piece cache (entries). */
  public static final int DEFAULT_CACHE_CAPACITY = 1 << 16;

  private final BpeVocabulary vocab;
  private final PieceCache cache;
  private final int[] startIds;
  private final int[] endIds;

  private ClipTokenizer(BpeVocabulary vocab, int cacheCapacity) {
    this.vocab = vocab;
    this.cache = new PieceCache(cacheCapacity);
    this.startIds = new int[] {vocab.startOfText()};
    this.endIds = new int[] {vocab.endOfText()};
  }

  /**
   * CLIP's tokenizer from its gzipped merges file ({@code bpe_simple_vocab_16e6.txt.gz}): the first
   * {@link #CLIP_MERGES} merges, a vocabulary of {@link #CLIP_VOCAB_SIZE}.
   *
   * @throws ClipVocabularyException naming the file if it is missing, not gzip, not UTF-8, has a malformed merge
   *     line or fewer than {@link #CLIP_MERGES} merges
   */
  public static ClipTokenizer load(Path mergesFile) {
    return load(mergesFile, CLIP_MERGES);
  }

  /**
   * A tokenizer of the same construction from the first {@code mergeCount} merges of a gzipped merges file (line
   * 0 is a header and is skipped): vocabulary size 512 + mergeCount + 2. For other CLIP-style vocabularies and tests.
   */
  public static ClipTokenizer load(Path mergesFile, int mergeCount) {
    return new ClipTokenizer(BpeVocabulary.load(mergesFile, mergeCount), DEFAULT_CACHE_CAPACITY);
  }

  /**
   * A tokenizer of CLIP's construction for a model whose token embedding has {@code vocabSize} rows but was trained
   * with a vocabulary of its own (such as the shapes world's): the merges file must hold exactly
   * {@code vocabSize − 514} merges, so that the start and end tokens fall on the model's last two rows. For
   * CLIP's own vocabulary use {@link #load(Path)}, which takes the first {@link #CLIP_MERGES} of a longer file.
   *
   * @throws ClipVocabularyException naming the file if its merge count does not give {@code vocabSize}
   */
  public static ClipTokenizer forVocabSize(Path mergesFile, int vocabSize) {
    int merges = vocabSize - 514;
    int have = BpeVocabulary.countMerges(mergesFile);
    if (merges < 0 || have != merges) {
      throw new ClipVocabularyException(mergesFile, "has " + have + " merges (a vocabulary of " + (have + 514)
          + " tokens) but the model's token embedding has " + vocabSize + " rows: not this model's vocabulary");
    }
    return load(mergesFile, merges);
  }

  /** The bundled copy of CLIP's vocabulary (see {@code bpe_simple_vocab_16e6.SOURCE.md} beside it). */
  public static final String STANDARD_RESOURCE = "bpe_simple_vocab_16e6.txt.gz";
  /** How {@link #description()} names the bundled vocabulary. */
  public static final String STANDARD_DESCRIPTION = "bundled bpe_simple_vocab_16e6.txt.gz (openai/CLIP, SHA-256 924691ac…8d6804a)";
  private static volatile BpeVocabulary standard;

  /**
   * CLIP's standard tokenizer from the vocabulary bundled with the library (OpenAI's
   * {@code bpe_simple_vocab_16e6.txt.gz}, MIT), for models with CLIP's {@value #CLIP_VOCAB_SIZE}-token embedding.
   */
  public static ClipTokenizer standard() {
    BpeVocabulary v = standard;
    if (v == null) {
      synchronized (ClipTokenizer.class) {
        if (standard == null) standard = BpeVocabulary.loadGzip(Path.of(STANDARD_RESOURCE), standardBytes(), CLIP_MERGES);
        v = standard;
      }
    }
    return new ClipTokenizer(v, DEFAULT_CACHE_CAPACITY);
  }

  /** The bundled vocabulary file's bytes. */
  public static byte[] standardBytes() {
    try (java.io.InputStream in = ClipTokenizer.class.getResourceAsStream(STANDARD_RESOURCE)) {
      if (in == null) throw new IllegalStateException(STANDARD_RESOURCE + " is missing from the classpath");
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A Hugging Face CLIPTokenizer's files: {@code merges.txt} (header line, then one merge a line; lines 1 to
   * {@link #CLIP_MERGES} are used, as CLIPTokenizer does) builds the vocabulary as CLIP does, and every entry of
   * {@code vocab.json} must have the id that construction gives it — otherwise the files are refused, naming the
   * first token that differs.
   */
  public static ClipTokenizer loadHuggingFace(Path vocabJson, Path mergesTxt) {
    int merges = Math.min(BpeVocabulary.countMergesText(mergesTxt), CLIP_MERGES);
    BpeVocabulary v = BpeVocabulary.loadText(mergesTxt, merges);
    java.util.Map<String, Integer> ids;
    try {
      ids = new com.fasterxml.jackson.databind.ObjectMapper().readValue(vocabJson.toFile(),
          new com.fasterxml.jackson.core.type.TypeReference<java.util.LinkedHashMap<String, Integer>>() {});
    } catch (java.io.IOException e) {
      throw new ClipVocabularyException(vocabJson, "not a JSON map of token to id (" + e.getMessage().lines()
          .findFirst().orElse("") + ")", e);
    }
    if (ids.size() != v.size()) {
      throw new ClipVocabularyException(vocabJson, "has " + ids.size() + " tokens but " + mergesTxt.getFileName()
          + " (" + merges + " merges) makes " + v.size() + ": not a pair of CLIP tokenizer files");
    }
    for (java.util.Map.Entry<String, Integer> e : ids.entrySet()) {
      int id = v.id(e.getKey());
      if (e.getValue() == null || id != e.getValue()) {
        throw new ClipVocabularyException(vocabJson, "token \"" + e.getKey() + "\" has id " + e.getValue() + " but "
            + mergesTxt.getFileName() + " gives it " + (id < 0 ? "none" : id) + ": not CLIP's vocabulary construction");
      }
    }
    return new ClipTokenizer(v, DEFAULT_CACHE_CAPACITY);
  }

  /** Where the vocabulary came from: its file, or {@link #STANDARD_DESCRIPTION}. */
  public String description() {
    return vocab.source().toString().equals(STANDARD_RESOURCE) && vocab == standard ? STANDARD_DESCRIPTION
        : vocab.source().toString();
  }

  /** The merge lines (after the header) of a gzipped merges file. */
  public static int mergeCount(Path mergesFile) {
    return BpeVocabulary.countMerges(mergesFile);
  }

  /** The same vocabulary with its own piece cache of at most about {@code entries} entries (0: no cache). */
  public ClipTokenizer withCacheCapacity(int entries) {
    return new ClipTokenizer(vocab, entries);
  }

  /** Empties the piece cache (for measurements). */
  public void clearCache() {
    cache.clear();
  }

  /** Entries now in the piece cache. */
  public int cacheSize() {
    return cache.size();
  }

  /** The merges file the vocabulary was read from, or null for the bundled one ({@link #standard()}). */
  public Path mergesFile() {
    return vocab == standard ? null : vocab.source();
  }

  public int vocabSize() {
    return vocab.size();
  }

  /** The id of {@code <|startoftext|>} (49406 for CLIP). */
  public int startOfText() {
    return vocab.startOfText();
  }

  /** The id of {@code <|endoftext|>} (49407 for CLIP). */
  public int endOfText() {
    return vocab.endOfText();
  }

  /** The vocabulary string of a token id (byte-level characters, {@code </w>} ending a word). */
  public String token(int id) {
    if (id < 0 || id >= vocab.size()) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (vocab.size() - 1) + ")");
    }
    return vocab.token(id);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // cleaning

  /**
   * {@code whitespace_clean(basic_clean(text)).lower()}: ftfy (without {@code fix_encoding}), HTML unescaping
   * twice, whitespace collapsed and stripped, lower-cased.
   */
  public static String clean(String text) {
    String simple = cleanSimpleAscii(text);
    if (simple != null) return simple;
    String t = Ftfy.fixText(text);
    t = HtmlEntities.unescape(HtmlEntities.unescape(t));
    return PythonLower.lower(collapseWhitespace(t));
  }

  /**
   * The common case done in one pass: printable ASCII with tab/newline/form feed/CR as the only controls and no
   * '&', which ftfy and html.unescape leave as is. Null for any other text.
   */
  private static String cleanSimpleAscii(String text) {
    int n = text.length();
    char[] out = null;
    int j = 0;
    boolean pendingSpace = false;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (c >= 0x7F || c == '&') return null;
      if (c < 0x20) {
        if (c != '\t' && c != '\n' && c != '\f' && c != '\r') return null;
        c = ' ';
      }
      if (c == ' ') {
        pendingSpace = j > 0;
        continue;
      }
      if (out == null) out = new char[n];
      if (pendingSpace) {
        out[j++] = ' ';
        pendingSpace = false;
      }
      out[j++] = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }
    return out == null ? "" : new String(out, 0, j);
  }

  /** strip(), re.sub(r'\s+', ' '), strip() with Python's whitespace sets. */
  static String collapseWhitespace(String s) {
    int n = s.length();
    int start = 0;
    int end = n;
    while (start < end) {
      int cp = s.codePointAt(start);
      if (!CharClasses.isPythonSpace(cp)) break;
      start += Character.charCount(cp);
    }
    while (end > start) {
      int cp = s.codePointBefore(end);
      if (!CharClasses.isPythonSpace(cp)) break;
      end -= Character.charCount(cp);
    }
    StringBuilder out = new StringBuilder(end - start);
    boolean inSpace = false;
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (CharClasses.isRegexSpace(c)) {
        if (!inSpace) out.append(' ');
        inSpace = true;
      } else {
        out.append(c);
        inSpace = false;
      }
    }
    // the second strip(): a collapsed run can only be inside, but U+001C–U+001F (isspace, not \s) may now border it
    int a = 0;
    int b = out.length();
    while (a < b && CharClasses.isPythonSpace(out.charAt(a))) a++;
    while (b > a && CharClasses.isPythonSpace(out.charAt(b - 1))) b--;
    return out.substring(a, b);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // encoding

  /** {@code SimpleTokenizer.encode}: the token ids of one text, without start and end tokens. */
  public int[] encode(String text) {
    if (text == null) throw new IllegalArgumentException("text is null");
    IntBuffer out = new IntBuffer(16);
    encodeInto(clean(text), out);
    return out.toArray();
  }

  /** The pre-tokenised pieces of an already cleaned text (for tests and debugging). */
  public static List<String> pieces(String cleaned) {
    List<String> pieces = new java.util.ArrayList<>();
    PreTokenizer.split(cleaned, (s, from, to) -> pieces.add(s.substring(from, to)));
    return pieces;
  }

  private void encodeInto(String cleaned, IntBuffer out) {
    PreTokenizer.split(cleaned, (s, from, to) -> out.addAll(piece(s.substring(from, to))));
  }

  private final ThreadLocal<byte[]> utf8Scratch = ThreadLocal.withInitial(() -> new byte[256]);

  private int[] piece(String piece) {
    int[] ids = cache.get(piece);
    if (ids != null) return ids;
    if (piece.equals(BpeVocabulary.START_OF_TEXT)) return startIds;  // in the original's cache from the start
    if (piece.equals(BpeVocabulary.END_OF_TEXT)) return endIds;
    ids = bpe(piece);
    cache.put(piece, ids);
    return ids;
  }

  private int[] bpe(String piece) {
    int n = piece.length();
    boolean ascii = true;
    for (int i = 0; i < n && ascii; i++) ascii = piece.charAt(i) < 0x80;
    byte[] utf8;
    int length;
    if (ascii) {
      utf8 = utf8Scratch.get();
      if (utf8.length < n) utf8Scratch.set(utf8 = new byte[Math.max(n, utf8.length * 2)]);
      for (int i = 0; i < n; i++) utf8[i] = (byte) piece.charAt(i);
      length = n;
    } else {
      utf8 = piece.getBytes(StandardCharsets.UTF_8);
      length = utf8.length;
    }
    return vocab.bpe(utf8, length);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // tokenize

  /** {@code clip.tokenize(texts)}: [n][77], start + ids + end, zero-padded; a text that does not fit is an error. */
  public int[][] tokenize(List<String> texts) {
    return tokenize(texts, CONTEXT_LENGTH, Truncation.ERROR);
  }

  /** {@code clip.tokenize(texts, truncate=policy == TRUNCATE)} at context length 77. */
  public int[][] tokenize(List<String> texts, Truncation truncation) {
    return tokenize(texts, CONTEXT_LENGTH, truncation);
  }

  /**
   * {@code clip.tokenize(texts, context_length, truncate)}: one row per text, {@code <|startoftext|>}, its ids,
   * {@code <|endoftext|>}, zeros after. A row longer than {@code contextLength}: {@link Truncation#ERROR} throws
   * {@link TextTooLongException} naming the text's index; {@link Truncation#TRUNCATE} keeps the first
   * {@code contextLength} tokens and sets the last to {@code <|endoftext|>}.
   */
  public int[][] tokenize(List<String> texts, int contextLength, Truncation truncation) {
    if (contextLength < 2) {
      throw new IllegalArgumentException("context length must be at least 2 (start and end tokens), got "
          + contextLength);
    }
    if (truncation == null) throw new IllegalArgumentException("truncation policy is null");
    int[][] result = new int[texts.size()][];
    IntBuffer ids = new IntBuffer(contextLength + 8);
    for (int t = 0; t < result.length; t++) {
      String text = texts.get(t);
      if (text == null) throw new IllegalArgumentException("text " + t + " is null");
      ids.clear();
      ids.add(vocab.startOfText());
      encodeInto(clean(text), ids);
      ids.add(vocab.endOfText());
      int[] row = new int[contextLength];
      if (ids.size() > contextLength) {
        if (truncation == Truncation.ERROR) throw new TextTooLongException(t, text, ids.size(), contextLength);
        ids.copyTo(row, contextLength);
        row[contextLength - 1] = vocab.endOfText();
      } else {
        ids.copyTo(row, ids.size());
      }
      result[t] = row;
    }
    return result;
  }

  /** {@link #tokenize(List, int, Truncation)} as int64 values, row-major [n × contextLength] (for tensors). */
  public long[] tokenizeFlat(List<String> texts, int contextLength, Truncation truncation) {
    int[][] rows = tokenize(texts, contextLength, truncation);
    long[] flat = new long[rows.length * contextLength];
    for (int r = 0; r < rows.length; r++) {
      for (int c = 0; c < contextLength; c++) flat[r * contextLength + c] = rows[r][c];
    }
    return flat;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // decode

  /**
   * {@code SimpleTokenizer.decode}: the tokens' bytes as UTF-8 (U+FFFD for invalid sequences), each {@code </w>}
   * as a space. Special tokens come out as their text; padding zeros as {@code "!"}: strip them first.
   */
  public String decode(int[] ids) {
    return vocab.decode(ids);
  }

  /** A growable int array. */
  static final class IntBuffer {
    private int[] a;
    private int n;

    IntBuffer(int capacity) {
      a = new int[capacity];
    }

    void add(int v) {
      if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
      a[n++] = v;
    }

    void addAll(int[] v) {
      if (n + v.length > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
      System.arraycopy(v, 0, a, n, v.length);
      n += v.length;
    }

    int size() {
      return n;
    }

    void clear() {
      n = 0;
    }

    void copyTo(int[] dst, int count) {
      System.arraycopy(a, 0, dst, 0, count);
    }

    int[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
