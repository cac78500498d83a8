package dev.mergetune.bench;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Gta;
import dev.mergetune.kernels.NativeRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BytePointer;
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
 * mergekit's GTA methods (gta.h) at CLIP ViT-B/16 scale (149.6M float32 parameters in the real tensor layout,
 * {@link SyntheticCheckpoints#vitB16Layout}) over T models, tensor by tensor as the streaming merge calls them,
 * against a same-run copy of one parameter set:
 *
 * <ul>
 *   <li>{@code taGta}: task arithmetic (no masks, no election): the one pass alone;
 *   <li>{@code tiesApplyGta}: the sign-elected, normalised pass with masks already made (the apply pass of ties,
 *       dare_ties, breadcrumbs_ties, della);
 *   <li>{@code dareLinearGta} / {@code dareTiesGta}: DARE Philox masks (no tensor read) + the one pass, no rescale;
 *   <li>{@code dareTiesRescaleGta}: the same with mergekit's default L1 rescale (a sums pass over δ per model);
 *   <li>{@code breadcrumbsGta}: the breadcrumbs selection (nth_element per tensor and model) + the pass;
 *   <li>{@code dellaGta}: DELLA's row ranks (a sort per row) + Philox + the pass.
 * </ul>
 *
 * GB/s counts the floor (T + 2)·P·4 bytes for every row, whatever passes it makes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GtaScaleBench {
  @Param({"2", "8"})
  public int tasks;

  private final List<String> names = new ArrayList<>();
  private final List<long[]> shapes = new ArrayList<>();
  private final List<Tensor> theta0 = new ArrayList<>();
  private final List<Tensor> out = new ArrayList<>();
  private final List<List<Tensor>> models = new ArrayList<>();
  private long[] base;
  private long[] outs;
  private long[][] modelAddresses;   // [tensor][model]
  private long[][] maskAddresses;    // [tensor][model], precomputed magnitude masks (density 0.2)
  private final List<ByteBuffer> masks = new ArrayList<>();
  private static final long kMinSparsified = 64;
  private float[] coefs;
  private float[] weights;

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    NativeRuntime.ensureLoaded();
    torch.manual_seed(0);
    for (SyntheticCheckpoints.Spec spec : SyntheticCheckpoints.vitB16Layout()) {
      long[] shape = spec.shape().length == 0 ? new long[] {1} : spec.shape();
      names.add(spec.name());
      shapes.add(shape);
      Tensor t = torch.randn(shape).mul_(new Scalar(0.02f));
      theta0.add(t);
      out.add(torch.zeros_like(t));
    }
    for (int i = 0; i < tasks; i++) {
      List<Tensor> m = new ArrayList<>();
      for (Tensor t : theta0) m.add(t.add(torch.randn(t.sizes().vec().get()).mul_(new Scalar(0.001f))));
      models.add(m);
    }
    int s = names.size();
    base = new long[s];
    outs = new long[s];
    modelAddresses = new long[s][tasks];
    maskAddresses = new long[s][tasks];
    for (int k = 0; k < s; k++) {
      base[k] = theta0.get(k).data_ptr().address();
      outs[k] = out.get(k).data_ptr().address();
      for (int i = 0; i < tasks; i++) {
        modelAddresses[k][i] = models.get(i).get(k).data_ptr().address();
        ByteBuffer mask = ByteBuffer.allocateDirect((int) ((theta0.get(k).numel() + 31) / 32 * 4)).order(ByteOrder.LITTLE_ENDIAN);
        masks.add(mask);
        maskAddresses[k][i] = new BytePointer(mask).address();
        if (theta0.get(k).numel() < kMinSparsified) {  // logit_scale and the like: every element kept
          for (int b = 0; b < mask.capacity(); b++) mask.put(b, (byte) 0xff);
        } else {
          Gta.sparsify(names.get(k), shapes.get(k), base[k], modelAddresses[k][i], i, Gta.Sparsification.MAGNITUDE,
              0.2, 0, 0, maskAddresses[k][i], false);
        }
      }
    }
    coefs = new float[tasks];
    weights = new float[tasks];
    Arrays.fill(coefs, 0.3f);
    Arrays.fill(weights, 0.3f);
  }

  private void apply(int k, long[] bits, Gta.Consensus consensus, boolean normalize) {
    Gta.apply(DeviceKind.CPU, names.get(k), theta0.get(k).numel(), outs[k], base[k], modelAddresses[k], bits, coefs,
        weights, consensus, normalize, 0.3f * tasks, 1f);
  }

  private void sparsifyAndApply(Gta.Sparsification method, double density, double param, boolean rescale,
      Gta.Consensus consensus, boolean normalize) {
    for (int k = 0; k < names.size(); k++) {
      long n = theta0.get(k).numel();
      for (int i = 0; i < tasks && n >= kMinSparsified; i++) {
        double[] sums = Gta.sparsify(names.get(k), shapes.get(k), base[k], modelAddresses[k][i], i, method, density,
            param, 7, maskAddresses[k][i], rescale);
        coefs[i] = rescale && sums[1] >= 1e-7 ? (float) (0.3 * sums[0] / sums[1]) : 0.3f;
      }
      apply(k, maskAddresses[k], consensus, normalize);
    }
  }

  @Benchmark
  public void taGta() {
    for (int k = 0; k < names.size(); k++) apply(k, null, Gta.Consensus.NONE, false);
  }

  @Benchmark
  public void tiesApplyGta() {
    for (int k = 0; k < names.size(); k++) apply(k, maskAddresses[k], Gta.Consensus.SUM, true);
  }

  @Benchmark
  public void dareLinearGta() {
    sparsifyAndApply(Gta.Sparsification.RANDOM, 0.1, 0, false, Gta.Consensus.NONE, false);
  }

  @Benchmark
  public void dareTiesGta() {
    sparsifyAndApply(Gta.Sparsification.RANDOM, 0.1, 0, false, Gta.Consensus.SUM, false);
  }

  @Benchmark
  public void dareTiesRescaleGta() {
    sparsifyAndApply(Gta.Sparsification.RANDOM, 0.1, 0, true, Gta.Consensus.SUM, false);
  }

  @Benchmark
  public void breadcrumbsGta() {
    sparsifyAndApply(Gta.Sparsification.OUTLIERS, 0.2, 0.01, false, Gta.Consensus.NONE, false);
  }

  @Benchmark
  public void dellaGta() {
    sparsifyAndApply(Gta.Sparsification.DELLA, 0.2, 0.1, true, Gta.Consensus.SUM, true);
  }

  @Benchmark
  public void copyLibTorch() {
    for (int k = 0; k < theta0.size(); k++) {
      try (PointerScope scope = new PointerScope()) {
        out.get(k).copy_(theta0.get(k));
      }
    }
  }
}
