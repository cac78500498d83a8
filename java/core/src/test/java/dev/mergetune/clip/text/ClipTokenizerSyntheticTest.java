package dev.mergetune.clip.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenizer on a tiny synthetic merges file (no shared fixtures needed): vocabulary layout, BPE merge order,
 * special tokens, padding and truncation, text cleaning, decoding and the errors for bad merges files.
 */
class ClipTokenizerSyntheticTest {
  // byte-level ids: printable ASCII c is c - 33; with </w> add 256; merges are 512 + rank
  static final int H = 'h' - 33;
  static final int E = 'e' - 33;
  static final int L = 'l' - 33;
  static final int A = 'a' - 33;
  static final int L_END = 256 + L;
  static final int O_END = 256 + 'o' - 33;
  static final int A_END = 256 + A;
  static final int LL = 512;
  static final int HE = 513;
  static final int HELLO = 515;
  static final int AA = 517;
  static final int AAA = 518;
  static final int SOT = 519;
  static final int EOT = 520;

  @TempDir static Path dir;
  static ClipTokenizer tok;

  @BeforeAll
  static void load() throws IOException {
    tok = ClipTokenizer.load(SyntheticMerges.write(dir), SyntheticMerges.MERGES.length);
  }

  @Test
  void vocabularyIsLaidOutAsTheOriginal() {
    assertEquals(512 + 7 + 2, tok.vocabSize());
    assertEquals(SOT, tok.startOfText());
    assertEquals(EOT, tok.endOfText());
    assertEquals("!", tok.token(0));
    assertEquals("h", tok.token(H));
    assertEquals("h</w>", tok.token(256 + H));
    assertEquals("\u0100", tok.token(188));  // byte 0 is the first of the non-printable bytes, shifted to U+0100
    assertEquals("\u0120", tok.token(188 + 32));  // the space byte: 'Ġ'
    assertEquals("ll", tok.token(LL));
    assertEquals("hello</w>", tok.token(HELLO));
    assertEquals("<|startoftext|>", tok.token(SOT));
    assertEquals("<|endoftext|>", tok.token(EOT));
    assertEquals(ClipTokenizer.CLIP_VOCAB_SIZE, 49408);
  }

  @Test
  void bpeMergesLowestRankFirst() {
    assertArrayEquals(new int[] {HELLO}, tok.encode("hello"));
    // "l l" (rank 0) beats "e l" (rank 4) although "e l" comes first in the word
    assertArrayEquals(new int[] {E, LL, O_END}, tok.encode("ello"));
    assertArrayEquals(new int[] {HE, L, L_END}, tok.encode("hell"));
    assertArrayEquals(new int[] {A_END}, tok.encode("a"));
  }

  @Test
  void bpeMergesEveryOccurrenceLeftToRight() {
    assertArrayEquals(new int[] {AAA}, tok.encode("aaa"));
    assertArrayEquals(new int[] {AA, A, A_END}, tok.encode("aaaa"));
    assertArrayEquals(new int[] {AA, AAA}, tok.encode("aaaaa"));  // aa aa a</w>, then "aa a</w>" on the right
  }

  @Test
  void wordsPunctuationAndDigitsArePiecesOfTheirOwn() {
    assertEquals(List.of("hello", ",", "it", "'s", "1", "2", "!?", "a"), pieces("hello, it's 12!? a"));
    assertEquals(List.of("1", "2"), ClipTokenizer.pieces("12"));
    assertEquals(List.of("we", "'re", "they", "'ll", "x", "'d", "''", "s"), ClipTokenizer.pieces("we're they'll x'd ''s"));
    assertEquals(List.of("café", "naïve", "中文", "\uD83D\uDE42", "ℌ", "½"), ClipTokenizer.pieces("café naïve 中文 \uD83D\uDE42 ℌ ½"));
    assertArrayEquals(new int[] {HELLO, 'x' - 33 + 256}, tok.encode("hello x"));
  }

  private static List<String> pieces(String text) {
    return ClipTokenizer.pieces(ClipTokenizer.clean(text));
  }

  @Test
  void specialTokensInTextAreSpecialTokens() {
    assertArrayEquals(new int[] {SOT}, tok.encode("<|startoftext|>"));
    assertArrayEquals(new int[] {256 + 'x' - 33, EOT, 256 + 'y' - 33}, tok.encode("x<|endoftext|>y"));
    assertArrayEquals(new int[] {EOT}, tok.encode("<|ENDOFTEXT|>"));  // lower-cased first
  }

  @Test
  void tokenizeAddsStartAndEndAndPadsWithZeros() {
    int[][] rows = tok.tokenize(List.of("hello", "", "a a"));
    assertEquals(3, rows.length);
    int[] want = new int[77];
    want[0] = SOT;
    want[1] = HELLO;
    want[2] = EOT;
    assertArrayEquals(want, rows[0]);
    int[] empty = new int[77];
    empty[0] = SOT;
    empty[1] = EOT;
    assertArrayEquals(empty, rows[1], "empty text = [sot, eot, 0...]");
    assertArrayEquals(new int[] {SOT, A_END, A_END, EOT, 0}, Arrays.copyOf(rows[2], 5));
    assertEquals(0, tok.tokenize(List.of()).length);
  }

  @Test
  void tooLongTextIsAnErrorNamingItByDefault() {
    String fits = String.join(" ", Collections.nCopies(75, "a"));  // 75 + 2 = 77 tokens: fits exactly
    String tooLong = String.join(" ", Collections.nCopies(80, "a"));
    assertEquals(EOT, tok.tokenize(List.of(fits))[0][76]);
    TextTooLongException e = assertThrows(TextTooLongException.class, () -> tok.tokenize(List.of("hello", tooLong)));
    assertEquals(1, e.index());
    assertEquals(82, e.tokenCount());
    assertEquals(77, e.contextLength());
    assertTrue(e.getMessage().startsWith("text 1 has 82 tokens with its start and end tokens, more than the context "
        + "length 77: \"a a a"), e.getMessage());
    assertTrue(e.getMessage().contains("...\"") && e.getMessage().contains("TRUNCATE"), e.getMessage());
    assertThrows(TextTooLongException.class, () -> tok.tokenize(List.of(tooLong), 77, Truncation.ERROR));
  }

  @Test
  void truncateKeepsTheFirstTokensAndEndsWithTheEndToken() {
    String tooLong = String.join(" ", Collections.nCopies(80, "a"));
    int[] row = tok.tokenize(List.of(tooLong), Truncation.TRUNCATE)[0];
    assertEquals(77, row.length);
    assertEquals(SOT, row[0]);
    for (int i = 1; i < 76; i++) assertEquals(A_END, row[i], "position " + i);
    assertEquals(EOT, row[76]);
    int[] short10 = tok.tokenize(List.of(tooLong), 10, Truncation.TRUNCATE)[0];
    assertArrayEquals(new int[] {SOT, A_END, A_END, A_END, A_END, A_END, A_END, A_END, A_END, EOT}, short10);
    assertThrows(IllegalArgumentException.class, () -> tok.tokenize(List.of("a"), 1, Truncation.TRUNCATE));
  }

  @Test
  void flatInt64RowsMatchTheRows() {
    long[] flat = tok.tokenizeFlat(List.of("hello", "a"), 4, Truncation.ERROR);
    assertArrayEquals(new long[] {SOT, HELLO, EOT, 0, SOT, A_END, EOT, 0}, flat);
  }

  @Test
  void whitespaceRunsCollapseAndEndsAreStripped() {
    assertEquals("a b c", ClipTokenizer.clean("  a \t\n b\u00a0\u2009\u3000c \r\n"));
    assertEquals("it's a test with spaces", ClipTokenizer.clean("it's   a   test\n with  spaces"));
    assertArrayEquals(tok.encode("hello a"), tok.encode(" \thello \n\n  a  "));
    assertEquals("", ClipTokenizer.clean(" \n\t "));
    assertEquals("ab", ClipTokenizer.clean("a\u000bb"), "ftfy removes U+000B (a control character) before \\s sees it");
    assertEquals("a\u200bb", ClipTokenizer.clean("a\u200bb"), "zero-width space is no whitespace");
  }

  @Test
  void htmlEntitiesAreUnescapedAsPythonDoes() {
    assertEquals("& < > ' ' \"", ClipTokenizer.clean("&amp; &lt; &gt; &nbsp; &#39; &#x27; &quot;"));
    assertEquals("a b", ClipTokenizer.clean("a&nbsp;b"), "U+00A0 is whitespace");
    // HTML5-only names (not in HTML 4): two code points, and a Unicode-4-era star
    assertEquals("\u2242\u0338 \u2605 fj", ClipTokenizer.clean("&NotEqualTilde; &bigstar; &fjlig;"));
    // legacy names without ';' and the longest-prefix rule of html.unescape
    assertEquals("é éx ¬it; ∉", ClipTokenizer.clean("&eacute &eacutex &notit; &notin;"));
    // numeric references, HTML5's replacements for invalid ones
    assertEquals("ab € \ufffd \ufffd \ufffd \ud83d\ude42", ClipTokenizer.clean("&#65;&#x42; &#128; &#0; &#xD800; &#1114112; &#x1F642;"));
    // ftfy unescapes until nothing changes (3 levels here) unless the line has a literal '<'
    assertEquals("x &", ClipTokenizer.clean("x &amp;amp;amp;"));
    assertEquals("<x> &amp;", ClipTokenizer.clean("<x> &amp;amp;amp;"));
    assertEquals("é", ClipTokenizer.clean("&EACUTE;"), "ftfy's upper-case entities");
    assertEquals(HtmlEntities.namedCount(), 2231);
  }

  @Test
  void htmlAutoRuleFollowsFtfysLineSegments() {
    // ftfy stops unescaping from the first line with '<' on; html.unescape's two passes still apply everywhere
    assertEquals("& <b> &amp; &amp;", ClipTokenizer.clean("&amp;amp;amp;\n<b> &amp;amp;amp;\n&amp;amp;amp;"));
  }

  @Test
  void nfcMakesDecomposedAndComposedTheSame() {
    assertEquals(ClipTokenizer.clean("caf\u00e9"), ClipTokenizer.clean("cafe\u0301"));
    assertArrayEquals(tok.encode("caf\u00e9"), tok.encode("cafe\u0301"));
    assertEquals("\u00e5", ClipTokenizer.clean("A\u030a"));
  }

  @Test
  void lowerCasingIsPythons() {
    // final sigma by CPython's rule: "AΣ½" ends in ς, where Java's toLowerCase writes σ
    assertEquals("àéî i\u0307stanbul σας σ. aς½", ClipTokenizer.clean("ÀÉÎ İSTANBUL ΣΑΣ Σ. AΣ½"));
    assertEquals("a photo of a dog.", ClipTokenizer.clean("A PHOTO of a Dog."));
  }

  @Test
  void ftfyFixesThatChangeTokensAreApplied() {
    assertEquals("\"quoted\" 'single' it's", ClipTokenizer.clean("\u201cquoted\u201d \u2018single\u2019 it\u2019s"));
    assertEquals("fine fluffiest 'n", ClipTokenizer.clean("\ufb01ne \ufb02u\ufb03e\ufb06 \u0149"));
    assertEquals("abc 12 ガ", ClipTokenizer.clean("ＡＢＣ\u3000１２ ｶﾞ"));
    assertEquals("\"x\" … €", ClipTokenizer.clean("\u0093x\u0094 \u0085 \u0080"), "C1 controls read as Windows-1252");
    assertEquals("red text", ClipTokenizer.clean("\u001b[31mred\u001b[0m text"));
    assertEquals("ab\ufffd", ClipTokenizer.clean("a\ufeffb\ud800"));
  }

  @Test
  void mojibakeIsNotRepaired() {
    // ftfy's fix_encoding would turn this into "café"; it is the one ftfy step not reproduced
    assertEquals("caf\u00e3\u00a9", ClipTokenizer.clean("caf\u00c3\u00a9"));
  }

  @Test
  void decodeReversesEncodeUpToWordSpaces() {
    assertEquals("hello aaa ", tok.decode(tok.encode("Hello AAA")));
    assertEquals("café , naïve ! \uD83D\uDE42 ", tok.decode(tok.encode("café, naïve! \uD83D\uDE42")));
    assertEquals("<|startoftext|>hello <|endoftext|>", tok.decode(new int[] {SOT, HELLO, EOT}));
  }

  @Test
  void decodeReplacesInvalidUtf8AsPythonDoes() {
    // bytes ED B0 A5 (a surrogate's encoding): Python writes three U+FFFD, Java's own decoder one
    assertEquals("\ufffd\ufffd\ufffd", BpeVocabulary.decodeUtf8Replacing(new byte[] {(byte) 0xED, (byte) 0xB0, (byte) 0xA5}));
    assertEquals("\ufffdA", BpeVocabulary.decodeUtf8Replacing(new byte[] {(byte) 0xE2, (byte) 0x82, 'A'}));
    assertEquals("€", BpeVocabulary.decodeUtf8Replacing("€".getBytes(StandardCharsets.UTF_8)));
    assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {tok.vocabSize()}));
  }

  @Test
  void cacheIsBoundedAndThreadSafe() throws Exception {
    ClipTokenizer small = tok.withCacheCapacity(8);
    for (int i = 0; i < 200; i++) small.encode("word" + (char) ('a' + i % 26) + (char) ('a' + i / 26));
    assertTrue(small.cacheSize() <= 8, "cache holds " + small.cacheSize());
    assertEquals(0, tok.withCacheCapacity(0).cacheSize());
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 500; i++) texts.add("hello " + "a".repeat(i % 7 + 1) + " x" + i % 37 + " ello");
    int[][] expected = tok.withCacheCapacity(0).tokenize(texts);
    ClipTokenizer shared = tok.withCacheCapacity(16);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<int[][]>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) results.add(pool.submit(() -> shared.tokenize(texts)));
      for (Future<int[][]> f : results) assertTrue(Arrays.deepEquals(expected, f.get()));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("nope.txt.gz");
    ClipVocabularyException e = assertThrows(ClipVocabularyException.class, () -> ClipTokenizer.load(missing));
    assertEquals(missing + ": no such file (the CLIP BPE merges, bpe_simple_vocab_16e6.txt.gz)", e.getMessage());
    assertEquals(missing, e.file());
  }

  @Test
  void garbledFilesAreNamed() throws IOException {
    Path plain = Files.writeString(dir.resolve("plain.txt"), "#version: 0.2\ni n\n");
    assertMessage(plain, "not a gzip file");
    byte[] whole = Files.readAllBytes(SyntheticMerges.write(dir.resolve("whole.gz"), 100, "i n"));
    Path truncated = Files.write(dir.resolve("truncated.gz"), Arrays.copyOf(whole, whole.length / 2));
    assertMessage(truncated, "truncated gzip data");
    Path latin1 = SyntheticMerges.gzip(dir.resolve("latin1.gz"), new byte[] {'#', '\n', (byte) 0xE9, ' ', 'x', '\n'});
    assertMessage(latin1, "not UTF-8 text after gunzip");
    Path threeParts = SyntheticMerges.write(dir.resolve("three.gz"), 0, "i n", "t h e");
    ClipVocabularyException e = assertThrows(ClipVocabularyException.class, () -> ClipTokenizer.load(threeParts, 2));
    assertEquals(threeParts + ": line 3 is not a merge of two symbols: \"t h e\"", e.getMessage());
    assertThrows(ClipVocabularyException.class, () -> ClipTokenizer.load(dir));
  }

  @Test
  void tooFewMergesIsAnError() throws IOException {
    Path file = SyntheticMerges.write(dir);
    ClipVocabularyException e = assertThrows(ClipVocabularyException.class, () -> ClipTokenizer.load(file));
    assertEquals(file + ": has 7 merges, expected at least 48894 (the CLIP BPE merges file "
        + "bpe_simple_vocab_16e6.txt.gz has 262144)", e.getMessage());
  }

  @Test
  void clipSizedFileLoadsWithClipsSpecialIds() throws IOException {
    ClipTokenizer clipSized = ClipTokenizer.load(SyntheticMerges.writeClipSized(dir));
    assertEquals(49408, clipSized.vocabSize());
    assertEquals(49406, clipSized.startOfText());
    assertEquals(49407, clipSized.endOfText());
    assertArrayEquals(new int[] {HELLO, 320}, clipSized.encode("hello a"));
  }

  private static void assertMessage(Path file, String what) {
    ClipVocabularyException e = assertThrows(ClipVocabularyException.class, () -> ClipTokenizer.load(file, 1));
    assertTrue(e.getMessage().startsWith(file + ": " + what), e.getMessage());
  }
}
