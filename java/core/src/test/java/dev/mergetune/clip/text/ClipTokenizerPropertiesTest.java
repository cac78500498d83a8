package dev.mergetune.clip.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;

/** Properties of the tokenizer on the synthetic vocabulary (byte-level BPE is lossless whatever the merges). */
class ClipTokenizerPropertiesTest {
  private static final ClipTokenizer TOK = load();

  private static ClipTokenizer load() {
    try {
      Path dir = Files.createTempDirectory("clip-merges");
      Path file = SyntheticMerges.write(dir);
      ClipTokenizer tok = ClipTokenizer.load(file, SyntheticMerges.MERGES.length);
      Files.delete(file);
      Files.delete(dir);
      return tok;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Any string, lone surrogates and controls included, tokenizes into a well-formed row. */
  @Property(tries = 500)
  void anyStringTokenizes(@ForAll @StringLength(max = 120) String text) {
    int[] row = TOK.tokenize(List.of(text), Truncation.TRUNCATE)[0];
    assertEquals(77, row.length);
    assertEquals(TOK.startOfText(), row[0]);
    int end = 76;
    while (row[end] == 0) end--;
    assertEquals(TOK.endOfText(), row[end]);
    for (int id : TOK.encode(text)) assertTrue(id >= 0 && id < TOK.vocabSize(), "id " + id);
  }

  /** decode(encode(x)) is the cleaned text with a space after every piece, minus what no piece matches. */
  @Property(tries = 500)
  void decodeOfEncodeIsTheCleanedTextUpToSpaces(@ForAll @StringLength(max = 80) String text) {
    String cleaned = ClipTokenizer.clean(text);
    String decoded = TOK.decode(TOK.encode(text));
    assertEquals(cleaned.replace(" ", "").replace("\u0345", ""), decoded.replace(" ", ""));
  }

  /** For printable ASCII without '&', cleaning is collapsing whitespace and lower-casing. */
  @Property(tries = 500)
  void asciiCleaningIsWhitespaceAndCase(
      @ForAll @StringLength(max = 80) @CharRange(from = ' ', to = '%') @CharRange(from = '\'', to = '~')
      @Chars({'\t', '\n', '\r', '\f'}) String text) {
    String expected = text.trim().replaceAll("[ \\t\\n\\r\\f]+", " ").toLowerCase(Locale.ROOT);
    assertEquals(expected, ClipTokenizer.clean(text));
    assertEquals(expected.replace(" ", ""), TOK.decode(TOK.encode(text)).replace(" ", ""));
  }
}
