package dev.mergetune.bench;

import dev.mergetune.adapt.CachedCoopMethod;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainableMethod;
import dev.mergetune.tune.AlphaPoints;
import dev.mergetune.tune.FeatureSpaceMergeTune;
import dev.mergetune.tune.FusedPathLoss;
import dev.mergetune.tune.NaivePathLoss;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
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

/**
 * One CoOp-family training step at ViT-B/16 text dimensions on {@code batch} cached image features and
 * {@code classes} prompts (4 context vectors; SGD), each in its own PointerScope:
 *
 * <ul>
 *   <li>{@code coopStep}: plain CoOp (CE);
 *   <li>{@code mergeTuneFused}: MergeTune's reference-code objective (CE + λ anchor + β path over N_α = 5 points) with
 *       the path term in the fused K1 kernel — one text-encoder pass;
 *   <li>{@code mergeTuneNaiveSharedText}: the same objective with the path term as K mixed classifiers of LibTorch
 *       ops (one text-encoder pass shared by the three terms) — isolates what K1 saves on the logits;
 *   <li>{@code mergeTuneReferenceLoop}: the reference code's structure on cached image features — the text encoder
 *       run for each of the three terms (CE, anchor, path) and the K mixed classifiers of LibTorch ops;
 *   <li>{@code mergeTuneReferenceLoopWithImages}: the reference code's structure in full (methods.md §1.2): the
 *       batch's images [3, 224, 224] also re-encoded by the frozen image tower N_α + 1 times (once for the CE term,
 *       once per α), three text passes, the K mixed classifiers.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MergeTuneStepBench {
  /** C = 500: {@code -p classes=500} (a step takes minutes on a 2-core CPU). */
  @Param({"50", "100", "200"})
  public int classes;

  @Param({"32"})
  public int batch;

  static final int N_ALPHA = 5;
  static final double LAMBDA = 10;
  static final double BETA = 1;

  private CoopPromptLearner learner;
  private Optimizers.Named optimizer;
  private TrainableMethod coop;
  private TrainableMethod fused;
  private TrainableMethod naive;
  private CachedFeatures features;
  private Tensor g;
  private Tensor z;
  private int[] all;
  private ClipModel model;
  private Tensor images;

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    model = new ClipModel(ClipConfig.vitB16()).initialize(0);
    torch.manual_seed(2);
    learner = new CoopPromptLearner(model, TrainStepBench.prompts(classes),
        torch.randn(TrainStepBench.N_CTX, 512).mul(new Scalar(0.02)));
    images = torch.randn(batch, 3, 224, 224);
    Tensor f = torch.randn(batch, 512);
    long[] y = new long[batch];
    for (int i = 0; i < batch; i++) y[i] = i % classes;
    features = CachedFeatures.of(f, y);
    try (NoGradGuard ng = new NoGradGuard()) {
      z = ClipModel.normalize(learner.textFeatures().add(torch.randn(classes, 512).mul(new Scalar(0.01)))).clone();
    }
    coop = CachedCoopMethod.coop(learner, features, null, 0.0);
    fused = new FeatureSpaceMergeTune(learner, z, features, null, LAMBDA, BETA, AlphaPoints.grid(N_ALPHA),
        new FusedPathLoss(), 0.0);
    naive = new FeatureSpaceMergeTune(learner, z, features, null, LAMBDA, BETA, AlphaPoints.grid(N_ALPHA),
        new NaivePathLoss(), 0.0);
    try (NoGradGuard ng = new NoGradGuard()) {
      g = learner.textFeatures().detach().clone();
    }
    optimizer = Optimizers.sgd(Map.of("ctx", List.of(learner.context())),
        new Optimizers.SgdConfig(1e-6, 0.9, 5e-4, false));  // tiny steps: the context stays where it starts
    all = new int[batch];
    for (int i = 0; i < batch; i++) all[i] = i;
  }

  private double step(TrainableMethod m) {
    try (PointerScope scope = new PointerScope()) {
      optimizer.zeroGrad();
      Tensor loss = m.loss(all, 0);
      loss.backward();
      optimizer.step();
      return loss.item_double();
    }
  }

  @Benchmark
  public double coopStep() {
    return step(coop);
  }

  @Benchmark
  public double mergeTuneFused() {
    return step(fused);
  }

  @Benchmark
  public double mergeTuneNaiveSharedText() {
    return step(naive);
  }

  @Benchmark
  public double mergeTuneReferenceLoop() {
    try (PointerScope scope = new PointerScope()) {
      optimizer.zeroGrad();
      Tensor vhat = features.batch(all, 0);
      Tensor y = features.batchLabels(all);
      double s = learner.model().logitScaleExp().item_double();
      Tensor ce = Losses.crossEntropy(vhat.matmul(ClipModel.normalize(learner.textFeatures()).t())
          .mul(new Scalar(s)), y, 0.0);
      Tensor cos = ClipModel.normalize(learner.textFeatures()).mul(z).sum(new long[] {1}, false,
          new ScalarTypeOptional());
      Tensor anchor = cos.mean().neg().add(new Scalar(1.0)).mul(new Scalar(LAMBDA));
      Tensor path = new NaivePathLoss().loss(vhat, learner.textFeatures(), g, y, s,
          AlphaPoints.grid(N_ALPHA).alphas(0, all), scaled(AlphaPoints.grid(N_ALPHA).weights()), 0.0);
      Tensor loss = ce.add(anchor).add(path);
      loss.backward();
      optimizer.step();
      return loss.item_double();
    }
  }

  @Benchmark
  public double mergeTuneReferenceLoopWithImages() {
    try (PointerScope scope = new PointerScope()) {
      optimizer.zeroGrad();
      Tensor y = features.batchLabels(all);
      double s = learner.model().logitScaleExp().item_double();
      Tensor ce = Losses.crossEntropy(encode().matmul(ClipModel.normalize(learner.textFeatures()).t())
          .mul(new Scalar(s)), y, 0.0);
      Tensor cos = ClipModel.normalize(learner.textFeatures()).mul(z).sum(new long[] {1}, false,
          new ScalarTypeOptional());
      Tensor loss = ce.add(cos.mean().neg().add(new Scalar(1.0)).mul(new Scalar(LAMBDA)));
      Tensor fw = learner.textFeatures();
      double[] alphas = AlphaPoints.grid(N_ALPHA).alphas(0, all);
      double[] w = scaled(AlphaPoints.grid(N_ALPHA).weights());
      for (int k = 0; k < alphas.length; k++) {  // the reference encodes the images again for every α
        loss = loss.add(new NaivePathLoss().loss(encode(), fw, g, y, s, new double[] {alphas[k]},
            new double[] {w[k]}, 0.0));
      }
      loss.backward();
      optimizer.step();
      return loss.item_double();
    }
  }

  /** The frozen image tower on the batch, normalised (no gradient). */
  private Tensor encode() {
    try (NoGradGuard ng = new NoGradGuard()) {
      return ClipModel.normalize(model.encodeImage(images));
    }
  }

  private static double[] scaled(double[] w) {
    for (int i = 0; i < w.length; i++) w[i] *= BETA;
    return w;
  }
}
