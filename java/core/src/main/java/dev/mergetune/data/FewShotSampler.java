package dev.mergetune.data;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * k images per class, drawn with a seed, the same on every run, machine and JVM.
 *
 * <p>Algorithm (fixed; changing it changes every few-shot set, so it is versioned by this description): for class
 * {@code c} (in label order), take its samples in dataset order; seed a {@link SplitMix64} with
 * {@code mix64(seed + 0x9E3779B97F4A7C15 * (c + 1))} (64-bit wrapping arithmetic); run the first {@code k} steps of a
 * Fisher-Yates shuffle on the class's positions (step {@code i} swaps position {@code i} with position
 * {@code i + nextInt(n - i)}, {@code nextInt} unbiased by rejection); keep those {@code k} samples. The result lists the classes in label order
 * and, within a class, the chosen samples in dataset order. A class's draw depends only on the seed, its label and its
 * own samples, so other classes (or a base/novel subset) never change it.
 *
 * <p>Not CoOp's draw: CoOp (Dassl's {@code generate_fewshot_dataset}) calls Python's {@code random.sample(items, k)}
 * per label, in order of first appearance, on the global {@code random} state after {@code random.seed(cfg.SEED)} and
 * whatever consumed it before, over images listed in {@code os.listdir} order for the folder-based datasets; and
 * ConDU's few-shot MTIL keeps the first {@code k} images of each class met while iterating a shuffled PyTorch
 * {@code DataLoader}. Neither can be reproduced from the seed alone, so the sets chosen here differ from theirs, at the
 * same k and seed. {@link #firstK} gives the deterministic "first k per class in dataset order" selection.
 */
public final class FewShotSampler {
  private static final Logger LOG = LoggerFactory.getLogger(FewShotSampler.class);

  /** What to do with a class that has fewer than k samples. */
  public enum Shortfall {
    /** Fail, naming the classes (the default). */
    ERROR,
    /** Keep all of its samples and log a warning naming the class (Dassl's behaviour without {@code repeat}). */
    TAKE_ALL
  }

  private final long seed;

  public FewShotSampler(long seed) {
    this.seed = seed;
  }

  public long seed() {
    return seed;
  }

  /** k samples of every class; a class with fewer is an error. */
  public Dataset sample(Dataset d, int k) {
    return sample(d, k, Shortfall.ERROR);
  }

  public Dataset sample(Dataset d, int k, Shortfall shortfall) {
    if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
    List<List<Sample>> byClass = d.byClass();
    checkShortfall(d, byClass, k, shortfall);
    List<Sample> out = new ArrayList<>(k * byClass.size());
    for (int c = 0; c < byClass.size(); c++) {
      List<Sample> items = byClass.get(c);
      int n = items.size();
      if (n <= k) {
        out.addAll(items);
        continue;
      }
      int[] pos = new int[n];
      for (int i = 0; i < n; i++) pos[i] = i;
      SplitMix64 rng = new SplitMix64(SplitMix64.mix64(seed + SplitMix64.GOLDEN_GAMMA * (c + 1L)));
      for (int i = 0; i < k; i++) {
        int j = i + rng.nextInt(n - i);
        int t = pos[i];
        pos[i] = pos[j];
        pos[j] = t;
      }
      boolean[] chosen = new boolean[n];
      for (int i = 0; i < k; i++) chosen[pos[i]] = true;
      for (int i = 0; i < n; i++) if (chosen[i]) out.add(items.get(i));
    }
    return Dataset.derived(d.name() + "/" + k + "-shot-seed" + seed, d.classNames(), out);
  }

  /**
   * The first k samples of every class in dataset order, classes in label order; deterministic without a seed. This
   * is ConDU's few-shot selection when its loader is not shuffled (its CIFAR-100 train loader) and the dataset order
   * is torchvision's.
   */
  public static Dataset firstK(Dataset d, int k, Shortfall shortfall) {
    if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
    List<List<Sample>> byClass = d.byClass();
    checkShortfall(d, byClass, k, shortfall);
    List<Sample> out = new ArrayList<>();
    for (List<Sample> items : byClass) out.addAll(items.subList(0, Math.min(k, items.size())));
    return Dataset.derived(d.name() + "/first-" + k, d.classNames(), out);
  }

  private static void checkShortfall(Dataset d, List<List<Sample>> byClass, int k, Shortfall shortfall) {
    List<String> short_ = new ArrayList<>();
    for (int c = 0; c < byClass.size(); c++) {
      if (byClass.get(c).size() < k) {
        short_.add("'" + d.className(c) + "' (label " + c + ") has " + byClass.get(c).size());
      }
    }
    if (short_.isEmpty()) return;
    String list = String.join(", ", short_.subList(0, Math.min(10, short_.size()))) + (short_.size() > 10 ? ", ..." : "");
    if (shortfall == Shortfall.ERROR) {
      throw new DatasetException(d.name() + ": " + short_.size() + " classes have fewer than " + k + " images: " + list);
    }
    LOG.warn("{}: {} classes have fewer than {} images and are taken whole: {}", d.name(), short_.size(), k, list);
  }
}
