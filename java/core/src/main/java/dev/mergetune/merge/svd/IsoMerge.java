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
 * Iso-C and Iso-CTS, isotropic merging (Marczak et al., "No Task Left Behind: Isotropic Model Merging with Common
 * and Task-Specific Subspaces", ICML 2025, arXiv 2502.04959), as FusionBench runs them: tanganke/fusion_bench
 * {@code fusion_bench/method/isotropic_merging/iso_utils.py} (iso_c, iso_cts) and {@code iso.py} (θ0 +
 * scaling_factor·Δ; configs {@code config/method/isotropic_merging/iso_c.yaml}, {@code iso_cts.yaml}: scaling
 * factor 1.0, common_space_fraction 0.8, the fraction the authors' danielm1405/iso-merging README uses). Read, not
 * copied. For one m×n layer, T task vectors τ_i, r = min(m, n):
 *
 * <pre>
 * Iso-C:   Σ = (Σ_i τ_i / T)·T;  U S Vh = svd(Σ);  Δ = U · (mean(S)·I) · Vh
 *
 * Iso-CTS: Σ = Σ_i τ_i;  U S Vh = svd(Σ)
 *          c0 = int(r·f);  c = r − round((r − c0)/T)·T  (Python's round: half to even);  d = (r − c)/T
 *          Uc, Sc, Vc = U[:, :c], S[:c], Vh[:c, :]                                   the common subspace
 *          τ_i' = τ_i − Uc·Ucᵀ·τ_i;  u_i s_i vh_i = svd(τ_i')                         task-specific parts
 *          Û = [u_1[:, :d] | … | u_T[:, :d] | Uc],  Ŝ = [s_1[:d], …, s_T[:d], Sc],  V̂h = [vh_1[:d]; …; vh_T[:d]; Vc]
 *          Δ = polar(Û) · (mean(Ŝ)·I) · polar(V̂h)
 * </pre>
 *
 * A tensor that is not 2-D, or that an exclude glob names, gets Σ_i τ_i / T (Iso-C) or the running mean (Iso-CTS),
 * as in the code. The merged model is θ0 + α·Δ. A fraction that leaves c < 0 (the code's slices would not fit) is an
 * error naming the tensor. The authors' own Iso-C (AntoAndGar/task_singular_vectors src/utils/iso.py) takes the SVD
 * of the mean, not the sum: its Δ is FusionBench's divided by T, the same model at α·T.
 */
public final class IsoMerge extends SpectralMerge {
  private final Double commonSpaceFraction;

  /** @param commonSpaceFraction null: Iso-C; else Iso-CTS with this fraction f in [0, 1] */
  public IsoMerge(Map<String, long[]> shapes, Double commonSpaceFraction, float[] scales, List<String> svdExclude) {
    super(shapes, scales, svdExclude);
    if (commonSpaceFraction != null && !(commonSpaceFraction >= 0 && commonSpaceFraction <= 1)) {
      throw new IllegalArgumentException("--common-space-fraction must lie in [0, 1], got " + commonSpaceFraction);
    }
    this.commonSpaceFraction = commonSpaceFraction;
  }

  @Override
  public String method() {
    return commonSpaceFraction == null ? "iso-c" : "iso-cts";
  }

  @Override
  protected Map<String, String> methodParameters() {
    Map<String, String> m = new LinkedHashMap<>();
    if (commonSpaceFraction != null) m.put("common_space_fraction", String.format(Locale.ROOT, "%s", commonSpaceFraction));
    return m;
  }

  @Override
  protected Tensor plainDelta(Tensor[] taus) {
    return commonSpaceFraction == null ? sum(taus).div(new Scalar((double) taus.length)) : runningMean(taus);
  }

  @Override
  protected Tensor matrixDelta(String tensor, Tensor[] taus) {
    return commonSpaceFraction == null ? isoC(taus) : isoCts(tensor, taus);
  }

  private static Tensor isoC(Tensor[] taus) {
    double t = taus.length;
    Tensor merged = sum(taus).div(new Scalar(t)).mul(new Scalar(t));
    Tensor[] usv = Spectral.svd(merged);
    Tensor s = torch.ones_like(usv[1]).mul(usv[1].mean());
    return torch.linalg_multi_dot(new TensorVector(usv[0], torch.diag(s), usv[2]));
  }

  /** The common subspace's size c for an r-rank layer, T tasks and fraction f (see the class comment). */
  public static long commonSize(long r, int tasks, double f) {
    long c0 = (long) (r * f);
    long taskSpecific = (long) Math.rint((double) (r - c0) / tasks) * tasks;
    return r - taskSpecific;
  }

  private Tensor isoCts(String tensor, Tensor[] taus) {
    int tasks = taus.length;
    long m = taus[0].size(0), n = taus[0].size(1), r = Math.min(m, n);
    long c = commonSize(r, tasks, commonSpaceFraction);
    if (c < 0) {
      throw new IllegalArgumentException("tensor '" + tensor + "' [" + m + ", " + n + "]: --common-space-fraction "
          + commonSpaceFraction + " with " + tasks + " models leaves a common subspace of " + c + " dimensions");
    }
    long d = (r - c) / tasks;
    Tensor[] common = Spectral.svd(sum(taus));
    Tensor uc = common[0].narrow(1, 0, c);
    Tensor combinedU = torch.zeros(m, r);
    Tensor combinedS = torch.zeros(r);
    Tensor combinedVh = torch.zeros(r, n);
    for (int i = 0; d > 0 && i < tasks; i++) {
      Tensor specific = taus[i].sub(uc.mm(uc.t()).mm(taus[i]));
      Tensor[] usv = Spectral.svd(specific);
      combinedU.narrow(1, i * d, d).copy_(usv[0].narrow(1, 0, d));
      combinedS.narrow(0, i * d, d).copy_(usv[1].narrow(0, 0, d));
      combinedVh.narrow(0, i * d, d).copy_(usv[2].narrow(0, 0, d));
    }
    if (c > 0) {
      combinedU.narrow(1, tasks * d, c).copy_(uc);
      combinedS.narrow(0, tasks * d, c).copy_(common[1].narrow(0, 0, c));
      combinedVh.narrow(0, tasks * d, c).copy_(common[2].narrow(0, 0, c));
    }
    Tensor pu = Spectral.polar(combinedU);
    Tensor pv = Spectral.polar(combinedVh);
    Tensor s = torch.ones_like(combinedS).mul(combinedS.mean());
    return torch.linalg_multi_dot(new TensorVector(pu, torch.diag(s), pv));
  }
}
