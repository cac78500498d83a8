package dev.mergetune.bench;

import dev.mergetune.adapt.CachedCoopMethod;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
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
 * One optimizer step of the training baselines at ViT-B/16 dimensions (random weights, float32, CPU), each in its own
 * PointerScope as {@code TrainingLoop} runs it:
 *
 * <ul>
 *   <li>{@code coopStepCachedFeatures}: CoOp (4 context vectors, {@code classes} prompts through the text tower,
 *       forward and backward, SGD) on {@code batch} cached image features — what {@code train --method coop} does;
 *   <li>{@code coopStepRecomputingFeatures}: the same step with the batch's images [3, 224, 224] encoded by the frozen
 *       image tower first (no gradient), as an image-level CoOp loop does every step;
 *   <li>{@code e2eStep}: end-to-end fine-tuning — both towers forward and backward on {@code e2eBatch} images and the
 *       {@code classes} prompts, label-smoothed cross-entropy, AdamW over every parameter but logit_scale.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TrainStepBench {
  static final int CONTEXT = 77;
  static final int N_CTX = 4;

  /** Prompts "SOS X X X X <class tokens> . EOS" with made-up token ids. */
  static long[][] prompts(int classes) {
    long[][] out = new long[classes][CONTEXT];
    for (int c = 0; c < classes; c++) {
      out[c][0] = 49406;
      for (int j = 1; j <= N_CTX; j++) out[c][j] = 343;
      out[c][N_CTX + 1] = 1000 + (c * 37) % 40000;
      out[c][N_CTX + 2] = 1000 + (c * 91 + 5) % 40000;
      out[c][N_CTX + 3] = 269;
      out[c][N_CTX + 4] = 49407;
    }
    return out;
  }

  static int[] all(int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return idx;
  }

  @State(Scope.Benchmark)
  public static class Coop {
    @Param({"10"})
    public int classes;

    @Param({"32"})
    public int batch;

    ClipModel model;
    CoopPromptLearner learner;
    CachedCoopMethod cached;
    Optimizers.Named optimizer;
    Tensor images;
    Tensor labels;

    @Setup(Level.Trial)
    public void setUp() {
      NativeRuntime.ensureTorch();
      model = new ClipModel(ClipConfig.vitB16()).initialize(0);
      torch.manual_seed(2);
      learner = new CoopPromptLearner(model, prompts(classes), torch.randn(N_CTX, 512).mul(
          new org.bytedeco.pytorch.Scalar(0.02)));
      images = torch.randn(batch, 3, 224, 224);
      long[] y = new long[batch];
      for (int i = 0; i < batch; i++) y[i] = i % classes;
      labels = Tensor.create(y, batch);
      Tensor features;
      try (NoGradGuard g = new NoGradGuard()) {
        features = model.encodeImage(images).detach().clone();
      }
      cached = CachedCoopMethod.coop(learner, CachedFeatures.of(features, y), null, 0.0);
      optimizer = Optimizers.sgd(Map.of("ctx", List.of(learner.context())),
          new Optimizers.SgdConfig(0.002, 0.9, 5e-4, false));
    }
  }

  @State(Scope.Benchmark)
  public static class EndToEnd {
    @Param({"10"})
    public int classes;

    @Param({"8"})
    public int e2eBatch;

    ClipModel model;
    Optimizers.Named optimizer;
    Tensor images;
    Tensor tokens;
    Tensor labels;

    @Setup(Level.Trial)
    public void setUp() {
      NativeRuntime.ensureTorch();
      model = new ClipModel(ClipConfig.vitB16()).initialize(0);
      List<Tensor> params = new ArrayList<>();
      for (var e : model.stateDict().entrySet()) {
        boolean train = !e.getKey().equals("logit_scale");
        e.getValue().set_requires_grad(train);
        if (train) params.add(e.getValue());
      }
      optimizer = Optimizers.adamW(Map.of("all", params), new Optimizers.AdamWConfig(1e-5, 0.9, 0.999, 1e-8, 0.0));
      torch.manual_seed(3);
      images = torch.randn(e2eBatch, 3, 224, 224);
      long[][] p = prompts(classes);
      long[] flat = new long[classes * CONTEXT];
      for (int c = 0; c < classes; c++) System.arraycopy(p[c], 0, flat, c * CONTEXT, CONTEXT);
      tokens = Tensor.create(flat, classes, CONTEXT);
      long[] y = new long[e2eBatch];
      for (int i = 0; i < e2eBatch; i++) y[i] = i % classes;
      labels = Tensor.create(y, e2eBatch);
    }
  }

  @Benchmark
  public double coopStepCachedFeatures(Coop s) {
    try (PointerScope scope = new PointerScope()) {
      s.optimizer.zeroGrad();
      Tensor loss = s.cached.loss(all(s.batch), 0);
      loss.backward();
      s.optimizer.step();
      return loss.item_double();
    }
  }

  @Benchmark
  public double coopStepRecomputingFeatures(Coop s) {
    try (PointerScope scope = new PointerScope()) {
      s.optimizer.zeroGrad();
      Tensor features;
      try (NoGradGuard g = new NoGradGuard()) {
        features = s.model.encodeImage(s.images);
      }
      Tensor loss = Losses.crossEntropy(s.learner.logits(features), s.labels, 0.0);
      loss.backward();
      s.optimizer.step();
      return loss.item_double();
    }
  }

  @Benchmark
  public double e2eStep(EndToEnd s) {
    try (PointerScope scope = new PointerScope()) {
      s.optimizer.zeroGrad();
      Tensor logits = s.model.logitsPerImage(s.model.encodeImage(s.images), s.model.encodeText(s.tokens));
      Tensor loss = Losses.crossEntropy(logits, s.labels, 0.2);
      loss.backward();
      s.optimizer.step();
      return loss.item_double();
    }
  }
}
