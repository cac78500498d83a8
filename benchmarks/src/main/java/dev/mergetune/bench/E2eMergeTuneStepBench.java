package dev.mergetune.bench;

import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.TrainableMethod;
import dev.mergetune.tune.AlphaPoints;
import dev.mergetune.tune.WeightSpaceMergeTune;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
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
 * One step of end-to-end fine-tuning at ViT-B/16 dimensions (random weights, float32, CPU; both towers forward and
 * backward on {@code batch} images [3, 224, 224] and {@code classes} prompts, label-smoothed CE, AdamW over every
 * parameter but logit_scale), plain and as weight-space MergeTune with N_α = {@code nAlpha} grid points, β = 0.5:
 *
 * <ul>
 *   <li>{@code plainStep}: the E2E step;
 *   <li>{@code mergeTuneBatchSplitStep}: the batch-split estimator (each α point on its own slice of the batch);
 *   <li>{@code mergeTuneExactStep}: every α point on the whole batch (N_α + 1 passes).
 * </ul>
 * The anchor (K2, folded into the optimizer step) is left out of all three: it is one pass over the weights.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class E2eMergeTuneStepBench {
  @State(Scope.Benchmark)
  public static class Step {
    @Param({"10"})
    public int classes;

    // 64: the E2E recipe's batch (README, training defaults). The ratio to a plain step falls with the batch, since
    // every α point re-encodes the prompts at its own weights (text tower) whatever its slice's size.
    @Param({"64"})
    public int batch;

    @Param({"5"})
    public int nAlpha;

    ClipModel model;
    Optimizers.Named optimizer;
    TrainableMethod plain;
    WeightSpaceMergeTune split;
    WeightSpaceMergeTune exact;
    int[] all;

    @Setup(Level.Trial)
    public void setUp() {
      NativeRuntime.ensureTorch();
      model = new ClipModel(ClipConfig.vitB16()).initialize(0);
      Map<String, Tensor> params = new LinkedHashMap<>();
      for (var e : model.stateDict().entrySet()) {
        boolean train = !e.getKey().equals("logit_scale");
        e.getValue().set_requires_grad(train);
        if (train) params.put(e.getKey(), e.getValue());
      }
      optimizer = Optimizers.adamW(Map.of("all", new ArrayList<>(params.values())),
          new Optimizers.AdamWConfig(1e-5, 0.9, 0.999, 1e-8, 0.0));
      torch.manual_seed(3);
      Tensor images = torch.randn(batch, 3, 224, 224);
      long[][] p = TrainStepBench.prompts(classes);
      long[] flat = new long[classes * TrainStepBench.CONTEXT];
      for (int c = 0; c < classes; c++) System.arraycopy(p[c], 0, flat, c * TrainStepBench.CONTEXT, TrainStepBench.CONTEXT);
      Tensor tokens = Tensor.create(flat, classes, TrainStepBench.CONTEXT);
      long[] y = new long[batch];
      for (int i = 0; i < batch; i++) y[i] = i % classes;
      Tensor labels = Tensor.create(y, batch);
      plain = new TrainableMethod() {
        @Override
        public Map<String, Tensor> trainable() {
          return params;
        }

        @Override
        public int trainSize() {
          return batch;
        }

        @Override
        public Tensor loss(int[] items, long epoch) {
          Tensor idx = Tensor.create(java.util.Arrays.stream(items).asLongStream().toArray(), items.length);
          Tensor logits = model.logitsPerImage(model.encodeImage(images.index_select(0, idx)), model.encodeText(tokens));
          return Losses.crossEntropy(logits, labels.index_select(0, idx), 0.2);
        }

        @Override
        public double evaluate() {
          return 0;
        }
      };
      Map<String, Tensor> w2 = new LinkedHashMap<>();
      try (NoGradGuard g = new NoGradGuard()) {
        for (var e : params.entrySet()) w2.put(e.getKey(), e.getValue().detach().mul(new Scalar(0.99)));
      }
      split = new WeightSpaceMergeTune(plain, w2, 0.5, AlphaPoints.grid(nAlpha), WeightSpaceMergeTune.Estimator.BATCH_SPLIT);
      exact = new WeightSpaceMergeTune(plain, w2, 0.5, AlphaPoints.grid(nAlpha), WeightSpaceMergeTune.Estimator.EXACT);
      all = TrainStepBench.all(batch);
    }

    double step(TrainableMethod m) {
      try (PointerScope scope = new PointerScope()) {
        optimizer.zeroGrad();
        Tensor loss = m.loss(all, 0);
        loss.backward();
        optimizer.step();
        return loss.item_double();
      }
    }
  }

  @Benchmark
  public double plainStep(Step s) {
    return s.step(s.plain);
  }

  @Benchmark
  public double mergeTuneBatchSplitStep(Step s) {
    return s.step(s.split);
  }

  @Benchmark
  public double mergeTuneExactStep(Step s) {
    return s.step(s.exact);
  }
}
