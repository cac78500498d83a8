package dev.mergetune.bench;

import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Pointer;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * K4a (task arithmetic / WiSE-FT) on the CPU against the same computation written three other ways, all in one
 * JVM so the ratios mean something:
 *
 * <ul>
 *   <li>{@code kernel}: our fused kernel, one call for the whole table, NaN check on (the default users get);
 *   <li>{@code libtorchOps}: the best allocation-free plain-LibTorch form per tensor — {@code lerp_out} for one
 *       model, else {@code mul_out(base, 1 − Σλ)} then {@code add_(model_i, λ_i)};
 *   <li>{@code javaLoop}: a plain single-threaded Java loop over heap arrays;
 *   <li>{@code copyMemcpy} / {@code copyLibTorch}: a plain copy of one parameter set (the bandwidth ceiling).
 * </ul>
 *
 * A parameter set of {@code megabytes} MB is split into {@link #SEGMENTS} tensors, like a small state dict. Bytes
 * moved per call: (models + 2)·size for the merges, 2·size for the copies ({@link BenchMain} turns times into GB/s).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class InterpolationBench {
  static final int SEGMENTS = 48;

  @Param({"64"})
  public int megabytes;

  @Param({"1", "4"})
  public int models;

  private final List<Tensor> baseTensors = new ArrayList<>();
  private final List<Tensor> outTensors = new ArrayList<>();
  private final List<List<Tensor>> modelTensors = new ArrayList<>();
  private SegmentTable out;
  private SegmentTable base;
  private List<SegmentTable> modelTables;
  private float[] lambdas;
  private Scalar baseWeight;
  private Scalar[] lambdaScalars;
  private float[][] baseArrays;
  private float[][] outArrays;
  private float[][][] modelArrays;  // [model][segment]

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    torch.manual_seed(0);
    long total = (long) megabytes << 18;  // floats
    long per = total / SEGMENTS;
    List<String> names = new ArrayList<>();
    for (int s = 0; s < SEGMENTS; s++) {
      names.add("blocks." + s + ".weight");
      Tensor b = torch.randn(per);
      b.retainReference();
      baseTensors.add(b);
      Tensor o = torch.zeros(per);
      o.retainReference();
      outTensors.add(o);
    }
    lambdas = new float[models];
    float sum = 0;
    lambdaScalars = new Scalar[models];
    for (int i = 0; i < models; i++) {
      List<Tensor> m = new ArrayList<>();
      for (int s = 0; s < SEGMENTS; s++) {
        Tensor t = baseTensors.get(s).add(torch.randn(per).mul_(new Scalar(0.01f)));
        t.retainReference();
        m.add(t);
      }
      modelTensors.add(m);
      lambdas[i] = 0.3f + 0.1f * i;
      sum += lambdas[i];
      lambdaScalars[i] = new Scalar(lambdas[i]);
    }
    baseWeight = new Scalar(1f - sum);
    base = SegmentTable.ofTensors(names, baseTensors);
    out = SegmentTable.ofTensors(names, outTensors);
    modelTables = new ArrayList<>();
    for (List<Tensor> m : modelTensors) modelTables.add(SegmentTable.ofTensors(names, m));

    baseArrays = toArrays(baseTensors);
    outArrays = toArrays(outTensors);
    modelArrays = new float[models][][];
    for (int i = 0; i < models; i++) modelArrays[i] = toArrays(modelTensors.get(i));
  }

  private static float[][] toArrays(List<Tensor> tensors) {
    float[][] a = new float[tensors.size()][];
    for (int s = 0; s < a.length; s++) {
      Tensor t = tensors.get(s);
      a[s] = new float[(int) t.numel()];
      t.data_ptr_float().get(a[s]);
    }
    return a;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : baseTensors) t.releaseReference();
    for (Tensor t : outTensors) t.releaseReference();
    for (List<Tensor> m : modelTensors) for (Tensor t : m) t.releaseReference();
  }

  @Benchmark
  public void kernel() {
    Interpolation.interpolate(out, base, modelTables, lambdas);
  }

  @Benchmark
  public void libtorchOps() {
    try (PointerScope scope = new PointerScope()) {
      for (int s = 0; s < SEGMENTS; s++) {
        Tensor o = outTensors.get(s);
        if (models == 1) {
          torch.lerp_out(o, baseTensors.get(s), modelTensors.get(0).get(s), lambdaScalars[0]);
        } else {
          torch.mul_out(o, baseTensors.get(s), baseWeight);
          for (int i = 0; i < models; i++) o.add_(modelTensors.get(i).get(s), lambdaScalars[i]);
        }
      }
    }
  }

  @Benchmark
  public void javaLoop() {
    for (int s = 0; s < baseArrays.length; s++) {
      float[] b = baseArrays[s];
      float[] o = outArrays[s];
      for (int j = 0; j < b.length; j++) {
        float bj = b[j];
        float acc = bj;
        for (int i = 0; i < models; i++) acc += lambdas[i] * (modelArrays[i][s][j] - bj);
        o[j] = acc;
      }
    }
  }

  @Benchmark
  public void copyMemcpy() {
    try (PointerScope scope = new PointerScope()) {
      for (int s = 0; s < SEGMENTS; s++) {
        Tensor b = baseTensors.get(s);
        Pointer.memcpy(outTensors.get(s).data_ptr(), b.data_ptr(), b.numel() * 4);
      }
    }
  }

  @Benchmark
  public void copyLibTorch() {
    try (PointerScope scope = new PointerScope()) {
      for (int s = 0; s < SEGMENTS; s++) outTensors.get(s).copy_(baseTensors.get(s));
    }
  }
}
