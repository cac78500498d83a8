package dev.mergetune.bench;

import dev.mergetune.condu.ConduSessions;
import dev.mergetune.condu.SessionStore;
import dev.mergetune.condu.StoredSession;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Peak memory and stored bytes of the ConDU store at ViT-B/16 scale with 11 tasks (issue 8). Run each step in a
 * fresh JVM ({@code benchmarks/condu-memory.sh} does), so that VmHWM — the process's peak resident set, native
 * memory included, which is what LibTorch tensors and the masks occupy — belongs to that step alone:
 *
 * <pre>
 *   ConduMemory build ROOT      ROOT/store10: ten sessions through the session loop
 *   ConduMemory step ROOT       copies it to ROOT/store11, adds the 11th task (one session step)
 *   ConduMemory decouple ROOT   loads ROOT/store11, decouples one expert; bytes stored per task and in all
 * </pre>
 */
public final class ConduMemory {
  private static final double MB = 1e6;

  private ConduMemory() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) throw new IllegalArgumentException("usage: ConduMemory build|step|decouple ROOT");
    Path root = Path.of(args[1]);
    NativeRuntime.ensureTorch();
    report("JVM + LibTorch loaded");
    switch (args[0]) {
      case "build" -> ConduFixture.tenTasks(root);
      case "step" -> step(root);
      case "decouple" -> decouple(root);
      default -> throw new IllegalArgumentException("mode must be build, step or decouple, got " + args[0]);
    }
  }

  private static void step(Path root) throws IOException {
    Path ten = root.resolve("store10");
    if (!SessionStore.exists(ten)) throw new IllegalStateException("run 'ConduMemory build " + root + "' first");
    Path eleven = root.resolve("store11");
    ConduFixture.delete(eleven);
    ConduFixture.copy(ten, eleven);
    Map<String, Tensor> delta = SyntheticParameters.delta(ConduBench.OLD_TASKS);
    long before = report("new task's delta in memory (inputs ready)");
    long start = System.nanoTime();
    ConduSessions.addTask(eleven, ConduFixture.THETA0, ConduFixture.taskName(ConduBench.OLD_TASKS), delta, null);
    System.out.printf(Locale.ROOT, "session step 11 took %.1f s (one run, wall clock)%n", (System.nanoTime() - start) / 1e9);
    long peak = report("after the session step");
    long p = SyntheticParameters.elements();
    long largest = largestTensor();
    int tasks = ConduBench.OLD_TASKS + 1;
    // both sessions' U and masks, the new delta, and per tensor the 10 rebuilt deltas of the largest tensor
    double model = 3 * 4.0 * p + (2 * tasks - 1) * p / 8.0 + ConduBench.OLD_TASKS * 4.0 * largest;
    System.out.printf(Locale.ROOT, "step peak above inputs: %.0f MB; data model 3·4P + 21·P/8 + 10·4·L = %.0f MB "
        + "(P = %d, largest tensor L = %d), of which the new delta (an input) %.0f MB%n",
        (peak - before) / MB, model / MB, p, largest, 4.0 * p / MB);
  }

  private static void decouple(Path root) throws IOException {
    Path eleven = root.resolve("store11");
    List<String> names = SyntheticParameters.names();
    try (StoredSession s = SessionStore.load(eleven)) {
      report("11-task store loaded (U + masks)");
      List<Tensor> theta0 = new ArrayList<>(SyntheticParameters.theta0().values());
      List<Tensor> out = new ArrayList<>(SyntheticParameters.zeros().values());
      long before = report("θ0 and the expert buffer allocated (inputs ready)");
      s.decouple(s.tasks() - 1, SegmentTable.ofTensors(names, theta0), SegmentTable.ofTensors(names, out));
      long peak = report("after one decouple");
      long p = SyntheticParameters.elements();
      double model = 3 * 4.0 * p + s.tasks() * (double) s.maskBytes(0);
      System.out.printf(Locale.ROOT, "decouple peak above inputs: %.0f MB; θ0 + U + masks + one expert = %.0f MB%n",
          (peak - before) / MB, model / MB);
      bytes(s, eleven, p);
    }
  }

  private static void bytes(StoredSession s, Path dir, long p) throws IOException {
    long reference = s.referenceMaskBytes();
    for (int k = 0; k < s.tasks(); k++) {
      System.out.printf(Locale.ROOT, "task %s: masks %d bytes, task total %d bytes; reference %d bytes (%.4f of it)%n",
          s.taskNames().get(k), s.maskBytes(k), s.taskBytes(k), reference, s.taskBytes(k) / (double) reference);
    }
    long store = ConduFixture.directoryBytes(dir);
    long experts = s.tasks() * 4L * p;
    long referenceStore = s.unifiedBytes() + s.tasks() * reference;
    System.out.printf(Locale.ROOT, "U file %d bytes; whole store %d bytes (%.1f MB) in %d files; 11 full float32 experts "
        + "%d bytes (%.1f MB): %.3f of it; reference layout (U + 1 byte/element/task) %d bytes (%.1f MB)%n",
        s.unifiedBytes(), store, store / MB, fileCount(dir), experts, experts / MB, store / (double) experts,
        referenceStore, referenceStore / MB);
  }

  private static long largestTensor() {
    long max = 0;
    for (SyntheticCheckpoints.Spec s : SyntheticCheckpoints.vitB16Layout()) {
      long n = 1;
      for (long d : s.shape()) n *= d;
      max = Math.max(max, n);
    }
    return max;
  }

  private static long fileCount(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      return files.count();
    }
  }

  /** Prints VmRSS and VmHWM (kB in /proc/self/status) and returns VmHWM in bytes. */
  private static long report(String when) throws IOException {
    long rss = 0;
    long hwm = 0;
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) rss = kilobytes(line);
      if (line.startsWith("VmHWM:")) hwm = kilobytes(line);
    }
    System.out.printf(Locale.ROOT, "%-50s VmRSS %6.0f MB  VmHWM %6.0f MB%n", when, rss * 1024 / MB, hwm * 1024 / MB);
    return hwm * 1024;
  }

  private static long kilobytes(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }
}
