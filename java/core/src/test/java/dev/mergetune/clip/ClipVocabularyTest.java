package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.ClipVocabularyException;
import dev.mergetune.tensors.SharedFixtures;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled CLIP vocabulary is the released file (its SHA-256, and the original tokenizer's ids for the fixture's
 * texts); a Hugging Face tokenizer's vocab.json + merges.txt give CLIP's ids or are refused; a model's vocabulary is
 * found beside it, in its snapshot, or bundled, and never picked among several that fit.
 */
class ClipVocabularyTest {
  @TempDir Path dir;

  @Test
  void theBundledVocabularyIsTheReleasedFile() throws Exception {
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ClipTokenizer.standardBytes()));
    assertEquals("924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a", sha);
    ClipTokenizer t = ClipTokenizer.standard();
    assertEquals(ClipTokenizer.CLIP_VOCAB_SIZE, t.vocabSize());
    assertNull(t.mergesFile());
    assertEquals(ClipTokenizer.STANDARD_DESCRIPTION, t.description());
  }

  @Test
  void theBundledVocabularyGivesTheOriginalTokenizersIds() throws IOException {
    JsonNode fixture = new ObjectMapper().readTree(SharedFixtures.clipTiny("tokens.json").toFile());
    List<String> texts = new ArrayList<>();
    fixture.get("texts").forEach(n -> texts.add(n.asText()));
    int[][] rows = ClipTokenizer.standard().tokenize(texts);
    for (int i = 0; i < texts.size(); i++) {
      int[] want = new ObjectMapper().convertValue(fixture.get("ids").get(i), int[].class);
      assertArrayEquals(want, java.util.Arrays.copyOf(rows[i], want.length), texts.get(i));
    }
  }

  static final List<String> MERGES = List.of("p h", "ph o", "t o</w>", "pho to</w>", "c a", "ca t</w>");

  @Test
  void aHuggingFaceTokenizerGivesTheIdsOfItsVocabJson() throws IOException {
    int size = TinyClipFiles.writeHfTokenizer(dir, MERGES);
    assertEquals(512 + MERGES.size() + 2, size);
    ClipTokenizer t = ClipTokenizer.loadHuggingFace(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    JsonNode vocab = new ObjectMapper().readTree(dir.resolve("vocab.json").toFile());
    int[] ids = t.encode("a photo, a cat");
    int[] want = {vocab.get("a</w>").asInt(), vocab.get("photo</w>").asInt(), vocab.get(",</w>").asInt(),
        vocab.get("a</w>").asInt(), vocab.get("cat</w>").asInt()};
    assertArrayEquals(want, ids);
    assertEquals(vocab.get("<|endoftext|>").asInt(), t.endOfText());
    assertEquals(size - 1, t.endOfText());
  }

  @Test
  void aVocabJsonThatIsNotCLIPsConstructionIsRefused() throws IOException {
    TinyClipFiles.writeHfTokenizer(dir, MERGES);
    Path v = dir.resolve("vocab.json");
    com.fasterxml.jackson.databind.node.ObjectNode j = (com.fasterxml.jackson.databind.node.ObjectNode)
        new ObjectMapper().readTree(v.toFile());
    j.put("cat</w>", j.get("cat</w>").asInt() + 1);
    Files.writeString(v, j.toString());
    ClipVocabularyException e = assertThrows(ClipVocabularyException.class,
        () -> ClipTokenizer.loadHuggingFace(v, dir.resolve("merges.txt")));
    assertTrue(e.getMessage().contains("cat</w>"), e.getMessage());
    Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\np h\n");
    ClipVocabularyException n = assertThrows(ClipVocabularyException.class,
        () -> ClipTokenizer.loadHuggingFace(v, dir.resolve("merges.txt")));
    assertTrue(n.getMessage().contains("tokens but merges.txt"), n.getMessage());
  }

  private static void gzipMerges(Path f, int merges) throws IOException {
    StringBuilder sb = new StringBuilder("#version: 0.2\n");
    String[] m = {"p h", "o t", "ph o", "t o</w>", "pho to</w>", "c a", "ca t</w>", "a </w>"};
    for (int i = 0; i < merges; i++) sb.append(m[i]).append('\n');
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
      out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void aVocabularyBesideTheModelIsFoundWhenItFitsAndOnlyThen() throws IOException {
    Path model = dir.resolve("m.safetensors");
    Files.writeString(model, "not read");
    gzipMerges(dir.resolve("world-bpe.txt.gz"), 5);
    gzipMerges(dir.resolve("other-bpe.txt.gz"), 3);
    ClipVocabulary v = ClipVocabulary.resolve(null, model, 512 + 5 + 2);
    assertEquals(dir.resolve("world-bpe.txt.gz"), v.file());
    assertEquals(519, v.tokenizer().vocabSize());
    assertEquals(dir.resolve("other-bpe.txt.gz"), ClipVocabulary.resolve(null, model, 517).file());
    gzipMerges(dir.resolve("copy-bpe.txt.gz"), 5);
    IllegalArgumentException two = assertThrows(IllegalArgumentException.class,
        () -> ClipVocabulary.resolve(null, model, 519));
    assertTrue(two.getMessage().contains("several vocabularies") && two.getMessage().contains("--vocab"), two.getMessage());
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> ClipVocabulary.resolve(null, model, 700));
    assertTrue(none.getMessage().contains("700 rows") && none.getMessage().contains("--vocab"), none.getMessage());
    ClipVocabulary clip = ClipVocabulary.resolve(null, model, ClipTokenizer.CLIP_VOCAB_SIZE);
    assertNull(clip.file());
    assertEquals(ClipTokenizer.STANDARD_DESCRIPTION, clip.description());
    assertEquals(dir.resolve("other-bpe.txt.gz"), ClipVocabulary.resolve(dir.resolve("other-bpe.txt.gz"), model, 517).file());
  }

  @Test
  void aSnapshotsOwnTokenizerFilesAreUsed() throws IOException {
    Path snap = dir.resolve("snap");
    int size = TinyClipFiles.writeHfTokenizer(snap, MERGES);
    Files.writeString(snap.resolve("model.safetensors"), "not read");
    ClipVocabulary v = ClipVocabulary.resolve(null, snap, size);
    assertEquals(snap.resolve("vocab.json"), v.file());
    assertEquals(size, v.tokenizer().vocabSize());
    assertEquals(snap.resolve("vocab.json"), ClipVocabulary.resolve(null, snap.resolve("model.safetensors"), size).file());
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> ClipVocabulary.resolve(null, snap, size - 1));
    assertTrue(small.getMessage().contains("not this model's vocabulary"), small.getMessage());
  }
}
