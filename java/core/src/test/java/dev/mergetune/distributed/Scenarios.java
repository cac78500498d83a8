package dev.mergetune.distributed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.adapt.CachedCoopMethod;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.ClipFineTuneMethod;
import dev.mergetune.adapt.CoopFixtures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.LinearProbe;
import dev.mergetune.adapt.LinearProbeMethod;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.RandomResizedCrop;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.ZeroShotAnchor;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.tensors.NamedTensors;
import dev.mergetune.train.ConstantWarmupCosine;
import dev.mergetune.train.LinearWarmupCosine;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.StepOptimizer;
import dev.mergetune.train.TensorMaps;
import dev.mergetune.train.TrainableMethod;
import dev.mergetune.train.TrainingLoop;
import dev.mergetune.tune.AlphaPoints;
import dev.mergetune.tune.AnchoredOptimizer;
import dev.mergetune.tune.WeightSpaceMergeTune;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Small training runs that a test runs once in one process and once data-parallel in worker JVMs
 * ({@link #main}: one rank, joined through torchrun's environment variables), each ending with the trained tensors in
 * {@code WORK/out-rankR.safetensors} and the loop's result in {@code WORK/result-rankR.json}.
 *
 * <ul>
 *   <li>{@code coop}: CoOp's prompt learner over cached features, SGD with momentum, Dassl's schedule, validation
 *       and best-epoch selection;
 *   <li>{@code e2e}: end-to-end fine-tuning of a tiny CLIP on generated images, random-resized crops, AdamW with
 *       warm-up and cosine decay;
 *   <li>{@code mergetune-weight}: MergeTune's weight space around a linear probe, α points sampled per step, the
 *       anchored AdamW (kernels K5, K2).
 * </ul>
 *
 * The global batch is {@link #globalBatch}; checkpoints go to {@code WORK/checkpoints} every 2 steps when
 * {@code CHECKPOINTS=1}. With {@code HANG_RANK=r} and {@code HANG_AT_CALL=k}, rank r writes {@code WORK/hanging} at its
 * k-th loss and waits there to be killed.
 */
public final class Scenarios {
  static final ObjectMapper JSON = new ObjectMapper();

  private Scenarios() {}

  record Run(TrainableMethod method, StepOptimizer optimizer, TrainingLoop.Config config) {}

  static int globalBatch(String name) {
    return switch (name) {
      case "coop" -> 12;
      case "e2e" -> 6;
      case "mergetune-weight" -> 12;
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** Writes the files a scenario reads (the e2e images); once, before any rank starts. */
  static void prepare(String name, Path work) throws IOException {
    if (name.equals("e2e")) {
      ProtocolFixtures.imageFolder(work.resolve("train"), List.of("blue", "green", "red"), 4, 3);
      ProtocolFixtures.imageFolder(work.resolve("val"), List.of("blue", "green", "red"), 2, 7);
    }
  }

  static Run build(String name, Path work, boolean checkpoints) {
    Path dir = checkpoints ? work.resolve("checkpoints") : null;
    long every = checkpoints ? 2 : 0;
    return switch (name) {
      case "coop" -> coop(dir, every);
      case "e2e" -> e2e(work, dir, every);
      case "mergetune-weight" -> mergeTuneWeight(dir, every);
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static Run coop(Path dir, long every) {
    ClipModel m = CoopFixtures.tinyClip();
    CoopPromptLearner learner = CoopFixtures.handMade(m);
    int d = m.config().embedDim();
    CachedFeatures train = CachedFeatures.of(randomRows(24, d, 5), labels(24, 4));
    CachedFeatures val = CachedFeatures.of(randomRows(10, d, 6), labels(10, 4));
    CachedCoopMethod method = CachedCoopMethod.coop(learner, train, val, 0.0);
    Map<String, List<Tensor>> groups = Map.of("ctx", List.of(learner.context()));
    Optimizers.Named opt = Optimizers.sgd(groups, new Optimizers.SgdConfig(0.05, 0.9, 5e-4, false));
    int batch = globalBatch("coop");
    return new Run(method, opt, new TrainingLoop.Config(4, batch, 42, new ConstantWarmupCosine(0.05, 1e-3, 1, 4),
        true, 0.0, true, true, every, dir, false));
  }

  private static Run e2e(Path work, Path dir, long every) {
    ClipModel m = new ClipModel(ProtocolFixtures.TINY).initialize(5);
    Dataset train = ImageFolderSource.read(work.resolve("train"));
    Dataset val = ImageFolderSource.read(work.resolve("val"));
    long[][] prompts = CoopFixtures.rows(CoopFixtures.A_PHOTO_OF_A, new long[][] {{1929}, {2368}, {7433}});
    long[] flat = new long[prompts.length * 77];
    for (int c = 0; c < prompts.length; c++) System.arraycopy(prompts[c], 0, flat, c * 77, 77);
    Tensor tokens = Tensor.create(flat, prompts.length, 77);
    ClipFineTuneMethod method = ClipFineTuneMethod.endToEnd(m, tokens, train, RandomResizedCrop.mtil(32, 9), val,
        ClipImageTransform.of(32), 0.2, 1, 4);
    Map<String, List<Tensor>> groups = Map.of("all", new ArrayList<>(method.trainable().values()));
    Optimizers.Named opt = Optimizers.adamW(groups, new Optimizers.AdamWConfig(1e-3, 0.9, 0.999, 1e-6, 0.01));
    int batch = globalBatch("e2e");
    return new Run(method, opt, new TrainingLoop.Config(0, 6, batch, 7, new LinearWarmupCosine(1e-3, 2, 6), false,
        1.0, true, true, every, dir, false));
  }

  private static Run mergeTuneWeight(Path dir, long every) {
    int c = 3;
    int d = 8;
    Random r = new Random(1);
    float[][] w = new float[c][d];
    for (float[] row : w) {
      double n = 0;
      for (int j = 0; j < d; j++) n += (row[j] = (float) r.nextGaussian()) * row[j];
      for (int j = 0; j < d; j++) row[j] /= (float) Math.sqrt(n);
    }
    LinearProbe probe = LinearProbe.fromZeroShot(new ZeroShotClassifier(List.of("a", "b", "c"), w, 20f), true);
    Map<String, Tensor> w1 = TensorMaps.copy(probe.parameters());
    Map<String, Tensor> w2 = new LinkedHashMap<>();
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(3);
      for (var e : w1.entrySet()) w2.put(e.getKey(), e.getValue().add(torch.randn_like(e.getValue()).mul(new Scalar(0.5))));
    }
    CachedFeatures train = CachedFeatures.of(randomRows(36, d, 7), labels(36, c));
    CachedFeatures val = CachedFeatures.of(randomRows(9, d, 8), labels(9, c));
    LinearProbeMethod inner = new LinearProbeMethod(probe, train, val, 0.1);
    WeightSpaceMergeTune m = new WeightSpaceMergeTune(inner, w2, 0.5, AlphaPoints.sampled(3, 11));
    m.startAt(w1, 0.7);
    AnchoredOptimizer opt = AnchoredOptimizer.adamW(m.trainable(), w1, 8.0,
        new ZeroShotAnchor.AdamW(0.01, 0.9, 0.999, 1e-8, 0.0));
    int batch = globalBatch("mergetune-weight");
    return new Run(m, opt, new TrainingLoop.Config(3, batch, 13, new LinearWarmupCosine(0.01, 2, 9), false, 0.0,
        true, true, every, dir, false));
  }

  static float[][] randomRows(int n, int d, long seed) {
    Random r = new Random(seed);
    float[][] f = new float[n][d];
    for (float[] row : f) for (int j = 0; j < d; j++) row[j] = (float) r.nextGaussian();
    return f;
  }

  static int[] labels(int n, int classes) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) y[i] = i % classes;
    return y;
  }

  /** Runs the scenario in {@code dp} and writes this rank's outputs. */
  static TrainingLoop.Result run(String name, Path work, boolean checkpoints, DataParallel dp, int rank)
      throws IOException {
    Run run = build(name, work, checkpoints);
    NamedTensors.save(work.resolve("init-rank" + rank + ".safetensors"), run.method().trainable(), Map.of());
    TrainableMethod method = hangIfAsked(run.method(), work, rank);
    TrainingLoop.Result r = new TrainingLoop(method, run.optimizer(), run.config()).dataParallel(dp).run();
    NamedTensors.save(work.resolve("out-rank" + rank + ".safetensors"), run.method().trainable(), Map.of());
    ObjectNode j = JSON.createObjectNode();
    j.put("steps", r.steps());
    j.put("best_epoch", r.bestEpoch());
    j.put("best_accuracy", r.bestAccuracy());
    j.put("last_loss", r.lastLoss());
    j.put("resumed", r.resumed());
    Files.writeString(work.resolve("result-rank" + rank + ".json"), JSON.writeValueAsString(j));
    return r;
  }

  private static TrainableMethod hangIfAsked(TrainableMethod m, Path work, int rank) {
    String hangRank = System.getenv("HANG_RANK");
    if (hangRank == null || Integer.parseInt(hangRank) != rank) return m;
    int at = Integer.parseInt(System.getenv("HANG_AT_CALL"));
    ShardedValidation v = (ShardedValidation) m;  // every rank must validate alike (the same collectives)
    return new Hanging() {
      int calls;

      @Override
      public Map<String, Tensor> trainable() {
        return m.trainable();
      }

      @Override
      public int trainSize() {
        return m.trainSize();
      }

      @Override
      public Tensor loss(int[] batch, long epoch) {
        return loss(batch, batch, epoch);
      }

      @Override
      public Tensor loss(int[] shard, int[] global, long epoch) {
        if (++calls == at) {
          try {
            Files.writeString(work.resolve("hanging"), Long.toString(ProcessHandle.current().pid()));
            Thread.sleep(600_000);  // until the test kills this process
          } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
        return m.loss(shard, global, epoch);
      }

      @Override
      public double evaluate() {
        return m.evaluate();
      }

      @Override
      public int validationSize() {
        return v.validationSize();
      }

      @Override
      public long correct(int from, int to) {
        return v.correct(from, to);
      }

      @Override
      public int validationBatch() {
        return v.validationBatch();
      }
    };
  }

  private interface Hanging extends TrainableMethod, ShardedValidation {}

  /** One rank: {@code Scenarios NAME WORK}, the job in RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT. */
  public static void main(String[] args) throws Exception {
    NativeRuntime.ensureTorch();
    torch.set_num_threads(1);
    String name = args[0];
    Path work = Path.of(args[1]);
    DistributedConfig c = DistributedConfig.fromEnvironment(System.getenv());
    C10dProcessGroup g;
    try {
      g = C10dProcessGroup.join(c, "scenario " + name, false);
    } catch (RuntimeException e) {
      System.err.println("rank " + c.rank() + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      run(name, work, "1".equals(System.getenv("CHECKPOINTS")), DataParallel.of(g, c.gradientSync()), c.rank());
      g.close();
    } catch (RuntimeException e) {
      System.err.println("rank " + c.rank() + " failed: " + e.getMessage());
      g.announceFailure(e.getMessage());
      System.exit(3);
    }
    System.exit(0);
  }
}
