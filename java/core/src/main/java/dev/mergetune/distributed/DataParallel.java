package dev.mergetune.distributed;

import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.StepOptimizer;
import dev.mergetune.train.TrainableMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code TrainingLoop} consults to train data-parallel — the one seam between the loop and the process group.
 * For a single process every operation is the identity, so the loop runs exactly as before.
 *
 * <ul>
 *   <li>batches: each rank trains on its {@link DistributedSampler} shard of the single-process batch, so that the
 *       ranks' averaged gradients are the global batch's;
 *   <li>gradients: averaged in DDP's buckets, overlapped with backward by c10d's {@code Reducer}
 *       ({@link OverlappedAllreduce}) or after it ({@link AfterBackwardAllreduce}), see {@link #gradients};
 *   <li>state: the trainable tensors, the optimizer's state and LibTorch's CPU generator are broadcast from rank 0 at
 *       the start and after a resume (rank 0 alone reads the checkpoint), see {@link #broadcastState};
 *   <li>validation: split across ranks and the correct counts summed when the method is {@link ShardedValidation};
 *   <li>writing: only rank 0 ({@link #isMain}) writes, after a {@link #barrier}.
 * </ul>
 */
public final class DataParallel {
  private static final Logger LOG = LoggerFactory.getLogger(DataParallel.class);
  private static final DataParallel SINGLE = new DataParallel(ProcessGroupContext.single(), GradientSyncMode.OVERLAP);

  private final ProcessGroupContext ctx;
  private final GradientSyncMode mode;
  private final DistributedSampler sampler;
  private long communicationNanos;  // in collectives outside backward: after-backward sync, loss all-reduce

  private DataParallel(ProcessGroupContext ctx, GradientSyncMode mode) {
    this.ctx = ctx;
    this.mode = mode;
    this.sampler = new DistributedSampler(ctx.rank(), ctx.worldSize());
  }

  public static DataParallel of(ProcessGroupContext ctx, GradientSyncMode mode) {
    return ctx.distributed() ? new DataParallel(ctx, mode) : SINGLE;
  }

  /** The installed process group, with its configured gradient sync (overlap by default). */
  public static DataParallel current() {
    ProcessGroupContext c = ProcessGroupContext.current();
    GradientSyncMode m = c instanceof C10dProcessGroup g ? g.config().gradientSync() : GradientSyncMode.OVERLAP;
    return of(c, m);
  }

  public static DataParallel single() {
    return SINGLE;
  }

  public ProcessGroupContext context() {
    return ctx;
  }

  public boolean distributed() {
    return ctx.distributed();
  }

  public boolean isMain() {
    return ctx.isMain();
  }

  public int rank() {
    return ctx.rank();
  }

  public int worldSize() {
    return ctx.worldSize();
  }

  /** This rank's items of the global batch. */
  public int[] shard(int[] globalBatch) {
    return distributed() ? sampler.shard(globalBatch) : globalBatch;
  }

  /**
   * The gradient averaging for {@code method}'s trainable tensors: overlapped when so configured and the backend
   * reduces the tensors where they are (Gloo, CPU tensors), after backward otherwise.
   */
  public GradientSync gradients(TrainableMethod method) {
    if (!distributed()) return GradientSync.none();
    List<String> names = new ArrayList<>(method.trainable().keySet());
    List<Tensor> params = new ArrayList<>(method.trainable().values());
    boolean overlap = mode == GradientSyncMode.OVERLAP && ctx.processGroup() != null
        && params.stream().allMatch(ctx::reducesInPlace);
    GradientSync s = overlap ? new OverlappedAllreduce(ctx, names, params)
        : new AfterBackwardAllreduce(ctx, names, params);
    LOG.info("rank {} of {}: gradients of {} tensors averaged over {} ({})", ctx.rank(), ctx.worldSize(),
        params.size(), ctx.backend(), s.mode() + (overlap || mode != GradientSyncMode.OVERLAP ? ""
            : "; overlap needs the backend to reduce the tensors where they are"));
    return s;
  }

  /** {@code loss.backward()} with the gradients averaged by {@code sync}; a rank's death is reported by rank. */
  public void backward(Tensor loss, GradientSync sync, String where) {
    sync.beforeBackward(loss);
    try {
      loss.backward();
    } catch (RuntimeException e) {
      if (!distributed()) throw e;
      throw ctx.diagnose("backward with gradient all-reduce (" + where + ")", e);
    }
    long t0 = System.nanoTime();
    sync.afterBackward(where);
    communicationNanos += System.nanoTime() - t0;
  }

  /** The mean over ranks of their shard losses: the global batch's mean loss, the same on every rank. */
  public double meanLoss(double localLoss, String where) {
    if (!distributed()) return localLoss;
    Tensor t = torch.full(new long[] {1}, new Scalar(localLoss),
        new TensorOptions(torch.ScalarType.Double));
    long t0 = System.nanoTime();
    ctx.allreduceSum(List.of(t), "loss all-reduce (" + where + ")");
    communicationNanos += System.nanoTime() - t0;
    return t.item_double() / worldSize();
  }

  /**
   * Seconds this rank spent in the step's collectives outside backward — the gradient all-reduce after backward
   * ({@link GradientSyncMode#AFTER_BACKWARD}; with {@code OVERLAP} it runs inside backward and only its last wait is
   * here) and the loss all-reduce — including the wait for slower ranks.
   */
  public double communicationSeconds() {
    return communicationNanos / 1e9;
  }

  /**
   * Rank 0's trainable tensors, optimizer state and LibTorch CPU generator state on every rank (the optimizer's own
   * serialisation, sent as a file through the backend).
   */
  public void broadcastState(Map<String, Tensor> trainable, StepOptimizer optimizer) throws IOException {
    if (!distributed()) return;
    broadcastTensors(trainable, "broadcast of the trainable tensors");
    Path mine = Files.createTempFile("mergetune-optimizer-rank" + rank() + "-", ".pt");
    Path received = Files.createTempFile("mergetune-optimizer-from-rank0-", ".pt");
    try {
      if (isMain()) optimizer.saveState(mine);
      ctx.broadcastFile(mine, received, "broadcast of the optimizer state");
      if (!isMain()) optimizer.loadState(received);
    } finally {
      Files.deleteIfExists(mine);
      Files.deleteIfExists(received);
    }
    Tensor rng = torch.getDefaultCPUGenerator().get_state().contiguous().clone();
    ctx.broadcast(List.of(rng), "broadcast of LibTorch's generator state");
    torch.getDefaultCPUGenerator().set_state(rng);
  }

  /** Rank 0's values of {@code tensors} (in place, without recording gradients) on every rank. */
  public void broadcastTensors(Map<String, Tensor> tensors, String what) {
    if (!distributed()) return;
    try (NoGradGuard g = new NoGradGuard()) {
      List<Tensor> list = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        if (!e.getValue().is_contiguous()) {
          throw new IllegalArgumentException("'" + e.getKey() + "' is not contiguous and cannot be broadcast in place");
        }
        list.add(e.getValue());
      }
      ctx.broadcast(list, what);
    }
  }

  /** Rank 0's numbers on every rank (the others pass anything of the same length). */
  public long[] broadcastLongs(long[] values, String what) {
    if (!distributed()) return values;
    Tensor t = Tensor.create(values.clone(), values.length);
    ctx.broadcast(List.of(t), what);
    long[] out = new long[values.length];
    t.contiguous().data_ptr_long().get(out);
    return out;
  }

  /**
   * Validation accuracy: split across ranks when the method supports it (each rank counts its part, in whole
   * evaluation batches, and the counts are summed), else every rank evaluates everything (same parameters, same
   * result).
   */
  public double validate(TrainableMethod method) {
    if (!distributed() || !(method instanceof ShardedValidation v) || v.validationSize() == 0) {
      return method.evaluate();
    }
    int n = v.validationSize();
    int batch = v.validationBatch();
    int batches = (n + batch - 1) / batch;
    int from = Math.min(n, sampler.start(batches, rank()) * batch);
    int to = Math.min(n, sampler.start(batches, rank() + 1) * batch);
    long correct = from < to ? v.correct(from, to) : 0;
    Tensor t = Tensor.create(new long[] {correct}, 1);
    ctx.allreduceSum(List.of(t), "validation count all-reduce");
    return (double) t.item_long() / n;
  }

  /** Waits for every rank (before rank 0 commits something). */
  public void barrier(String what) {
    ctx.barrier(what);
  }

  /** See {@link ProcessGroupContext#decideOnMain}. */
  public boolean decideOnMain(String what, ProcessGroupContext.MainDecision d) throws IOException {
    return ctx.decideOnMain(what, d);
  }

  /** See {@link ProcessGroupContext#mainOnly}. */
  public void mainOnly(String what, ProcessGroupContext.MainTask t) throws IOException {
    ctx.mainOnly(what, t);
  }

  @Override
  public String toString() {
    return distributed() ? ctx + ", gradients " + mode.key() : "a single process";
  }
}
