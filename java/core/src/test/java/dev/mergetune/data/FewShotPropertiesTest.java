package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class FewShotPropertiesTest {
  /** Class c has {@code base + (c * 7) % 5} images. */
  static Dataset uneven(int classes, int base) {
    List<String> names = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      names.add("c" + c);
      for (int i = 0; i < base + (c * 7) % 5; i++) samples.add(new Sample(Path.of(c + "/" + i), c));
    }
    return Dataset.of("p", names, samples);
  }

  @Property(tries = 300)
  void neverDuplicatesAndGivesKPerClassWhenPossible(@ForAll @IntRange(min = 1, max = 12) int classes,
      @ForAll @IntRange(min = 1, max = 25) int base, @ForAll @IntRange(min = 1, max = 12) int k, @ForAll long seed) {
    Dataset d = uneven(classes, base);
    Dataset s = new FewShotSampler(seed).sample(d, k, FewShotSampler.Shortfall.TAKE_ALL);
    Set<Sample> seen = new HashSet<>();
    for (Sample x : s.samples()) {
      assertTrue(seen.add(x), "duplicate " + x);
      assertTrue(d.samples().contains(x), "not from the dataset: " + x);
    }
    int[] have = d.classCounts(), got = s.classCounts();
    for (int c = 0; c < classes; c++) assertEquals(Math.min(k, have[c]), got[c], "class " + c);
    if (base >= k) assertEquals(s.samples(), new FewShotSampler(seed).sample(d, k).samples());
  }

  @Property(tries = 200)
  void randpermIsAPermutation(@ForAll @IntRange(min = 0, max = 300) int n, @ForAll long seed) {
    int[] p = TorchRandomSplit.randperm(n, seed);
    boolean[] hit = new boolean[n];
    for (int v : p) {
      assertTrue(v >= 0 && v < n && !hit[v]);
      hit[v] = true;
    }
  }
}
