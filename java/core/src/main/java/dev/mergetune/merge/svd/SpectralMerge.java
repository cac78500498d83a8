package dev.mergetune.merge.svd;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.merge.TensorOp;
import dev.mergetune.tensors.NameFilter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The streaming side of the per-layer SVD merges (TSV-M, Iso-C, Iso-CTS): for each tensor, the task vectors
 * τ_i = θ_i − θ0 (fp32), a merged delta Δ — by the method's SVD rule for a 2-D tensor whose name no
 * {@code svdExclude} glob matches, else by its averaging rule — and one output per scale α_k:
 *
 * <pre>
 *   out_k = θ0 + α_k · Δ            (FusionBench: state_dict_add(θ0, state_dict_mul(Δ, α)))
 * </pre>
 *
 * Δ is computed once per tensor for every α (a sweep costs one SVD pass). Everything runs through LibTorch in
 * float32, the dtype FusionBench's code computes in for float32 checkpoints (it widens half types to float32 too).
 */
public abstract class SpectralMerge implements TensorOp {
  private final Map<String, long[]> shapes;
  private final float[] scales;
  private final List<String> svdExclude;
  private final NameFilter plain;

  protected SpectralMerge(Map<String, long[]> shapes, float[] scales, List<String> svdExclude) {
    if (scales.length == 0) throw new IllegalArgumentException("no scale given");
    this.shapes = shapes;
    this.scales = scales.clone();
    this.svdExclude = List.copyOf(svdExclude);
    this.plain = NameFilter.of(List.of(), this.svdExclude);
    NativeRuntime.ensureTorch();
  }

  /** Δ of one 2-D tensor from the task vectors (each m×n, fp32). */
  protected abstract Tensor matrixDelta(String tensor, Tensor[] taus);

  /** Δ of a tensor the SVD rule does not take (not 2-D, or excluded) from the flattened task vectors. */
  protected abstract Tensor plainDelta(Tensor[] taus);

  /** The method's own parameters for the output metadata (besides the scale). */
  protected abstract Map<String, String> methodParameters();

  /** Task vector i (fp32, flattened or m×n) before the merge rule: a hook for per-task weights. */
  protected Tensor taskVector(int task, Tensor tau) {
    return tau;
  }

  /** Whether the SVD rule takes this tensor: 2-D, both sides at least 1, and not excluded. */
  public boolean takesSvd(String tensor) {
    long[] shape = shape(tensor);
    return shape.length == 2 && shape[0] > 0 && shape[1] > 0 && plain.test(tensor);
  }

  private long[] shape(String tensor) {
    long[] s = shapes.get(tensor);
    if (s == null) throw new IllegalStateException("no shape recorded for tensor '" + tensor + "'");
    return s;
  }

  @Override
  public boolean needsBase() {
    return true;
  }

  @Override
  public int outputs() {
    return scales.length;
  }

  @Override
  public Map<String, String> parameters(int output) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("scale", String.format(Locale.ROOT, "%s", scales[output]));
    m.putAll(methodParameters());
    if (!svdExclude.isEmpty()) m.put("svd_exclude", String.join(",", svdExclude));
    return m;
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    try (PointerScope scope = new PointerScope()) {
      boolean matrix = takesSvd(tensor);
      long[] shape = matrix ? shape(tensor) : new long[] {n};
      Tensor b = Spectral.view(base, shape);
      Tensor[] taus = new Tensor[models.length];
      for (int i = 0; i < models.length; i++) taus[i] = taskVector(i, Spectral.view(models[i], shape).sub(b));
      Tensor delta = matrix ? matrixDelta(tensor, taus) : plainDelta(taus);
      Tensor flatBase = b.reshape(n);
      Tensor flatDelta = delta.contiguous().reshape(n);
      for (int k = 0; k < outs.length; k++) {
        Tensor out = Spectral.view(outs[k], n);
        out.copy_(flatDelta.mul(new Scalar(scales[k])).add(flatBase));
      }
    }
  }

  /** m ← τ_0; m ← m + (τ_i − m)/(i + 1): FusionBench's running mean (TSVM_utils, iso_cts). */
  static Tensor runningMean(Tensor[] taus) {
    Tensor m = taus[0].clone();
    for (int i = 1; i < taus.length; i++) m.add_(taus[i].sub(m).div(new Scalar((double) (i + 1))));
    return m;
  }

  /** (((τ_0 + τ_1) + τ_2) + …): Python's sum over the task vectors. */
  static Tensor sum(Tensor[] taus) {
    Tensor s = taus[0].clone();
    for (int i = 1; i < taus.length; i++) s.add_(taus[i]);
    return s;
  }

  static long rank(Tensor m) {
    long[] s = m.sizes().vec().get();
    return Arrays.stream(s).min().orElse(0);
  }
}
