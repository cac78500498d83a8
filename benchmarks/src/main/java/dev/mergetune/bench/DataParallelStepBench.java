package dev.mergetune.bench;

import dev.mergetune.adapt.ClipFineTuneMethod;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.distributed.BackendKind;
import dev.mergetune.distributed.C10dProcessGroup;
import dev.mergetune.distributed.DataParallel;
import dev.mergetune.distributed.DistributedConfig;
import dev.mergetune.distributed.GradientSync;
import dev.mergetune.distributed.GradientSyncMode;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainableMethod;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One end-to-end fine-tuning step (both towers forward and backward, label-smoothed cross-entropy, AdamW over every
 * parameter but logit_scale; a small CLIP: width 256, 4 + 4 layers, 64 px, CLIP's 49408-token vocabulary, 19.6 M
 * parameters, 78 MB of gradients) on a global batch of {@code batch} images, as {@code TrainingLoop} runs it:
 *
 * <ul>
 *   <li>{@code single-2threads} / {@code single-1thread}: one process with 2 or 1 LibTorch threads;
 *   <li>{@code gloo2-overlap} / {@code gloo2-after-backward}: two ranks on Gloo over loopback (this JMH fork is rank 0,
 *       a peer JVM started in the set-up is rank 1; each LibTorch 1 thread), each on batch/2 images, gradients averaged
 *       by c10d's Reducer during backward or by bucketed all-reduce after it. Each measured step starts with a
 *       broadcast from rank 0 telling the peer to step too (a few microseconds on loopback);
 *   <li>{@code gloo2-allreduce-only}: the communication of a step alone — the after-backward bucketed all-reduce of
 *       the 78 MB of gradients (set once) and the loss all-reduce, no compute — for the communication share.
 * </ul>
 *
 * At tear-down the fork prints the share of rank 0's step time spent in collectives outside backward
 * ({@link DataParallel#communicationSeconds}): all of the gradient all-reduce for after-backward.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class DataParallelStepBench {
  static final ClipConfig SMALL = ClipConfig.of(256, 64, 4, 256, 16, 4, 77, 49408, 256, 4, 4,
      dev.mergetune.clip.Activation.QUICK_GELU);
  static final int CLASSES = 10;

  @State(Scope.Benchmark)
  public static class Job {
    @Param({"single-2threads", "single-1thread", "gloo2-overlap", "gloo2-after-backward", "gloo2-allreduce-only"})
    public String setup;

    @Param({"16"})
    public int batch;

    Step step;
    C10dProcessGroup group;
    Process peer;
    long steps;
    double commAtStart;

    @Setup(Level.Trial)
    public void start() throws Exception {
      NativeRuntime.ensureTorch();
      boolean dp = setup.startsWith("gloo2");
      boolean onlyComm = setup.endsWith("allreduce-only");
      torch.set_num_threads(setup.equals("single-2threads") ? 2 : 1);
      DataParallel parallel = DataParallel.single();
      if (dp) {
        GradientSyncMode mode = mode(setup);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
          port = s.getLocalPort();
        }
        peer = startPeer(setup, batch, port);
        group = C10dProcessGroup.join(config(0, port, mode), "bench " + setup, false);
        parallel = DataParallel.of(group, mode);
      }
      step = new Step(parallel, batch, onlyComm);
      commAtStart = parallel.communicationSeconds();
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      if (group != null) {
        double comm = step.dp.communicationSeconds() - commAtStart;
        System.out.printf("%n%s: rank 0 spent %.1f ms per step in collectives outside backward (over %d steps)%n",
            setup, 1000 * comm / Math.max(steps, 1), steps);
        step.go(false);
        step.sync.close();
        group.close();
        peer.waitFor(60, TimeUnit.SECONDS);
      }
    }
  }

  static GradientSyncMode mode(String setup) {
    return setup.endsWith("overlap") ? GradientSyncMode.OVERLAP : GradientSyncMode.AFTER_BACKWARD;
  }

  static DistributedConfig config(int rank, int port, GradientSyncMode mode) {
    return new DistributedConfig(rank, 2, rank, "127.0.0.1", port, BackendKind.GLOO, Duration.ofSeconds(120), mode);
  }

  static Process startPeer(String setup, int batch, int port) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-Xmx") || a.startsWith("-Dorg.bytedeco")) cmd.add(a);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Peer.class.getName(), setup,
        Integer.toString(batch), Integer.toString(port)));
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().put("OMP_NUM_THREADS", "1");
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    return pb.start();
  }

  /** The model, data and optimizer of one rank, identical on every rank (seeded), and one training step. */
  static final class Step {
    final DataParallel dp;
    final ClipModel model;
    final TrainableMethod method;
    final Optimizers.Named optimizer;
    final GradientSync sync;
    final Tensor images;
    final Tensor tokens;
    final long[] labels;
    final int[] global;
    final boolean onlyComm;

    Step(DataParallel dp, int batch, boolean onlyComm) {
      this.onlyComm = onlyComm;
      this.dp = dp;
      model = new ClipModel(SMALL).initialize(0);
      LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
      for (var e : model.stateDict().entrySet()) {
        boolean train = !e.getKey().equals("logit_scale");
        e.getValue().set_requires_grad(train);
        if (train) params.put(e.getKey(), e.getValue());
      }
      torch.manual_seed(3);
      images = torch.randn(batch, 3, SMALL.imageResolution(), SMALL.imageResolution());
      long[][] p = TrainStepBench.prompts(CLASSES);
      long[] flat = new long[CLASSES * TrainStepBench.CONTEXT];
      for (int c = 0; c < CLASSES; c++) System.arraycopy(p[c], 0, flat, c * TrainStepBench.CONTEXT, TrainStepBench.CONTEXT);
      tokens = Tensor.create(flat, CLASSES, TrainStepBench.CONTEXT);
      labels = new long[batch];
      for (int i = 0; i < batch; i++) labels[i] = i % CLASSES;
      global = TrainStepBench.all(batch);
      method = new Params(params, batch);
      optimizer = Optimizers.adamW(Map.of("all", new ArrayList<>(params.values())),
          new Optimizers.AdamWConfig(1e-5, 0.9, 0.999, 1e-8, 0.0));
      sync = dp.gradients(method);
      if (onlyComm) {  // gradients of ones, once, without the sync
        Tensor sum = null;
        for (Tensor t : params.values()) sum = sum == null ? t.sum() : sum.add(t.sum());
        sum.backward();
      }
    }

    /** Rank 0 tells the others whether to take one more step (every rank calls it). */
    boolean go(boolean more) {
      return dp.broadcastLongs(new long[] {more ? 1 : 0}, "bench step flag")[0] == 1;
    }

    double run() {
      if (onlyComm) {
        try (PointerScope scope = new PointerScope()) {
          sync.afterBackward("bench communication");
          return dp.meanLoss(1.0, "bench communication");
        }
      }
      try (PointerScope scope = new PointerScope()) {
        optimizer.zeroGrad();
        int[] shard = dp.shard(global);
        long[] ids = new long[shard.length];
        long[] y = new long[shard.length];
        for (int i = 0; i < shard.length; i++) {
          ids[i] = shard[i];
          y[i] = labels[shard[i]];
        }
        Tensor x = images.index_select(0, Tensor.create(ids, ids.length));
        Tensor logits = model.logitsPerImage(model.encodeImage(x), model.encodeText(tokens));
        Tensor loss = Losses.crossEntropy(logits, Tensor.create(y, y.length), 0.2);
        dp.backward(loss, sync, "bench step");
        optimizer.step();
        return dp.meanLoss(loss.item_double(), "bench step");
      }
    }
  }

  /** The trainable tensors, for {@link DataParallel#gradients}. */
  private record Params(Map<String, Tensor> trainable, int trainSize) implements TrainableMethod {
    @Override
    public Tensor loss(int[] batch, long epoch) {
      throw new UnsupportedOperationException();
    }

    @Override
    public double evaluate() {
      return Double.NaN;
    }
  }

  /** Rank 1: steps whenever rank 0 says so, until it says stop. */
  public static final class Peer {
    private Peer() {}

    public static void main(String[] args) throws Exception {
      NativeRuntime.ensureTorch();
      torch.set_num_threads(1);
      GradientSyncMode mode = mode(args[0]);
      try (C10dProcessGroup g = C10dProcessGroup.join(config(1, Integer.parseInt(args[2]), mode), "bench " + args[0],
          false)) {
        Step step = new Step(DataParallel.of(g, mode), Integer.parseInt(args[1]), args[0].endsWith("allreduce-only"));
        while (step.go(false)) step.run();
        step.sync.close();
      }
      System.exit(0);
    }
  }

  @Benchmark
  public double step(Job j) {
    if (j.group != null) j.step.go(true);
    j.steps++;
    return j.step.run();
  }
}
