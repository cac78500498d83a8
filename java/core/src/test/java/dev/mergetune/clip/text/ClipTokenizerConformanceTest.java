package dev.mergetune.clip.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SharedFixtures;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The real CLIP vocabulary (../shared/data/clip) against ids from the original tokenizer: the clip-tiny fixture's
 * tokens.json and inputs.safetensors, and reference-cases.json (589 texts through OpenAI's simple_tokenizer.py with
 * ftfy 6.3.1). Skipped where the shared files are absent.
 */
class ClipTokenizerConformanceTest {
  private static ClipTokenizer tokenizer() {
    return ClipTokenizer.load(SharedFixtures.clipBpeVocabulary());
  }

  private static List<String> fixtureTexts(JsonNode fixture) {
    List<String> texts = new ArrayList<>();
    for (JsonNode t : fixture.get("texts")) texts.add(t.asText());
    return texts;
  }

  @Test
  void realVocabularyHasClipsLayout() {
    ClipTokenizer tok = tokenizer();
    assertEquals(49408, tok.vocabSize());
    assertEquals(49406, tok.startOfText());
    assertEquals(49407, tok.endOfText());
    assertEquals("a</w>", tok.token(320));
    assertEquals("in", tok.token(512));  // the first merge, "i n"
  }

  @Test
  void tokensJsonIsReproducedExactly() throws IOException {
    ClipTokenizer tok = tokenizer();
    JsonNode fixture = new ObjectMapper().readTree(SharedFixtures.clipTiny("tokens.json").toFile());
    List<String> texts = fixtureTexts(fixture);
    assertEquals(9, texts.size());
    int[][] rows = tok.tokenize(texts);
    for (int i = 0; i < texts.size(); i++) {
      int[] want = new ObjectMapper().convertValue(fixture.get("ids").get(i), int[].class);
      int[] encoded = tok.encode(texts.get(i));
      int[] withSpecials = new int[encoded.length + 2];
      withSpecials[0] = 49406;
      System.arraycopy(encoded, 0, withSpecials, 1, encoded.length);
      withSpecials[withSpecials.length - 1] = 49407;
      assertArrayEquals(want, withSpecials, "text " + i + ": " + texts.get(i));
      assertArrayEquals(Arrays.copyOf(want, 77), rows[i], "padded row " + i);
    }
  }

  @Test
  void tokenizeEqualsTheFixturesTokenTensor() throws IOException {
    ClipTokenizer tok = tokenizer();
    List<String> texts = fixtureTexts(new ObjectMapper().readTree(SharedFixtures.clipTiny("tokens.json").toFile()));
    long[] expected;
    try (SafetensorsFile f = SafetensorsFile.open(SharedFixtures.clipTiny("inputs.safetensors"))) {
      TensorInfo info = f.info("tokens");
      assertEquals(DType.I64, info.dtype());
      assertArrayEquals(new long[] {9, 77}, info.shape());
      expected = new long[(int) info.numel()];
      f.bytes("tokens").asLongBuffer().get(expected);
    }
    assertArrayEquals(expected, tok.tokenizeFlat(texts, 77, Truncation.ERROR));
    Tensor t = ClipTokenTensors.tokenize(tok, texts, 77, Truncation.ERROR);
    assertEquals(ScalarType.Long.value, t.scalar_type().value);
    assertArrayEquals(new long[] {9, 77}, t.shape());
    long[] got = new long[9 * 77];
    new org.bytedeco.javacpp.LongPointer(t.data_ptr_long()).capacity(got.length).get(got);
    assertArrayEquals(expected, got);
  }

  @Test
  void referenceCasesAreReproducedExactly() throws IOException {
    ClipTokenizer tok = tokenizer();
    JsonNode cases;
    try (InputStream in = getClass().getResourceAsStream("reference-cases.json")) {
      cases = new ObjectMapper().readTree(in).get("cases");
    }
    assertTrue(cases.size() > 500, "cases: " + cases.size());
    List<String> failures = new ArrayList<>();
    for (JsonNode c : cases) {
      String text = c.get("text").asText();
      int[] want = new ObjectMapper().convertValue(c.get("ids"), int[].class);
      String clean = ClipTokenizer.clean(text);
      int[] got = tok.encode(text);
      if (!clean.equals(c.get("clean").asText()) || !Arrays.equals(want, got)) {
        failures.add(String.format("%s: clean %s, want %s; ids %s, want %s", escape(text), escape(clean),
            escape(c.get("clean").asText()), Arrays.toString(got), Arrays.toString(want)));
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " of " + cases.size() + " differ, e.g.\n"
        + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
  }

  @Test
  void decodeOfTheFixtureRoundTrips() {
    ClipTokenizer tok = tokenizer();
    assertEquals("a photo of a dog . ", tok.decode(tok.encode("a photo of a dog.")));
    assertEquals("naïve façade — \" quoted \" words ", tok.decode(tok.encode("naïve façade — “quoted” words")));
    assertEquals("ümlaut and emoji 🙂 end ", tok.decode(tok.encode("ümlaut and emoji 🙂 end")));
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder("\"");
    s.codePoints().forEach(c -> {
      if (c >= 0x20 && c < 0x7F) b.appendCodePoint(c); else b.append(String.format("\\u{%x}", c));
    });
    return b.append('"').toString();
  }
}
