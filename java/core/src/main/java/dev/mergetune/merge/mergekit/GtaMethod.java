package dev.mergetune.merge.mergekit;

import dev.mergetune.kernels.Gta.Consensus;
import dev.mergetune.kernels.Gta.Sparsification;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * mergekit's merge methods of the generalized-task-arithmetic family (mergekit/merge_methods/registry.py) and
 * {@code linear}, with their defaults: which sign consensus and sparsification each uses, whether it normalises by
 * the agreeing weights, rescales the kept delta to its L1 norm, and which per-model parameters it takes.
 */
public enum GtaMethod {
  LINEAR("linear", null, null, true, false, false),
  TASK_ARITHMETIC("task_arithmetic", null, null, false, false, true),
  TIES("ties", Consensus.SUM, Sparsification.MAGNITUDE, true, false, true),
  DARE_TIES("dare_ties", Consensus.SUM, Sparsification.RANDOM, false, true, true),
  DARE_LINEAR("dare_linear", null, Sparsification.RANDOM, false, true, true),
  BREADCRUMBS("breadcrumbs", null, Sparsification.OUTLIERS, false, false, true),
  BREADCRUMBS_TIES("breadcrumbs_ties", Consensus.SUM, Sparsification.OUTLIERS, false, false, true),
  DELLA("della", Consensus.SUM, Sparsification.DELLA, true, true, true),
  DELLA_LINEAR("della_linear", null, Sparsification.DELLA, false, true, true),
  /** Not GTA: per-tensor angles, then a linear combination ({@link AngleMerge}). */
  SLERP("slerp", null, null, false, false, true),
  MODEL_STOCK("model_stock", null, null, false, false, true),
  /** Not GTA: spherical interpolation with an optional base ({@link SphereMerge}). */
  NUSLERP("nuslerp", null, null, false, false, false),
  MULTISLERP("multislerp", null, null, false, false, false),
  /**
   * mergetune's own names in a mergekit-format YAML (mergekit has none for these): the per-layer SVD merges
   * (dev.mergetune.merge.svd) and EMR-Merging (dev.mergetune.merge.EmrMerge), run as their --method flags run them.
   */
  TSV_M("tsv_m", null, null, false, false, true),
  ISO_C("iso_c", null, null, false, false, true),
  ISO_CTS("iso_cts", null, null, false, false, true),
  EMR("emr", null, null, false, false, true);

  /** mergekit methods this reader knows but mergetune does not run (yet). */
  public static final Set<String> NOT_SUPPORTED = Set.of("karcher",
      "sce", "nearswap", "passthrough", "arcee_fusion", "ram");

  public final String mergekitName;
  /** null: no sign election (a plain weighted sum). */
  public final Consensus consensus;
  /** null: no sparsification. */
  public final Sparsification sparsification;
  public final boolean defaultNormalize;
  public final boolean defaultRescale;
  public final boolean needsBase;

  GtaMethod(String name, Consensus consensus, Sparsification sparsification, boolean normalize, boolean rescale,
      boolean needsBase) {
    this.mergekitName = name;
    this.consensus = consensus;
    this.sparsification = sparsification;
    this.defaultNormalize = normalize;
    this.defaultRescale = rescale;
    this.needsBase = needsBase;
  }

  /** The method of a mergekit name, or an error naming the ones that run. */
  public static GtaMethod of(String name) {
    for (GtaMethod m : values()) if (m.mergekitName.equals(name)) return m;
    String known = String.join(", ", Arrays.stream(values()).map(m -> m.mergekitName).toList());
    if (NOT_SUPPORTED.contains(name)) {
      throw new IllegalArgumentException("merge_method '" + name + "' is a mergekit method mergetune does not run yet ("
          + known + ")");
    }
    throw new IllegalArgumentException("unknown merge_method '" + name + "' (" + known + ")");
  }

  /** Method-level parameters (global `parameters:` only). */
  public List<String> globalParameters() {
    if (this == TSV_M || this == ISO_C) return List.of("lambda");
    if (this == ISO_CTS) return List.of("lambda", "common_space_fraction");
    if (this == EMR) return List.of("task");
    if (this == SLERP) return List.of("t");
    if (this == MODEL_STOCK) return List.of("filter_wise");
    if (this == NUSLERP) return List.of("nuslerp_flatten", "nuslerp_row_wise");
    if (this == MULTISLERP) return List.of("normalize_weights", "eps");
    return this == LINEAR ? List.of("normalize") : List.of("normalize", "rescale", "int8_mask", "lambda");
  }

  /** Per-model (tensor) parameters, which may also stand in the global `parameters:` as defaults. */
  public List<String> tensorParameters() {
    if (this == TSV_M) return List.of("weight");
    if (isExtension()) return List.of();
    if (this == LINEAR || isSphere()) return List.of("weight");
    if (isAngle()) return List.of();
    if (sparsification == Sparsification.OUTLIERS) return List.of("weight", "density", "gamma");
    if (sparsification == Sparsification.DELLA) return List.of("weight", "density", "epsilon");
    return List.of("weight", "density");
  }

  /** Default of a tensor parameter (weight has none: it is required). */
  public Double tensorDefault(String parameter) {
    return switch (parameter) {
      case "density" -> 1.0;
      case "gamma" -> 0.01;
      case "epsilon" -> 0.15;
      default -> null;
    };
  }

  /** slerp, model_stock, nuslerp, multislerp: coefficients from a Gram pass, not the GTA kernel's formula. */
  public boolean isAngle() {
    return this == SLERP || this == MODEL_STOCK || isSphere();
  }

  /** nuslerp and multislerp: {@link SphereMerge}, whose base is optional. */
  public boolean isSphere() {
    return this == NUSLERP || this == MULTISLERP;
  }

  /** tsv_m, iso_c, iso_cts, emr: not mergekit's; their YAML runs the op of the --method flag {@link #flagName}. */
  public boolean isExtension() {
    return this == TSV_M || this == ISO_C || this == ISO_CTS || this == EMR;
  }

  /** The --method name of an extension (tsv-m, iso-c, iso-cts, emr); mergekit's own name otherwise. */
  public String flagName() {
    return isExtension() ? mergekitName.replace('_', '-') : mergekitName;
  }

  public String cliName() {
    return mergekitName.toLowerCase(Locale.ROOT);
  }
}
