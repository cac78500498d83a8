package dev.mergetune.merge.svd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * TSV-M, Task Singular Vectors Merging (Gargiulo et al., "Task Singular Vectors: Reducing Task Interference in
 * Model Merging", CVPR 2025, arXiv 2412.00081), as FusionBench runs it: tanganke/fusion_bench
 * {@code fusion_bench/method/task_singular_vector/TSVM.py} (TaskSingularVectorMerging.run) and
 * {@code utils/TSVM_utils.py} (compute_and_sum_svd_mem_reduction), which is the authors' AntoAndGar/
 * task_singular_vectors {@code src/utils/TSVM_utils.py} with an exclude list in place of the hard-coded
 * "text_projection". Read, not copied. For one m×n layer, T task vectors τ_i, r = min(m, n), k = int(r·(1/T))
 * ({@link #reducedRank}):
 *
 * <pre>
 *   τ_i = w_i · (θ_i − θ0)                         w_i: FusionBench's per-task alpha list (default 1)
 *   U_i S_i Vh_i = svd(τ_i)                         thin
 *   Û = [U_1[:, :k] | … | U_T[:, :k] | 0]  (m×r)    Ŝ = [S_1[:k], …, S_T[:k], 0] (r)
 *   V̂h = [Vh_1[:k, :]; …; Vh_T[:k, :]; 0]  (r×n)   (the r − T·k trailing columns/rows stay zero)
 *   Δ = polar(Û) · diag(Ŝ) · polar(V̂h)              polar(A) = U_A·Vh_A of svd(A) (Spectral)
 * </pre>
 *
 * computed as the code's multi_dot(U_Û, Vh_Û, diag(Ŝ), U_V̂h, Vh_V̂h). A tensor that is not 2-D, or that an
 * exclude glob names, gets the running mean of the τ_i. The merged model is θ0 + α·Δ, α = 1 by default (the
 * config's {@code alpha: 1}). Where r < T, k = 0 and the layer's Δ is 0, as in the code. Where r is not a multiple
 * of T the zero columns of Û and rows of V̂h meet zeros of Ŝ, so Δ does not depend on how svd completes them.
 */
public final class TsvMerge extends SpectralMerge {
  private final float[] weights;

  /** @param weights per-task scales applied to τ_i before the SVD (FusionBench's alpha as a list), or null */
  public TsvMerge(Map<String, long[]> shapes, int tasks, float[] weights, float[] scales, List<String> svdExclude) {
    super(shapes, scales, svdExclude);
    if (tasks < 1) throw new IllegalArgumentException("tsv-m needs at least one model");
    if (weights != null && weights.length != tasks) {
      throw new IllegalArgumentException("--weights has " + weights.length + " values for " + tasks + " models");
    }
    this.weights = weights == null ? null : weights.clone();
  }

  @Override
  public String method() {
    return "tsv-m";
  }

  @Override
  protected Map<String, String> methodParameters() {
    Map<String, String> m = new LinkedHashMap<>();
    if (weights != null) {
      StringBuilder b = new StringBuilder();
      for (float w : weights) b.append(b.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%s", w));
      m.put("weights", b.toString());
    }
    return m;
  }

  @Override
  protected Tensor taskVector(int task, Tensor tau) {
    return weights == null ? tau : tau.mul(new Scalar(weights[task]));
  }

  @Override
  protected Tensor plainDelta(Tensor[] taus) {
    return runningMean(taus);
  }

  /**
   * k as the code computes it, int(r · (1/T)) in double precision (it equals ⌊r/T⌋ for every r < 5000, T ≤ 30;
   * the same form in Iso-CTS, int(r·f), does not: r = 90, f = 0.7 gives 62).
   */
  public static long reducedRank(long r, int tasks) {
    double reduction = 1.0 / tasks;
    return (long) (r * reduction);
  }

  @Override
  protected Tensor matrixDelta(String tensor, Tensor[] taus) {
    int tasks = taus.length;
    long m = taus[0].size(0), n = taus[0].size(1), r = Math.min(m, n);
    long k = reducedRank(r, tasks);
    Tensor sumU = torch.zeros(m, r);
    Tensor sumS = torch.zeros(r);
    Tensor sumVh = torch.zeros(r, n);
    for (int i = 0; k > 0 && i < tasks; i++) {
      Tensor[] usv = Spectral.svd(taus[i]);
      sumU.narrow(1, i * k, k).copy_(usv[0].narrow(1, 0, k));
      sumS.narrow(0, i * k, k).copy_(usv[1].narrow(0, 0, k));
      sumVh.narrow(0, i * k, k).copy_(usv[2].narrow(0, 0, k));
    }
    Tensor[] u = Spectral.svd(sumU);
    Tensor[] v = Spectral.svd(sumVh);
    return torch.linalg_multi_dot(new TensorVector(u[0], u[2], torch.diag(sumS), v[0], v[2]));
  }
}
