package dev.mergetune.cli;

import static dev.mergetune.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.cli.CliRunner.Result;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.tensors.SharedFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune tokenize}: JSON output, the fixture's ids, padding, truncation and one-line errors. */
class TokenizeCommandTest {
  @TempDir Path dir;

  private static JsonNode json(Result r) throws IOException {
    assertEquals(0, r.exitCode(), r.out());
    return new ObjectMapper().readTree(r.out());
  }

  private static void assertIdsEqual(JsonNode want, JsonNode got) {
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      int[] w = new ObjectMapper().convertValue(want.get(i), int[].class);
      int[] g = new ObjectMapper().convertValue(got.get(i), int[].class);
      assertArrayEquals(w, g, "row " + i);
    }
  }

  @Test
  void tokensJsonThroughFileAndArguments() throws IOException {
    Path vocab = SharedFixtures.clipBpeVocabulary();
    Path tokens = SharedFixtures.clipTiny("tokens.json");
    JsonNode fixture = new ObjectMapper().readTree(tokens.toFile());
    JsonNode fromFile = json(run("tokenize", "--vocab", vocab.toString(), "--file", tokens.toString()));
    assertEquals(fixture.get("texts"), fromFile.get("texts"));
    assertIdsEqual(fixture.get("ids"), fromFile.get("ids"));

    List<String> args = new ArrayList<>(List.of("tokenize", "--vocab", vocab.toString()));
    for (JsonNode t : fixture.get("texts")) args.add(t.asText());
    JsonNode fromArgs = json(run(args.toArray(new String[0])));
    assertEquals(fixture.get("texts"), fromArgs.get("texts"));
    assertIdsEqual(fixture.get("ids"), fromArgs.get("ids"));

    JsonNode bundled = json(run("tokenize", "--file", tokens.toString()));  // no --vocab: the bundled vocabulary
    assertIdsEqual(fixture.get("ids"), bundled.get("ids"));
  }

  @Test
  void padTruncateContextAndLineFiles() throws IOException {
    Path vocab = SyntheticMerges.writeClipSized(dir);  // CLIP-sized file: "hello" = 515, "a" = 320
    JsonNode padded = json(run("tokenize", "--vocab", vocab.toString(), "--pad", "--context", "6", "Hello", ""));
    assertIdsEqual(new ObjectMapper().readTree("[[49406, 515, 49407, 0, 0, 0], [49406, 49407, 0, 0, 0, 0]]"),
        padded.get("ids"));
    String tooLong = String.join(" ", Collections.nCopies(80, "a"));
    JsonNode cut = json(run("tokenize", "--vocab", vocab.toString(), "--truncate", tooLong));
    int[] row = new ObjectMapper().convertValue(cut.get("ids").get(0), int[].class);
    assertEquals(77, row.length);
    assertEquals(49406, row[0]);
    assertEquals(320, row[75]);
    assertEquals(49407, row[76]);
    Path lines = Files.writeString(dir.resolve("prompts.txt"), "a photo of a hello.\r\nhello a\r\n");
    JsonNode fromLines = json(run("tokenize", "--vocab", vocab.toString(), "--file", lines.toString()));
    assertEquals(2, fromLines.get("texts").size());
    assertEquals("hello a", fromLines.get("texts").get(1).asText());
    assertIdsEqual(new ObjectMapper().readTree("[[49406, 515, 320, 49407]]"),
        new ObjectMapper().readTree("[" + fromLines.get("ids").get(1) + "]"));
  }

  @Test
  void errorsAreOneLine() throws IOException {
    Path vocab = SyntheticMerges.writeClipSized(dir);
    String tooLong = String.join(" ", Collections.nCopies(80, "a"));
    Result r = run("tokenize", "--vocab", vocab.toString(), "fine", tooLong);
    assertOneLineError(r, "mergetune: text 1 has 82 tokens with its start and end tokens, more than the context "
        + "length 77: \"a a a");

    Path missing = dir.resolve("missing.txt.gz");
    assertOneLineError(run("tokenize", "--vocab", missing.toString(), "x"), "mergetune: " + missing + ": no such file");
    Path notGzip = Files.writeString(dir.resolve("merges-plain.txt.gz"), "#version: 0.2\ni n\n");
    assertOneLineError(run("tokenize", "--vocab", notGzip.toString(), "x"), "mergetune: " + notGzip + ": not a gzip file");
    Path hfMerges = Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\ni n\n");
    assertOneLineError(run("tokenize", "--vocab", hfMerges.toString(), "x"), "mergetune: " + hfMerges
        + ": a Hugging Face tokenizer is vocab.json and merges.txt side by side");
    Path small = SyntheticMerges.write(dir);
    assertOneLineError(run("tokenize", "--vocab", small.toString(), "x"), "mergetune: " + small + ": has 7 merges");
    assertOneLineError(run("tokenize", "--vocab", vocab.toString()), "mergetune: no texts");
    assertOneLineError(run("tokenize", "--vocab", vocab.toString(), "--file", "x.txt", "y"), "mergetune: give TEXT");
    Path badJson = Files.writeString(dir.resolve("bad.json"), "{\"texts\": [1, 2]}");
    assertOneLineError(run("tokenize", "--vocab", vocab.toString(), "--file", badJson.toString()),
        "mergetune: " + badJson + ": texts[0] is not a string");
  }

  private static void assertOneLineError(Result r, String prefix) {
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().startsWith(prefix), r.out());
    assertEquals(1, r.out().strip().lines().count(), r.out());
    assertFalse(r.out().contains("\tat "), r.out());
  }
}
