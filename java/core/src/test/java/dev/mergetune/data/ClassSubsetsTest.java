package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClassSubsetsTest {
  static List<Integer> labels(Dataset d) {
    return d.samples().stream().map(Sample::label).toList();
  }

  static List<String> files(Dataset d) {
    return d.samples().stream().map(s -> s.image().toString()).toList();
  }

  @Test
  void oddClassCountPutsTheMiddleClassInBase() {
    Dataset d = FewShotSamplerTest.toy(5, 2);
    Dataset base = ClassSubsets.base(d), novel = ClassSubsets.novel(d);
    assertEquals(3, ClassSubsets.baseCount(5));
    assertEquals(List.of("class0", "class1", "class2"), base.classNames());
    assertEquals(List.of("class3", "class4"), novel.classNames());
    assertEquals(List.of(0, 1, 2, 0, 1, 2), labels(base));
    assertEquals(List.of(0, 1, 0, 1), labels(novel));                    // relabelled from 0
    assertEquals(List.of("c3/0.png", "c4/0.png", "c3/1.png", "c4/1.png"), files(novel));
    assertEquals("toy/novel", novel.name());
  }

  @Test
  void evenClassCountSplitsInHalves() {
    Dataset d = FewShotSamplerTest.toy(4, 1);
    assertEquals(List.of("class0", "class1"), ClassSubsets.base(d).classNames());
    assertEquals(List.of("class2", "class3"), ClassSubsets.novel(d).classNames());
    Dataset one = FewShotSamplerTest.toy(1, 3);
    assertEquals(3, ClassSubsets.base(one).size());
    assertThrows(DatasetException.class, () -> ClassSubsets.novel(one));
  }

  @Test
  void subsetsByLabelsAndNamesRelabelInTheGivenOrder() {
    Dataset d = FewShotSamplerTest.toy(4, 1);
    Dataset s = ClassSubsets.byLabels(d, List.of(3, 1));
    assertEquals(List.of("class3", "class1"), s.classNames());
    assertEquals(List.of("c1/0.png", "c3/0.png"), files(s));
    assertEquals(List.of(1, 0), labels(s));
    assertEquals(s.samples(), ClassSubsets.byNames(d, List.of("class3", "class1")).samples());
    assertThrows(DatasetException.class, () -> ClassSubsets.byLabels(d, List.of(1, 1)));
    assertThrows(DatasetException.class, () -> ClassSubsets.byLabels(d, List.of(4)));
    assertEquals("toy: no class named 'dog'",
        assertThrows(DatasetException.class, () -> ClassSubsets.byNames(d, List.of("dog"))).getMessage());
    Dataset dup = Dataset.of("dup", List.of("missile", "missile"),
        List.of(new Sample(Path.of("a"), 0), new Sample(Path.of("b"), 1)), Dataset.Allow.DUPLICATE_NAMES);
    assertThrows(DatasetException.class, () -> ClassSubsets.byNames(dup, List.of("missile")));
  }

  @Test
  void imageNetTwoHundredClassSubset() {
    List<String> names = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    for (int c = 0; c < 1000; c++) {
      names.add("class " + c);
      samples.add(new Sample(Path.of(c + ".JPEG"), c));
    }
    Dataset in1k = Dataset.of("ImageNet/test", names, samples);
    Dataset a = ClassSubsets.byLabels(in1k, ImageNetSubsets.IMAGENET_A, "ImageNet/test/imagenet-a-classes");
    assertEquals(200, a.numClasses());
    assertEquals("class 6", a.className(0));
    assertEquals(Path.of("988.JPEG"), a.samples().get(199).image());
    assertEquals(199, a.samples().get(199).label());
    int[] map = ClassSubsets.labelMap(1000, ImageNetSubsets.IMAGENET_A);
    assertEquals(0, map[6]);
    assertEquals(-1, map[7]);
  }

  @Test
  void remapMergesAndDropsClasses() {
    Dataset d = FewShotSamplerTest.toy(3, 1);
    Dataset r = ClassSubsets.remap(d, new int[] {1, -1, 0}, List.of("class2", "class0"), "r");
    assertEquals(List.of(1, 0), labels(r));
    assertEquals(List.of("c0/0.png", "c2/0.png"), files(r));
    assertEquals(List.of(0, 0, 0), labels(ClassSubsets.remap(d, new int[] {0, 0, 0}, List.of("all"), "merged")));
    assertThrows(DatasetException.class, () -> ClassSubsets.remap(d, new int[] {0, 0}, List.of("x"), "r"));
    assertThrows(DatasetException.class, () -> ClassSubsets.remap(d, new int[] {0, 0, 5}, List.of("x"), "r"));
    // an unused target class is an empty class: remap validates strictly
    assertThrows(DatasetException.class, () -> ClassSubsets.remap(d, new int[] {0, 0, 0}, List.of("x", "y"), "r"));
  }
}
