package dev.mergetune.clip.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplatesTest {
  @TempDir Path dir;

  private static void assertOnePlaceholder(String template) {
    int at = template.indexOf("{}");
    assertTrue(at >= 0 && template.indexOf("{}", at + 1) < 0, template);
    assertEquals(template.length() - 2, template.replace("{", "").replace("}", "").length(), "stray brace: " + template);
  }

  @Test
  void imagenetHasTheNotebooks80Templates() {
    List<String> t = PromptTemplates.imagenet80();
    assertEquals(80, t.size());
    assertEquals(80, t.stream().distinct().count());
    assertEquals("a bad photo of a {}.", t.get(0));
    assertEquals("a tattoo of the {}.", t.get(79));
    assertTrue(t.contains("itap of a {}."));
    assertTrue(t.contains("a {} in a video game."));
    assertTrue(t.contains("a photo of a {}."));
    t.forEach(PromptTemplatesTest::assertOnePlaceholder);
    assertThrows(UnsupportedOperationException.class, () -> t.add("x {}"));
  }

  @Test
  void coopTemplates() {
    assertEquals(15, PromptTemplates.coopDatasets().size());
    assertEquals("a photo of a {}, a type of pet.", PromptTemplates.coop("OxfordPets"));
    assertEquals("a photo of a {}, a type of flower.", PromptTemplates.coop("OxfordFlowers"));
    assertEquals("a photo of a {}, a type of aircraft.", PromptTemplates.coop("FGVCAircraft"));
    assertEquals("{} texture.", PromptTemplates.coop("DescribableTextures"));
    assertEquals("a centered satellite photo of {}.", PromptTemplates.coop("EuroSAT"));
    assertEquals("a photo of {}, a type of food.", PromptTemplates.coop("Food101"));
    assertEquals("a photo of a person doing {}.", PromptTemplates.coop("UCF101"));
    assertEquals("a photo of a {}.", PromptTemplates.coop("ImageNetSketch"));
    assertEquals("a photo of a {}, a type of pet.", PromptTemplates.coop("oxford_pets"));  // case and separators
    for (String d : PromptTemplates.coopDatasets()) assertOnePlaceholder(PromptTemplates.coop(d));
  }

  @Test
  void mtilTemplates() {
    List<String> expectedOrder = List.of("Aircraft", "Caltech101", "CIFAR100", "DTD", "EuroSAT", "Flowers", "Food",
        "MNIST", "OxfordPet", "StanfordCars", "SUN397");
    assertEquals(expectedOrder, new ArrayList<>(PromptTemplates.mtilDatasets()));
    Map<String, Integer> counts = Map.ofEntries(Map.entry("Aircraft", 2), Map.entry("Caltech101", 34),
        Map.entry("CIFAR100", 18), Map.entry("DTD", 8), Map.entry("EuroSAT", 3), Map.entry("Flowers", 1),
        Map.entry("Food", 1), Map.entry("MNIST", 1), Map.entry("OxfordPet", 1), Map.entry("StanfordCars", 9),
        Map.entry("SUN397", 2));
    for (String d : expectedOrder) {
      assertEquals(counts.get(d), PromptTemplates.mtil(d).size(), d);
      PromptTemplates.mtil(d).forEach(PromptTemplatesTest::assertOnePlaceholder);
    }
    assertEquals("a photo of a {}, a type of aircraft.", PromptTemplates.mtil("Aircraft").get(0));
    assertEquals("a photo of the number: \"{}\".", PromptTemplates.mtil("MNIST").get(0));
    assertEquals("a centered satellite photo of {}.", PromptTemplates.mtil("EuroSAT").get(0));
    assertEquals("a photo of a {} texture.", PromptTemplates.mtil("DTD").get(0));
    assertEquals("a photo of a {}, a type of car.", PromptTemplates.mtil("StanfordCars").get(0));
    assertEquals("i love my {}!", PromptTemplates.mtil("Cars").get(4));
    assertEquals("a photo of the big {}.", PromptTemplates.mtil("cifar100").get(17));
    assertEquals("a doodle of the {}.", PromptTemplates.mtil("Caltech101").get(33));
  }

  @Test
  void unknownDatasetListsTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptTemplates.mtil("Pets"));
    assertTrue(e.getMessage().contains("\"Pets\""), e.getMessage());
    assertTrue(e.getMessage().contains("Aircraft, Caltech101, CIFAR100"), e.getMessage());
    assertTrue(e.getMessage().contains("cars (= StanfordCars)"), e.getMessage());
    IllegalArgumentException c = assertThrows(IllegalArgumentException.class, () -> PromptTemplates.coop("MNIST"));
    assertTrue(c.getMessage().contains("OxfordPets, OxfordFlowers"), c.getMessage());
  }

  @Test
  void formatFillsTheSinglePlaceholder() {
    assertEquals("a photo of a golden retriever, a type of pet.",
        PromptTemplates.format(PromptTemplates.coop("OxfordPets"), "golden retriever"));
    assertEquals("a photo of the number: \"7\".", PromptTemplates.format(PromptTemplates.mtil("MNIST").get(0), "7"));
    assertEquals("a {} and $1.", PromptTemplates.format("a {}.", "{} and $1"));  // the class name is literal
    assertEquals(List.of("a x.", "the x."), PromptTemplates.formatAll(List.of("a {}.", "the {}."), "x"));
    assertThrows(IllegalArgumentException.class, () -> PromptTemplates.format("no placeholder", "x"));
    assertThrows(IllegalArgumentException.class, () -> PromptTemplates.format("{} and {}", "x"));
  }

  @Test
  void userFiles() throws Exception {
    Path f = Files.writeString(dir.resolve("mine.txt"), "# my prompts\n\na {} in the wild.\r\nart of {}\n");
    assertEquals(List.of("a {} in the wild.", "art of {}"), PromptTemplates.load(f));
    Path bad = Files.writeString(dir.resolve("bad.txt"), "a {} photo\na {c} photo\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptTemplates.load(bad));
    assertTrue(e.getMessage().startsWith(bad + ":2:"), e.getMessage());
    Path empty = Files.writeString(dir.resolve("empty.txt"), "# nothing\n");
    assertThrows(IllegalArgumentException.class, () -> PromptTemplates.load(empty));
    assertThrows(UncheckedIOException.class, () -> PromptTemplates.load(dir.resolve("missing.txt")));
  }
}
