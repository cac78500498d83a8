package dev.mergetune.bench;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.merge.EmrMerge;
import dev.mergetune.merge.TensorOp;
import dev.mergetune.merge.mergekit.AngleMerge;
import dev.mergetune.merge.mergekit.GtaMerge;
import dev.mergetune.merge.mergekit.GtaMethod;
import dev.mergetune.merge.mergekit.GtaSettings;
import dev.mergetune.merge.mergekit.ParameterSetting;
import dev.mergetune.merge.mergekit.SphereMerge;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * The merges the `merge` command runs as a {@link TensorOp} (the production objects, tensor by tensor, statistics
 * passes first, exactly as {@code StreamingMerge} drives them, without the file I/O) at CLIP ViT-B/16 scale
 * (149.6M float32 parameters in the real layout, {@link SyntheticCheckpoints#vitB16Layout}), against a same-run copy
 * of one parameter set:
 *
 * <ul>
 *   <li>{@code linear} (normalised weighted mean, no base), {@code task_arithmetic} (GTA kernel, one pass);
 *   <li>{@code slerp} (base + model 0, t = 0.4) and {@code model_stock}: a Gram pass per tensor, then one
 *       combination ({@link AngleMerge});
 *   <li>{@code nuslerp} (models 0 and 1 with the base: slerp of their deltas) and {@code multislerp} (all T models
 *       with the base), {@link SphereMerge};
 *   <li>{@code emr}: the unified delta U and its bit masks (K3 in one pass); {@code emr_expert}: expert 0, a
 *       statistics pass (the rescalers) and then the unify again plus the decouple ({@link EmrMerge}).
 * </ul>
 *
 * The floor differs by method (how many inputs it reads): {@link #inputsRead} gives it; fraction of copy =
 * (copy ms / row ms)·(inputs read + 1)/2.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TensorOpScaleBench {
  /** The parameter set: θ0 and T models θ0 + N(0, 0.001²), one output buffer per tensor. */
  @State(Scope.Benchmark)
  public static class Inputs {
    @Param({"2", "8"})
    public int tasks;

    final List<String> names = new ArrayList<>();
    final Map<String, long[]> shapes = new HashMap<>();
    final List<Tensor> theta0 = new ArrayList<>();
    final List<Tensor> out = new ArrayList<>();
    final List<List<Tensor>> models = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
      NativeRuntime.ensureTorch();
      torch.manual_seed(0);
      for (SyntheticCheckpoints.Spec spec : SyntheticCheckpoints.vitB16Layout()) {
        long[] shape = spec.shape().length == 0 ? new long[] {1} : spec.shape();
        names.add(spec.name());
        shapes.put(spec.name(), shape);
        Tensor t = torch.randn(shape).mul_(new Scalar(0.02f));
        theta0.add(t);
        out.add(torch.zeros_like(t));
      }
      for (int i = 0; i < tasks; i++) {
        List<Tensor> m = new ArrayList<>();
        for (Tensor t : theta0) m.add(t.add(torch.randn(t.sizes().vec().get()).mul_(new Scalar(0.001f))));
        models.add(m);
      }
    }
  }

  /** One method: the models it reads and a factory for its op (a fresh op per call: ops keep per-run statistics). */
  @State(Scope.Benchmark)
  public static class Method {
    @Param({"linear", "task_arithmetic", "slerp", "model_stock", "nuslerp", "multislerp", "emr", "emr_expert"})
    public String method;

    int used;
    long[] base;
    long[] outs;
    long[][] modelAddresses;  // [tensor][model used]

    @Setup(Level.Trial)
    public void setUp(Inputs in) {
      used = modelsUsed(method, in.tasks);
      int s = in.names.size();
      base = new long[s];
      outs = new long[s];
      modelAddresses = new long[s][used];
      for (int k = 0; k < s; k++) {
        base[k] = in.theta0.get(k).data_ptr().address();
        outs[k] = in.out.get(k).data_ptr().address();
        for (int i = 0; i < used; i++) modelAddresses[k][i] = in.models.get(i).get(k).data_ptr().address();
      }
      op(in).method();  // fails the trial now if the settings are wrong
    }

    TensorOp op(Inputs in) {
      if (method.equals("emr")) return new EmrMerge(used, null);
      if (method.equals("emr_expert")) return new EmrMerge(used, 0);
      GtaMethod m = GtaMethod.valueOf(method.toUpperCase(java.util.Locale.ROOT));
      Map<String, ParameterSetting> global = new HashMap<>();
      if (m == GtaMethod.SLERP) global.put("t", new ParameterSetting.Scalar(0.4));
      List<Map<String, ParameterSetting>> perModel = new ArrayList<>();
      for (int i = 0; i < used; i++) {
        Map<String, ParameterSetting> p = new HashMap<>();
        if (m != GtaMethod.SLERP && m != GtaMethod.MODEL_STOCK) p.put("weight", new ParameterSetting.Scalar(0.3 + 0.1 * i));
        perModel.add(p);
      }
      GtaSettings settings = new GtaSettings(m, global, perModel, "TensorOpScaleBench");
      if (m.isSphere()) return new SphereMerge(settings, true, in.shapes);
      if (m.isAngle()) return new AngleMerge(settings);
      return new GtaMerge(settings, in.shapes, 7);
    }

    boolean readsBase() {
      return !method.equals("linear");
    }
  }

  /** Models a method reads out of the T made: slerp one, nuslerp two, the others all. */
  static int modelsUsed(String method, int tasks) {
    return switch (method) {
      case "slerp" -> 1;
      case "nuslerp" -> 2;
      default -> tasks;
    };
  }

  /** Parameter sets one call must read at least once (the models it uses, and the base unless linear). */
  static int inputsRead(String method, int tasks) {
    return modelsUsed(method, tasks) + (method.equals("linear") ? 0 : 1);
  }

  @Benchmark
  public void merge(Inputs in, Method m) {
    TensorOp op = m.op(in);
    int s = in.names.size();
    long noBase = 0;
    for (int pass = 0; pass < op.statisticsPasses(); pass++) {
      for (int k = 0; k < s; k++) {
        op.observe(pass, in.names.get(k), in.theta0.get(k).numel(), m.readsBase() ? m.base[k] : noBase,
            m.modelAddresses[k]);
      }
      op.endPass(pass);
    }
    for (int k = 0; k < s; k++) {
      op.apply(in.names.get(k), in.theta0.get(k).numel(), m.readsBase() ? m.base[k] : noBase, m.modelAddresses[k],
          new long[] {m.outs[k]});
    }
  }

  @Benchmark
  public void copyLibTorch(Inputs in) {
    for (int k = 0; k < in.theta0.size(); k++) {
      try (PointerScope scope = new PointerScope()) {
        in.out.get(k).copy_(in.theta0.get(k));
      }
    }
  }
}
