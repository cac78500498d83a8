package dev.mergetune.bench;

import dev.mergetune.condu.ConduSessions;
import dev.mergetune.condu.SessionStore;
import dev.mergetune.condu.Theta0Ref;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * ConDU session stores at ViT-B/16 scale for the benchmarks, built through the real session loop
 * ({@link ConduSessions#addTask}) from {@link SyntheticParameters} deltas: task k is named {@code task00}… and
 * has delta seed k. θ0 itself is never read by a session step; the stores refer to a notional θ0 checkpoint by a
 * fixed digest ({@link #THETA0}), the decouple benchmark generates θ0 in memory.
 */
final class ConduFixture {
  static final Theta0Ref THETA0 = new Theta0Ref(Path.of("/synthetic/vit-b16-theta0.safetensors"), "0".repeat(64), null);

  private ConduFixture() {}

  static String taskName(int task) {
    return String.format("task%02d", task);
  }

  /** Builds (or continues) {@code store} until it holds {@code tasks} tasks, one session per task. */
  static void build(Path store, int tasks) throws IOException {
    int have = 0;
    if (SessionStore.exists(store)) {
      try (var s = SessionStore.load(store)) {
        have = s.tasks();
      }
    }
    for (int k = have; k < tasks; k++) {
      long start = System.nanoTime();
      Map<String, Tensor> delta = SyntheticParameters.delta(k);
      try {
        ConduSessions.addTask(store, THETA0, taskName(k), delta, null);
      } finally {
        delta.values().forEach(Tensor::close);
      }
      System.out.printf("[condu fixture] session %d written to %s in %.1f s%n", k + 1, store,
          (System.nanoTime() - start) / 1e9);
    }
  }

  /** {@code root/store10}: ten sessions, built on first use. */
  static Path tenTasks(Path root) throws IOException {
    Path dir = root.resolve("store10");
    build(dir, 10);
    return dir;
  }

  /** {@code root/store11}: {@link #tenTasks} copied, plus the eleventh session. */
  static Path elevenTasks(Path root) throws IOException {
    Path dir = root.resolve("store11");
    if (!SessionStore.exists(dir)) {
      Path ten = tenTasks(root);
      Path partial = root.resolve("store11.copying");  // renamed only once complete, so a killed copy is redone
      delete(partial);
      copy(ten, partial);
      delete(dir);
      Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
    }
    build(dir, 11);
    return dir;
  }

  /** Copies a store's files (flat directory) into {@code to}, which must not exist. */
  static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path p : (Iterable<Path>) files::iterator) Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) Files.delete(p);
    }
  }

  static long directoryBytes(Path dir) throws IOException {
    long total = 0;
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) total += Files.size(p);
    }
    return total;
  }
}
