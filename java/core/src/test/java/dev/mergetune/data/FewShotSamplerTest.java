package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FewShotSamplerTest {
  /** {@code classes} classes of {@code n} images each, interleaved (a0 b0 c0 a1 b1 ...). */
  static Dataset toy(int classes, int n) {
    List<String> names = new ArrayList<>();
    for (int c = 0; c < classes; c++) names.add("class" + c);
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) for (int c = 0; c < classes; c++) samples.add(new Sample(Path.of("c" + c + "/" + i + ".png"), c));
    return Dataset.of("toy", names, samples);
  }

  static List<String> paths(Dataset d) {
    return d.samples().stream().map(s -> s.image().toString()).toList();
  }

  @Test
  void sameSeedSameSamplesAcrossInstancesAndCalls() {
    Dataset d = toy(10, 50);
    Dataset a = new FewShotSampler(2024).sample(d, 5);
    Dataset b = new FewShotSampler(2024).sample(d, 5);
    assertEquals(a.samples(), b.samples());
    assertEquals(a.samples(), new FewShotSampler(2024).sample(toy(10, 50), 5).samples());
    assertNotEquals(a.samples(), new FewShotSampler(2025).sample(d, 5).samples());
    assertEquals("toy/5-shot-seed2024", a.name());
    assertEquals(d.classNames(), a.classNames());
  }

  @Test
  void exactlyKPerClassInLabelOrderThenDatasetOrder() {
    Dataset d = toy(7, 20);
    Dataset s = new FewShotSampler(1).sample(d, 4);
    assertEquals(28, s.size());
    for (int c : s.classCounts()) assertEquals(4, c);
    for (int i = 1; i < s.size(); i++) {
      Sample prev = s.samples().get(i - 1), cur = s.samples().get(i);
      assertTrue(prev.label() < cur.label() || (prev.label() == cur.label()
          && d.samples().indexOf(prev) < d.samples().indexOf(cur)), "order at " + i);
    }
  }

  /**
   * Pinned output: the algorithm is part of the contract (the same few-shot set on every machine, JVM and release), so a
   * change to it must show up here. Values recorded from this implementation.
   */
  @Test
  void pinnedDraw() {
    assertEquals(List.of("c0/3.png", "c0/10.png", "c0/11.png", "c1/2.png", "c1/4.png", "c1/11.png"),
        paths(new FewShotSampler(42).sample(toy(2, 12), 3)));
    // SplitMix64 as published (and as java.util.SplittableRandom's nextLong computes it)
    assertEquals(-2152535657050944081L, new SplitMix64(0).nextLong());
    for (long seed : new long[] {1, 42, -7}) {
      SplitMix64 ours = new SplitMix64(seed);
      java.util.SplittableRandom jdk = new java.util.SplittableRandom(seed);
      for (int i = 0; i < 3; i++) assertEquals(jdk.nextLong(), ours.nextLong());
    }
  }

  @Test
  void aClassDrawDependsOnlyOnSeedLabelAndItsOwnSamples() {
    Dataset d = toy(6, 30);
    Dataset full = new FewShotSampler(9).sample(d, 5);
    Dataset base = new FewShotSampler(9).sample(ClassSubsets.base(d), 5);
    assertEquals(full.samples().subList(0, 15), base.samples());
  }

  @Test
  void shortClassesFailOrAreTakenWhole() {
    List<Sample> s = new ArrayList<>(toy(2, 6).samples());
    s.removeIf(x -> x.label() == 1 && !x.image().toString().endsWith("/0.png"));
    Dataset d = Dataset.of("short", List.of("many", "few"), s);
    DatasetException e = assertThrows(DatasetException.class, () -> new FewShotSampler(0).sample(d, 3));
    assertEquals("short: 1 classes have fewer than 3 images: 'few' (label 1) has 1", e.getMessage());
    Dataset all = new FewShotSampler(0).sample(d, 3, FewShotSampler.Shortfall.TAKE_ALL);
    assertEquals(3, all.classCounts()[0]);
    assertEquals(1, all.classCounts()[1]);
    assertThrows(IllegalArgumentException.class, () -> new FewShotSampler(0).sample(d, 0));
  }

  @Test
  void firstKTakesTheFirstImagesOfEachClass() {
    Dataset f = FewShotSampler.firstK(toy(3, 10), 2, FewShotSampler.Shortfall.ERROR);
    assertEquals(List.of("c0/0.png", "c0/1.png", "c1/0.png", "c1/1.png", "c2/0.png", "c2/1.png"), paths(f));
  }
}
