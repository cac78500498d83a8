package dev.mergetune.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.ClipVocabularyException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldOutAndVocabularyTest {
  @TempDir static Path dir;
  static World world;
  static PretrainPairs pairs;

  @BeforeAll
  static void generate() throws IOException {
    world = TinyWorlds.generate(dir.resolve("w"), 7, 400);
    pairs = PretrainPairs.read(world);
  }

  @Test
  void heldOutCombinationsNeverAppearInPretraining() {
    Set<String> held = new HashSet<>(world.heldOut());
    Set<String> shapes = new HashSet<>();
    Set<String> colours = new HashSet<>();
    for (String h : held) {
      String[] cs = h.split(" ");
      colours.add(cs[0]);
      shapes.add(cs[1]);
    }
    assertEquals(8, shapes.size(), "one held-out colour per shape");
    assertEquals(8, colours.size(), "one held-out shape per colour");
    assertEquals(400, pairs.pairs().size());
    Set<String> seen = new HashSet<>();
    for (PretrainPairs.Pair p : pairs.pairs()) {
      if (p.domain() == Domain.SKETCH) {
        assertEquals("", p.colour(), "sketches have no colour");
        continue;
      }
      String combo = Concepts.combo(p.colour(), p.shape());
      assertFalse(held.contains(combo), p.image() + " shows held-out " + combo);
      // the caption never pairs a held-out colour word with a held-out shape word, and names only the image's concepts
      List<String> words = List.of(p.caption().split(" "));
      for (String w : words) {
        if (Concepts.SHAPES.contains(w)) assertEquals(p.shape(), w, p.caption());
        if (Concepts.TEXTURES.contains(w)) assertEquals(p.texture(), w, p.caption());
        if (Concepts.SIZES.contains(w)) assertEquals(p.size(), w, p.caption());
        for (Concepts.Colour c : Concepts.COLOURS) if (c.name().equals(w)) assertEquals(p.colour(), w, p.caption());
      }
      seen.add(combo);
    }
    assertTrue(seen.size() > 40, "most of the 56 seen combinations occur in 400 pairs: " + seen.size());
  }

  @Test
  void everyCaptionAndPromptIsSpeltInWholeWords() {
    ClipTokenizer t = world.tokenizer();
    assertEquals(world.vocabSize(), t.vocabSize());
    assertEquals(512 + world.merges(), t.startOfText());
    assertEquals(513 + world.merges(), t.endOfText());
    List<String> texts = new java.util.ArrayList<>(pairs.captions());
    for (World.DatasetEntry d : world.datasets()) {
      for (String tpl : d.templates()) for (String c : d.classes()) texts.add(tpl.replace("{}", c));
    }
    Set<String> words = new HashSet<>(Captions.words());
    for (String text : texts) {
      int[] ids = t.encode(text);
      String[] w = text.split(" ");
      assertEquals(w.length, ids.length, "one token per word: " + text);
      for (int i = 0; i < ids.length; i++) {
        assertTrue(words.contains(w[i]), w[i]);
        assertEquals(w[i] + "</w>", t.token(ids[i]), "token " + i + " of \"" + text + "\"");
      }
    }
    int[][] rows = t.tokenize(texts, world.contextLength(), dev.mergetune.clip.text.Truncation.ERROR);
    for (int[] r : rows) for (int id : r) assertTrue(id >= 0 && id < world.vocabSize());
  }

  @Test
  void bpeLearnerMergesTheMostFrequentPairFirst() {
    // "abb" and "abc": "a b" occurs twice and is merged first; then "ab b</w>" and "ab c</w>" once each, the tie going
    // to the smaller string
    assertEquals(List.of("a b", "ab b</w>", "ab c</w>"), WorldVocabulary.learn(List.of("abb", "abc")));
    assertThrows(IllegalArgumentException.class, () -> WorldVocabulary.learn(List.of("Red")));
  }

  @Test
  void aModelVocabularyOfItsOwnSizeLoadsAndAnotherSizeIsRefused() {
    ClipTokenizer t = ClipTokenizer.forVocabSize(world.mergesFile(), world.vocabSize());
    assertEquals(world.vocabSize(), t.vocabSize());
    ClipVocabularyException e = assertThrows(ClipVocabularyException.class,
        () -> ClipTokenizer.forVocabSize(world.mergesFile(), world.vocabSize() + 1));
    assertTrue(e.getMessage().contains(world.mergesFile().toString()), e.getMessage());
    assertThrows(ClipVocabularyException.class, () -> ClipTokenizer.forVocabSize(world.mergesFile(), 100));
  }
}
