package dev.mergetune.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.data.EpochOrder;
import dev.mergetune.data.SplitMix64;
import dev.mergetune.distributed.DataParallel;
import dev.mergetune.distributed.GradientSync;
import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * One training loop for every {@link TrainableMethod}: {@code epochs × stepsPerEpoch} optimizer steps, or a fixed
 * number of iterations.
 *
 * <ul>
 *   <li>Batches: epoch {@code e} visits the training items in {@link EpochOrder#shuffled}(n, seed, e) order, in
 *       consecutive batches of {@code batchSize}; an incomplete last batch is dropped, as Dassl's training loader does
 *       ({@code drop_last} when n ≥ batch size; with fewer items, one batch of all of them).
 *   <li>Learning rate: {@code schedule.lr(step)} before each step, or {@code schedule.lr(epoch)} when
 *       {@code schedulePerEpoch} (Dassl steps its schedulers once per epoch).
 *   <li>Gradient clipping by global L2 norm when {@code clipNorm > 0}.
 *   <li>Every step runs in its own {@link PointerScope}, so the step's native tensors are freed when it ends.
 *   <li>Model selection: after each epoch {@link TrainableMethod#evaluate} is called when {@code evaluateEachEpoch};
 *       with {@code keepBest} an in-memory copy of the trainable tensors of the best epoch (highest validation
 *       accuracy, the earliest on ties) is kept and copied back at the end, like Dassl's {@code model-best} selection
 *       (CoOp's {@code TEST.FINAL_MODEL best_val}); without it the final tensors are the last step's.
 *   <li>Checkpoints every {@code checkpointEvery} steps and after the last step (never when 0) through
 *       {@link TrainingCheckpoint} — so a finished run's checkpoint holds its last state —, plus
 *       {@code best.safetensors} / {@code best.json} for the best copy; {@link #run} resumes from
 *       {@code checkpointDir} when it holds a checkpoint. Batch order depends on (seed, epoch) only, so a resumed run
 *       equals an uninterrupted one bit for bit (tested).
 *   <li>Data parallelism through {@link DataParallel} (see {@link #dataParallel}): each rank trains on its shard of
 *       each batch, gradients are averaged over the ranks, rank 0 alone resumes, validates its share like the others,
 *       reports and writes checkpoints; a single process is unchanged.
 * </ul>
 */
public final class TrainingLoop {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String BEST_FILE = "best.safetensors";
  static final String BEST_JSON = "best.json";

  /**
   * The loop's settings. The run lasts {@code iterations} steps when that is positive (ConDU counts iterations),
   * else {@code epochs × stepsPerEpoch} steps (the CoOp family counts epochs); either way an "epoch" is
   * {@code stepsPerEpoch} steps and ends with an evaluation (and the run's last step ends one too). {@code checkpointDir}
   * may be null when {@code checkpointEvery} is 0.
   */
  public record Config(int epochs, long iterations, int batchSize, long seed, LrSchedule schedule,
      boolean schedulePerEpoch, double clipNorm, boolean evaluateEachEpoch, boolean keepBest, long checkpointEvery,
      Path checkpointDir, boolean progress) {
    public Config {
      if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
      if (iterations < 0) throw new IllegalArgumentException("iterations must be non-negative, got " + iterations);
      if (iterations == 0 && epochs < 1) throw new IllegalArgumentException("epochs must be positive, got " + epochs);
      if (checkpointEvery < 0) throw new IllegalArgumentException("checkpointEvery must be non-negative");
      if (checkpointEvery > 0 && checkpointDir == null) throw new IllegalArgumentException("no checkpoint directory");
      if (keepBest && !evaluateEachEpoch) throw new IllegalArgumentException("keepBest needs evaluateEachEpoch");
      if (!(clipNorm >= 0)) throw new IllegalArgumentException("clipNorm must be non-negative, got " + clipNorm);
    }

    /** An epoch-counted run. */
    public Config(int epochs, int batchSize, long seed, LrSchedule schedule, boolean schedulePerEpoch, double clipNorm,
        boolean evaluateEachEpoch, boolean keepBest, long checkpointEvery, Path checkpointDir, boolean progress) {
      this(epochs, 0, batchSize, seed, schedule, schedulePerEpoch, clipNorm, evaluateEachEpoch, keepBest,
          checkpointEvery, checkpointDir, progress);
    }
  }

  /**
   * What one epoch did: its number (from 0), the step count at its end, the mean training loss of its steps (of the
   * steps run in this process when it resumed mid-epoch), the learning rate of its last step, the validation accuracy
   * (NaN without evaluation), training items per second and whether it is the best epoch so far.
   */
  public record EpochMetrics(int epoch, long step, long totalSteps, double meanLoss, double learningRate,
      double validationAccuracy, double itemsPerSecond, boolean best) {}

  /** Called at the end of every epoch (after the evaluation, before the checkpoint of that step). */
  @FunctionalInterface
  public interface EpochListener {
    void epochEnd(EpochMetrics metrics) throws IOException;
  }

  /**
   * What a run did: the last step's loss, the best epoch as a 0-based index (−1 without evaluation; run folders and
   * {@code TrainingRun.Result} count from 1) and its validation accuracy.
   */
  public record Result(long steps, double lastLoss, int bestEpoch, double bestAccuracy, boolean resumed) {}

  private final TrainableMethod method;
  private final StepOptimizer optimizer;
  private final Config config;
  private EpochListener listener = m -> {};
  private DataParallel dataParallel = DataParallel.current();

  /** {@code optimizer} must be built over {@code method.trainable()}, in that order. */
  public TrainingLoop(TrainableMethod method, StepOptimizer optimizer, Config config) {
    this.method = method;
    this.optimizer = optimizer;
    this.config = config;
  }

  /**
   * The process group the loop trains in (default: {@link DataParallel#current()}, a single process unless
   * {@code mergetune launch} installed one). Only rank 0 calls the epoch listener, shows progress and writes
   * checkpoints.
   */
  public TrainingLoop dataParallel(DataParallel dp) {
    this.dataParallel = java.util.Objects.requireNonNull(dp, "dp");
    return this;
  }

  /** Sets what is told about each finished epoch (metrics files, logs). */
  public TrainingLoop onEpochEnd(EpochListener l) {
    this.listener = java.util.Objects.requireNonNull(l, "listener");
    return this;
  }

  /** The number of optimizer steps of the whole run. */
  public long totalSteps() {
    return config.iterations() > 0 ? config.iterations() : (long) stepsPerEpoch() * config.epochs();
  }

  public int stepsPerEpoch() {
    int n = method.trainSize();
    if (n < 1) throw new IllegalArgumentException("no training items");
    return n >= config.batchSize() ? n / config.batchSize() : 1;
  }

  public Result run() throws IOException {
    int perEpoch = stepsPerEpoch();
    long total = totalSteps();
    Map<String, Tensor> trainable = method.trainable();
    DataParallel dp = dataParallel;
    Resume start = resume(dp, trainable, total);
    long step = start.step;
    Map<String, Tensor> best = start.best;
    int bestEpoch = start.bestEpoch;
    double bestAcc = start.bestAcc;
    dp.broadcastState(trainable, optimizer);  // rank 0's state everywhere, at the start and after a resume
    ProgressTask bar = config.progress() && dp.isMain() ? Progress.installed().start("train", total, "step") : null;
    double lastLoss = Double.NaN;
    long loopStarted = System.nanoTime();
    double commBefore = dp.communicationSeconds();
    try (GradientSync sync = dp.gradients(method)) {
      if (bar != null) bar.stepTo(step);
      long epochStarted = System.nanoTime();
      double lossSum = 0;
      int lossCount = 0;
      while (step < total) {
        int epoch = (int) (step / perEpoch);
        int within = (int) (step % perEpoch);
        int[] order = EpochOrder.shuffled(method.trainSize(), config.seed(), epoch);
        int b = Math.min(config.batchSize(), order.length);
        int[] batch = Arrays.copyOfRange(order, within * b, within * b + b);
        int[] shard = dp.shard(batch);
        double lr = config.schedule().lr(config.schedulePerEpoch() ? epoch : step);
        optimizer.setLearningRate(lr);
        String where = "step " + (step + 1);
        try (PointerScope scope = new PointerScope()) {
          optimizer.zeroGrad();
          Tensor loss = method.loss(shard, batch, epoch);
          dp.backward(loss, sync, where);
          if (config.clipNorm() > 0) Optimizers.clipGradNorm(optimizer.parameters(), config.clipNorm());
          optimizer.step();
          lastLoss = dp.meanLoss(loss.item_double(), where);
        }
        if (!Double.isFinite(lastLoss)) {
          throw new IllegalStateException("the training loss is " + lastLoss + " at step " + (step + 1) + " (epoch "
              + (epoch + 1) + "); lower the learning rate or check the inputs");
        }
        step++;
        lossSum += lastLoss;
        lossCount++;
        double itemsPerSecond = (double) lossCount * b / Math.max((System.nanoTime() - epochStarted) / 1e9, 1e-9);
        if (bar != null) {
          bar.step(1);
          bar.status(String.format(java.util.Locale.ROOT, "loss %.4f lr %.2e %.1f img/s", lastLoss, lr, itemsPerSecond));
        }
        if (step % perEpoch == 0 || step == total) {
          double acc = Double.NaN;
          boolean isBest = false;
          if (config.evaluateEachEpoch()) {
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
              acc = dp.validate(method);
            }
            if (config.keepBest() && acc > bestAcc) {
              bestAcc = acc;
              bestEpoch = epoch;
              best = TensorMaps.copy(trainable);
              isBest = true;
            }
          }
          double meanLoss = lossSum / lossCount;
          if (dp.isMain()) {
            LOG.debug(String.format(java.util.Locale.ROOT, "epoch %d (step %d/%d): mean loss %.4f%s, %.1f img/s",
                epoch + 1, step, total, meanLoss, Double.isFinite(acc)
                    ? String.format(java.util.Locale.ROOT, ", validation accuracy %.4f", acc) : "", itemsPerSecond));
            listener.epochEnd(new EpochMetrics(epoch, step, total, meanLoss, lr, acc, itemsPerSecond, isBest));
          }
          lossSum = 0;
          lossCount = 0;
          epochStarted = System.nanoTime();
        }
        // the run's last step is always checkpointed too: a finished run's checkpoint is its last state (MergeTune's
        // released recipe continues from a baseline's last epoch even when the baseline kept its best one)
        if (config.checkpointEvery() > 0 && (step % config.checkpointEvery() == 0 || step == total)) {
          dp.barrier("the checkpoint after step " + step);  // every rank got here: rank 0 commits the state
          if (dp.isMain()) checkpoint(step, step / perEpoch, trainable, best, bestEpoch, bestAcc);
        }
      }
    } finally {
      if (bar != null) bar.close();
    }
    if (dp.distributed()) {
      double loopSeconds = (System.nanoTime() - loopStarted) / 1e9;
      double comm = dp.communicationSeconds() - commBefore;
      LOG.info(String.format(java.util.Locale.ROOT, "rank %d: %.2f s of the loop's %.2f s (%.1f %%) in collectives"
          + " outside backward (gradient all-reduce after backward, loss all-reduce)", dp.rank(), comm, loopSeconds,
          100 * comm / Math.max(loopSeconds, 1e-9)));
    }
    if (config.keepBest() && best != null) {
      TensorMaps.assign(trainable, best);
      LOG.debug(String.format("restored the best epoch's state: epoch %d, validation accuracy %.4f", bestEpoch + 1,
          bestAcc));
    }
    return new Result(step, lastLoss, bestEpoch, bestEpoch < 0 ? Double.NaN : bestAcc, start.resumed);
  }

  /** Where a run starts: after the checkpoint's step, with its best epoch, or at step 0. */
  private record Resume(boolean resumed, long step, int bestEpoch, double bestAcc, Map<String, Tensor> best) {}

  /**
   * Rank 0 looks for a checkpoint and restores it (tensors, optimizer, generator, the best copy); the step and the best
   * epoch's record and tensors then reach every rank (the rest by {@link DataParallel#broadcastState}).
   */
  private Resume resume(DataParallel dp, Map<String, Tensor> trainable, long total) throws IOException {
    Path dir = config.checkpointDir();
    boolean found = dp.decideOnMain("look for a checkpoint to resume from",
        () -> dir != null && Files.isRegularFile(dir.resolve(TrainingCheckpoint.STATE_FILE)));
    if (!found) return new Resume(false, 0, -1, Double.NEGATIVE_INFINITY, null);
    long step = 0;
    int bestEpoch = -1;
    double bestAcc = Double.NEGATIVE_INFINITY;
    Map<String, Tensor> best = null;
    if (dp.isMain()) {
      TrainingCheckpoint.State s = TrainingCheckpoint.load(dir);
      s.restore(trainable, optimizer);
      step = s.step();
      Path bj = dir.resolve(BEST_JSON);
      if (Files.isRegularFile(bj)) {
        var j = JSON.readTree(bj.toFile());
        if (j.get("checkpoint_step").asLong() == step) {
          bestEpoch = j.get("epoch").asInt();
          bestAcc = j.get("accuracy").asDouble();
          Map<String, Tensor> saved = TensorMaps.copy(trainable);
          method.load(dir.resolve(BEST_FILE));
          best = TensorMaps.copy(trainable);
          TensorMaps.assign(trainable, saved);
        }
      }
      LOG.info("resumed from " + dir + " after step " + step + " of " + total);
    }
    long[] head = dp.broadcastLongs(new long[] {step, bestEpoch, Double.doubleToRawLongBits(bestAcc),
        best == null ? 0 : 1}, "broadcast of the resume point");
    if (head[3] == 1) {
      if (best == null) best = TensorMaps.copy(trainable);
      dp.broadcastTensors(best, "broadcast of the best epoch's tensors");
    }
    return new Resume(true, head[0], (int) head[1], Double.longBitsToDouble(head[2]), best);
  }

  private void checkpoint(long step, long epoch, Map<String, Tensor> trainable, Map<String, Tensor> best,
      int bestEpoch, double bestAcc) throws IOException {
    Path dir = config.checkpointDir();
    Files.createDirectories(dir);
    if (best != null) {
      Map<String, Tensor> saved = TensorMaps.copy(trainable);
      TensorMaps.assign(trainable, best);
      method.save(dir.resolve(BEST_FILE));
      TensorMaps.assign(trainable, saved);
      ObjectNode j = JSON.createObjectNode();
      j.put("checkpoint_step", step);
      j.put("epoch", bestEpoch);
      j.put("accuracy", bestAcc);
      byte[] text = JSON.writeValueAsBytes(j);
      AtomicFiles.write(dir.resolve(BEST_JSON), text);
    }
    // The loop keeps no random state of its own (batch order is a function of seed and epoch); the SplitMix64 slot
    // of the checkpoint holds the seed-derived stream for completeness.
    TrainingCheckpoint.save(dir, step, epoch, new SplitMix64(config.seed()), trainable, optimizer);
  }
}
