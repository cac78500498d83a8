package dev.mergetune.bench;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
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
 * Merges at CLIP ViT-B/16 scale (149.6M float32 parameters in the real tensor layout, {@link
 * SyntheticCheckpoints#vitB16Layout}) over T task vectors, each against the same merge written with plain
 * LibTorch ops per tensor as the reference repositories write it, and against a copy of one parameter set.
 *
 * <ul>
 *   <li>task arithmetic: θ0 + λ·Σ τ_i — {@code taKernel} (K4a, one call) vs {@code taLibTorch}
 *       ({@code out.copy_(θ0); out.add_(θ_i − θ0, λ)} per task, as FusionBench/mergekit do);
 *   <li>sign-consistent max unify (ConDU/EMR): {@code signmaxKernel} (K3: U, bit masks, rescaler sums in one pass
 *       over the deltas) vs {@code signmaxLibTorch} (stack, sum → sign, masks, abs·max, the sums, as EMR's code does).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MergeScaleBench {
  @Param({"2", "8"})
  public int tasks;

  private final List<Tensor> theta0 = new ArrayList<>();
  private final List<Tensor> out = new ArrayList<>();
  private final List<List<Tensor>> deltas = new ArrayList<>();   // τ_i per tensor
  private final List<List<Tensor>> models = new ArrayList<>();   // θ_i = θ0 + τ_i per tensor
  private SegmentTable theta0Table;
  private SegmentTable outTable;
  private final List<SegmentTable> modelTables = new ArrayList<>();
  private final List<SegmentTable> deltaTables = new ArrayList<>();
  private TaskMasks masks;
  private float[] lambdas;
  private Scalar lambda;
  private long parameters;

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    torch.manual_seed(0);
    List<String> names = new ArrayList<>();
    for (SyntheticCheckpoints.Spec spec : SyntheticCheckpoints.vitB16Layout()) {
      names.add(spec.name());
      long[] shape = spec.shape().length == 0 ? new long[] {1} : spec.shape();
      Tensor t = torch.randn(shape).mul_(new Scalar(0.02f));
      theta0.add(t);
      out.add(torch.zeros_like(t));
      parameters += t.numel();
    }
    for (int i = 0; i < tasks; i++) {
      List<Tensor> d = new ArrayList<>();
      List<Tensor> m = new ArrayList<>();
      for (Tensor t : theta0) {
        Tensor delta = torch.randn(t.sizes().vec().get()).mul_(new Scalar(0.001f));
        d.add(delta);
        m.add(t.add(delta));
      }
      deltas.add(d);
      models.add(m);
    }
    theta0Table = SegmentTable.ofTensors(names, theta0);
    outTable = SegmentTable.ofTensors(names, out);
    for (int i = 0; i < tasks; i++) {
      modelTables.add(SegmentTable.ofTensors(names, models.get(i)));
      deltaTables.add(SegmentTable.ofTensors(names, deltas.get(i)));
    }
    masks = new TaskMasks(DeviceKind.CPU, theta0Table.lengths(), tasks);
    lambdas = new float[tasks];
    Arrays.fill(lambdas, 0.3f);
    lambda = new Scalar(0.3f);
  }

  /** Parameters in one set, for the bytes-moved arithmetic. */
  public long parameters() {
    return parameters;
  }

  @Benchmark
  public void taKernel() {
    Interpolation.interpolate(outTable, theta0Table, modelTables, lambdas);
  }

  @Benchmark
  public void taLibTorch() {
    for (int s = 0; s < theta0.size(); s++) {
      try (PointerScope scope = new PointerScope()) {  // per tensor: temporaries are freed as the loop goes
        Tensor o = out.get(s);
        Tensor b = theta0.get(s);
        o.copy_(b);
        for (int i = 0; i < tasks; i++) o.add_(models.get(i).get(s).sub(b), lambda);
      }
    }
  }

  @Benchmark
  public SignConsistentMax.Triggers signmaxKernel() {
    return SignConsistentMax.unify(outTable, masks, null, deltaTables);
  }

  @Benchmark
  public double signmaxLibTorch() {
    double check = 0;
    for (int s = 0; s < theta0.size(); s++) {
      try (PointerScope scope = new PointerScope()) {  // per tensor: temporaries are freed as the loop goes
        TensorVector parts = new TensorVector();
        for (int i = 0; i < tasks; i++) parts.push_back(deltas.get(i).get(s));
        Tensor d = torch.stack(parts);                                     // [T, n]
        Tensor flag = torch.where(d.sum(0).gt(new Scalar(0f)), torch.ones_like(out.get(s)), torch.ones_like(out.get(s)).neg());
        Tensor mask = d.mul(flag).gt(new Scalar(0f));                      // [T, n] bool
        Tensor u = d.mul(mask).abs().amax(new long[] {0}, false).mul(flag);       // [n]
        out.get(s).copy_(u);
        Tensor sumDelta = d.abs().sum(new long[] {1});                     // [T]
        Tensor sumMasked = mask.mul(u).abs().sum(new long[] {1});          // [T]
        check += sumDelta.sum().item_double() + sumMasked.sum().item_double();
      }
    }
    return check;
  }

  @Benchmark
  public void copyLibTorch() {
    for (int s = 0; s < theta0.size(); s++) {
      try (PointerScope scope = new PointerScope()) {
        out.get(s).copy_(theta0.get(s));
      }
    }
  }
}
