package dev.mergetune.bench;

import dev.mergetune.condu.ConduSessions;
import dev.mergetune.condu.SessionStore;
import dev.mergetune.condu.StoredSession;
import dev.mergetune.condu.UnifyAccess;
import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.TaskMasks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The ConDU session store at CLIP ViT-B/16 scale (149.6M float32 elements, 200 tensors) with 11 synthetic tasks
 * (issue 8): stores built through the real session loop ({@link ConduFixture}), then
 *
 * <ul>
 *   <li>{@code sessionStep}: {@link ConduSessions#addTask} of the 11th task on a fresh copy of the 10-task store —
 *       load it (every file's SHA-256 checked), rebuild the 10 old deltas from U and the masks, unify 11, write U,
 *       11 mask files and the manifest with fsyncs and checksums, delete session 10's files. The copy is made
 *       before each call and deleted after it, untimed; the new delta is in memory (as after fine-tuning);
 *   <li>{@code unify}: the step's in-memory part alone (rebuild 10 + unify 11, tensor by tensor) into preallocated
 *       U and masks, the 10-task session already loaded;
 *   <li>{@code decouple}: expert 11 = θ0 + λ·M⊙U into a reusable buffer; the yardsticks are {@code copy}, one
 *       parameter set copied with LibTorch per tensor (200 calls, as MergeScaleBench), and {@code copyFlat}, the same
 *       149.6M floats as one flat LibTorch copy (one parallel region: on a shared machine each of the 200 per-tensor
 *       regions can wait for a descheduled thread). BenchMain turns them into GB/s and a fraction of the best copy;
 *   <li>{@code load}: {@link SessionStore#load} of the 11-task store (manifest, SHA-256 of every file, U and 11 mask
 *       files read), files in the page cache after the first call.
 * </ul>
 *
 * Stores live under the directory named by {@code -Dmergetune.condu.fixture} (BenchMain sets it, so the forks of
 * one run build them once), else in a temporary directory per fork, deleted at its end.
 */
public class ConduBench {
  static final int OLD_TASKS = 10;

  /** The fixture root: shared by the run's forks when BenchMain names it, else private to this fork. */
  static final class Root {
    private static Path root;
    private static boolean temporary;

    static synchronized Path get() throws IOException {
      if (root == null) {
        String named = System.getProperty("mergetune.condu.fixture");
        temporary = named == null;
        root = temporary ? Files.createTempDirectory("condu-bench") : Path.of(named);
        Files.createDirectories(root);
      }
      return root;
    }

    static synchronized void releaseIfTemporary() throws IOException {
      if (root != null && temporary) ConduFixture.delete(root);
      root = null;
    }
  }

  @State(Scope.Benchmark)
  public static class StepState {
    Path tenTasks;
    Path work;
    Map<String, Tensor> delta;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      NativeRuntime.ensureTorch();
      tenTasks = ConduFixture.tenTasks(Root.get());
      delta = SyntheticParameters.delta(OLD_TASKS);
    }

    @Setup(Level.Invocation)
    public void freshCopy() throws IOException {
      work = Root.get().resolve("step-" + ProcessHandle.current().pid());
      ConduFixture.delete(work);
      ConduFixture.copy(tenTasks, work);
    }

    @TearDown(Level.Invocation)
    public void dropCopy() throws IOException {
      ConduFixture.delete(work);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      delta.values().forEach(Tensor::close);
      Root.releaseIfTemporary();
    }
  }

  @State(Scope.Benchmark)
  public static class UnifyState {
    StoredSession previous;
    List<String> names;
    List<Tensor> delta;
    List<Tensor> unified = new ArrayList<>();
    TaskMasks masks;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      NativeRuntime.ensureTorch();
      previous = SessionStore.load(ConduFixture.tenTasks(Root.get()));
      Map<String, Tensor> d = SyntheticParameters.delta(OLD_TASKS);
      names = new ArrayList<>(d.keySet());
      delta = new ArrayList<>(d.values());
      for (Tensor t : SyntheticParameters.zeros().values()) unified.add(t);
      masks = new TaskMasks(DeviceKind.CPU, SegmentTable.ofTensors(names, delta).lengths(), OLD_TASKS + 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      previous.close();
      masks.close();
      delta.forEach(Tensor::close);
      unified.forEach(Tensor::close);
      Root.releaseIfTemporary();
    }
  }

  /** θ0 and a reusable output buffer; the copy benchmark needs nothing else. */
  @State(Scope.Benchmark)
  public static class ParameterState {
    List<Tensor> theta0;
    List<Tensor> out;
    SegmentTable theta0Table;
    SegmentTable outTable;

    @Setup(Level.Trial)
    public void setUp() {
      NativeRuntime.ensureTorch();
      List<String> names = SyntheticParameters.names();
      theta0 = new ArrayList<>(SyntheticParameters.theta0().values());
      out = new ArrayList<>(SyntheticParameters.zeros().values());
      theta0Table = SegmentTable.ofTensors(names, theta0);
      outTable = SegmentTable.ofTensors(names, out);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      theta0.forEach(Tensor::close);
      out.forEach(Tensor::close);
    }
  }

  /** The 11-task store on disk, not loaded. */
  /** Two flat buffers of one parameter set's element count. */
  @State(Scope.Benchmark)
  public static class FlatState {
    Tensor from;
    Tensor to;

    @Setup(Level.Trial)
    public void setUp() {
      NativeRuntime.ensureTorch();
      long n = SyntheticParameters.elements();
      from = torch.randn(n);
      to = torch.zeros(n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      from.close();
      to.close();
    }
  }

  @State(Scope.Benchmark)
  public static class ElevenTaskStore {
    Path dir;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      NativeRuntime.ensureTorch();
      dir = ConduFixture.elevenTasks(Root.get());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      Root.releaseIfTemporary();
    }
  }

  /** The 11-task store, loaded: U and the masks in memory. */
  @State(Scope.Benchmark)
  public static class ElevenTasks {
    StoredSession session;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      NativeRuntime.ensureTorch();
      session = SessionStore.load(ConduFixture.elevenTasks(Root.get()));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      session.close();
      Root.releaseIfTemporary();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public void sessionStep(StepState s) throws IOException {
    ConduSessions.addTask(s.work, ConduFixture.THETA0, ConduFixture.taskName(OLD_TASKS), s.delta, null);
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public double[] unify(UnifyState s) {
    return UnifyAccess.unify(s.previous, s.names, s.delta, s.unified, s.masks);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public void decouple(ElevenTasks store, ParameterState p) {
    store.session.decouple(OLD_TASKS, p.theta0Table, p.outTable);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public void copy(ParameterState p) {
    for (int s = 0; s < p.theta0.size(); s++) {
      try (PointerScope scope = new PointerScope()) {
        p.out.get(s).copy_(p.theta0.get(s));
      }
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public void copyFlat(FlatState f) {
    f.to.copy_(f.from);
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public int load(ElevenTaskStore store) throws IOException {
    try (StoredSession s = SessionStore.load(store.dir)) {
      return s.tasks();
    }
  }
}
