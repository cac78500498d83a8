package dev.mergetune.bench;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tune.AlphaPoints;
import dev.mergetune.tune.FusedPathLoss;
import dev.mergetune.tune.NaivePathLoss;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
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
 * MergeTune's feature-space path term alone — forward and backward into the class features F [C, 512] (a leaf
 * standing for the text encoder's output) on {@code batch} cached image features, N_α = 5 — through the fused K1
 * kernel against K mixed classifiers of LibTorch ops. This is the part of a MergeTune step that grows with C and
 * N_α; the text encoder (the rest) is the same in both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PathTermBench {
  @Param({"50", "500"})
  public int classes;

  @Param({"32"})
  public int batch;

  private Tensor vhat;
  private Tensor f;
  private Tensor g;
  private Tensor labels;
  private final double[] alphas = AlphaPoints.grid(5).alphas(0, new int[0]);
  private final double[] weights = AlphaPoints.grid(5).weights();
  private final FusedPathLoss fused = new FusedPathLoss();
  private final NaivePathLoss naive = new NaivePathLoss();

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    torch.manual_seed(4);
    vhat = ClipModel.normalize(torch.randn(batch, 512));
    g = torch.randn(classes, 512);
    f = g.add(torch.randn(classes, 512).mul(new Scalar(0.1))).set_requires_grad(true);
    long[] y = new long[batch];
    for (int i = 0; i < batch; i++) y[i] = i % classes;
    labels = Tensor.create(y, batch);
  }

  private double run(boolean k1) {
    try (PointerScope scope = new PointerScope()) {
      Tensor grad = f.grad();
      if (grad.defined()) grad.zero_();
      Tensor loss = (k1 ? fused : naive).loss(vhat, f, g, labels, 100.0, alphas, weights, 0.0);
      loss.backward();
      return loss.item_double();
    }
  }

  @Benchmark
  public double fusedK1() {
    return run(true);
  }

  @Benchmark
  public double naiveLoop() {
    return run(false);
  }
}
