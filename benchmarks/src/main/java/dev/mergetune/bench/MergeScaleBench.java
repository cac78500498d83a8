package dev.mergetune.bench;

import dev.mergetune.kernels.Dare;
import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.kernels.Ties;
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
 *       over the deltas) vs {@code signmaxLibTorch} (stack, sum → sign, masks, abs·max, the sums, as EMR's code does);
 *   <li>DARE (drop 0.9, rescale 1/(1 − p)) + task arithmetic: {@code dareKernel} (K4b: Philox masks, one pass) vs
 *       {@code dareLibTorch} (MergeLM's {@code torch.bernoulli(full_like(p))}, mask, divide, add, per tensor and task);
 *       {@code dareL1Kernel}: the same with the L1 rescale (a stats pass that keeps its masks, then the apply pass);
 *   <li>TIES: {@code tiesMergekitKernel} (K4c, mergekit preset: per-tensor exact top-k) vs {@code tiesMergekitLibTorch}
 *       (mergekit's code per tensor: topk of |τ|, mask, weighted sign consensus, divisor); {@code tiesPaperKernel}
 *       (paper preset: global trim, i.e. two histogram passes and a census pass before the merge pass) has no
 *       LibTorch row: the reference flattens all T task vectors into one [T, P] tensor and runs kthvalue on it,
 *       which needs several times T·P·4 bytes of temporaries (over 20 GB at T = 8 here).
 * </ul>
 *
 * GB/s counts the merge's floor, (T + 2)·P·4 bytes, for every version, whatever passes it makes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MergeScaleBench {
  @Param({"2", "8", "11"})
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
  private float[] ones;
  private final Dare.Options dare = Dare.Options.dropRate(0.9f, 42, Dare.Rescale.INVERSE);
  private final Dare.Options dareL1 = Dare.Options.dropRate(0.9f, 42, Dare.Rescale.L1);
  private final Ties.Options tiesMergekit = Ties.Options.mergekit().withLambda(0.3f);
  private final Ties.Options tiesPaper = Ties.Options.paper().withLambda(0.3f);

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
    ones = new float[tasks];
    Arrays.fill(ones, 1f);
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
  public void dareKernel() {
    Dare.merge(outTable, theta0Table, modelTables, lambdas, dare);
  }

  @Benchmark
  public void dareL1Kernel() {
    Dare.merge(outTable, theta0Table, modelTables, lambdas, dareL1);
  }

  @Benchmark
  public void dareLibTorch() {
    Scalar keep = new Scalar(1.0 - 0.9);
    for (int s = 0; s < theta0.size(); s++) {
      try (PointerScope scope = new PointerScope()) {
        Tensor o = out.get(s);
        Tensor b = theta0.get(s);
        o.copy_(b);
        for (int i = 0; i < tasks; i++) {
          Tensor delta = models.get(i).get(s).sub(b);
          Tensor mask = torch.bernoulli(torch.full_like(delta, new Scalar(0.9)));   // 1 = dropped
          o.add_(delta.mul_(mask.neg_().add_(new Scalar(1.0))).div_(keep), lambda);  // δ·(1 − mask)/(1 − p)
        }
      }
    }
  }

  @Benchmark
  public void tiesMergekitKernel() {
    Ties.merge(outTable, theta0Table, modelTables, ones, tiesMergekit);
  }

  @Benchmark
  public void tiesPaperKernel() {
    Ties.merge(outTable, theta0Table, modelTables, ones, tiesPaper);
  }

  @Benchmark
  public void tiesMergekitLibTorch() {
    for (int s = 0; s < theta0.size(); s++) {
      try (PointerScope scope = new PointerScope()) {
        Tensor b = theta0.get(s);
        long n = b.numel();
        long k = (long) Math.floor(0.2 * n);
        TensorVector parts = new TensorVector();
        for (int i = 0; i < tasks; i++) {
          Tensor delta = models.get(i).get(s).sub(b);
          Tensor mask = torch.zeros_like(delta);
          if (k > 0) mask.view(-1).index_fill_(0, torch.topk(delta.abs().view(-1), k).get1(), new Scalar(1.0));
          parts.push_back(delta.mul_(mask));
        }
        Tensor d = torch.stack(parts);                                   // weights 1: weighted = deltas
        Tensor majority = d.sum(0).ge(new Scalar(0.0)).to(torch.ScalarType.Float).mul_(new Scalar(2.0)).sub_(new Scalar(1.0));
        Tensor agree = d.sign().eq(majority);
        Tensor mixed = d.mul(agree).sum(new long[] {0});
        Tensor divisor = agree.to(torch.ScalarType.Float).sum(new long[] {0});
        divisor.masked_fill_(divisor.eq(new Scalar(0.0)), new Scalar(1.0));
        out.get(s).copy_(b.add(mixed.div_(divisor), lambda));
      }
    }
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
