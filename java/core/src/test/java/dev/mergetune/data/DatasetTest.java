package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
  @TempDir Path dir;

  @Test
  void validDatasetIsImmutableAndGroupsByClass() {
    List<Sample> samples = new ArrayList<>(List.of(new Sample(Path.of("a.png"), 1), new Sample(Path.of("b.png"), 0),
        new Sample(Path.of("c.png"), 1)));
    Dataset d = Dataset.of("toy", List.of("cat", "dog"), samples);
    samples.clear();
    assertEquals(3, d.size());
    assertEquals(2, d.numClasses());
    assertEquals("dog", d.className(1));
    assertEquals(List.of(1, 2), List.of(d.classCounts()[0], d.classCounts()[1]));
    assertEquals(List.of(Path.of("a.png"), Path.of("c.png")), d.byClass().get(1).stream().map(Sample::image).toList());
    assertThrows(UnsupportedOperationException.class, () -> d.samples().add(new Sample(Path.of("x"), 0)));
    assertThrows(UnsupportedOperationException.class, () -> d.classNames().set(0, "x"));
  }

  @Test
  void labelOutOfRangeNamesTheImage() {
    DatasetException e = assertThrows(DatasetException.class,
        () -> Dataset.of("toy", List.of("cat"), List.of(new Sample(Path.of("bad.png"), 3))));
    assertTrue(e.getMessage().contains("bad.png") && e.getMessage().contains("label 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Sample(Path.of("x.png"), -1));
  }

  @Test
  void emptyClassesAreErrorsUnlessAllowed() {
    List<Sample> one = List.of(new Sample(Path.of("a.png"), 0));
    DatasetException e = assertThrows(DatasetException.class, () -> Dataset.of("toy", List.of("cat", "dog"), one));
    assertTrue(e.getMessage().contains("'dog' (label 1)"), e.getMessage());
    assertEquals(2, Dataset.of("toy", List.of("cat", "dog"), one, Dataset.Allow.EMPTY_CLASSES).numClasses());
  }

  @Test
  void duplicateClassNamesAreErrorsUnlessAllowed() {
    List<Sample> s = List.of(new Sample(Path.of("a.png"), 0), new Sample(Path.of("b.png"), 1));
    DatasetException e = assertThrows(DatasetException.class, () -> Dataset.of("toy", List.of("missile", "missile"), s));
    assertTrue(e.getMessage().contains("'missile' (labels 0 and 1)"), e.getMessage());
    assertEquals(2, Dataset.of("toy", List.of("missile", "missile"), s, Dataset.Allow.DUPLICATE_NAMES).numClasses());
    assertThrows(DatasetException.class, () -> Dataset.of("toy", List.of(), List.of()));
  }

  @Test
  void missingFilesAreNamed() {
    Path ok = Files2.png(dir.resolve("ok.png"));
    Dataset d = Dataset.of("toy", List.of("c"), List.of(new Sample(ok, 0), new Sample(dir.resolve("gone.png"), 0)));
    DatasetException e = assertThrows(DatasetException.class, d::requireFilesExist);
    assertTrue(e.getMessage().contains("1 of 2 image is missing") && e.getMessage().contains("gone.png"), e.getMessage());
    assertEquals(1, d.missingFiles().size());
    assertThrows(DatasetException.class, () -> FileCheck.EAGER.apply(d));
    assertEquals(d, FileCheck.SKIP.apply(d));
  }

  @Test
  void splitsShareClassesAndNameWhatIsMissing() {
    Dataset test = Dataset.of("t", List.of("c"), List.of(new Sample(Path.of("a"), 0)));
    DatasetSplits s = new DatasetSplits("X", java.util.Map.of(Split.TEST, test));
    assertEquals(test, s.test());
    DatasetException e = assertThrows(DatasetException.class, s::train);
    assertEquals("X has no train split (it has test)", e.getMessage());
    Dataset other = Dataset.of("t", List.of("d"), List.of(new Sample(Path.of("a"), 0)));
    assertThrows(DatasetException.class, () -> new DatasetSplits("X", java.util.Map.of(Split.TEST, test, Split.TRAIN, other)));
    assertEquals(Split.VAL, Split.parse(" Val "));
    assertThrows(IllegalArgumentException.class, () -> Split.parse("dev"));
  }
}
