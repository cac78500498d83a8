package dev.mergetune.cli;

import dev.mergetune.merge.svd.IsoMerge;
import dev.mergetune.merge.svd.SpectralMerge;
import dev.mergetune.merge.svd.TsvMerge;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SVD side of {@code merge}: {@code --method tsv-m | iso-c | iso-cts} (FusionBench's TaskSingularVectorMerging,
 * ISO_C_Merge, ISO_CTS_Merge) with --base, --models, --scale (α, default 1; several = a sweep, one SVD pass),
 * --weights (tsv-m: per-task α applied before the SVD), --common-space-fraction (iso-cts, default 0.8),
 * --svd-exclude (2-D tensors merged by the averaging rule instead, FusionBench's exclude_keys) and the tensor
 * selection.
 */
final class SpectralFlags {
  private SpectralFlags() {}

  static final Set<String> METHODS = Set.of("tsv-m", "iso-c", "iso-cts");

  static boolean isSpectral(String method) {
    return METHODS.contains(method);
  }

  /** An SVD method from a --config file, or the SVD methods' options given to another method: an error naming them. */
  static void rejectOutside(MergeCommand c) {
    if (isSpectral(c.method)) {
      throw new IllegalArgumentException("method " + c.method + " is not in the flat --config format: use the flags, or a"
          + " mergekit-format YAML with merge_method: " + c.method.replace('-', '_'));
    }
    if (c.commonSpaceFraction != null) throw new IllegalArgumentException("--common-space-fraction belongs to --method iso-cts");
    if (c.svdExclude != null) throw new IllegalArgumentException("--svd-exclude belongs to --method tsv-m, iso-c and iso-cts");
  }

  /** The merge the flags ask for, after checking that no option of another method was given. */
  static SpectralMerge op(MergeCommand c) throws IOException {
    List<String> allowed = new ArrayList<>(List.of("method", "base", "models", "scaleSpecs", "svdExclude", "out",
        "include", "exclude", "trainableOnly", "noHash", "hash"));
    if (c.method.equals("tsv-m")) allowed.add("weightSpecs");
    if (c.method.equals("iso-cts")) allowed.add("commonSpaceFraction");
    List<String> extra = new ArrayList<>();
    for (java.lang.reflect.Field f : MergeCommand.class.getDeclaredFields()) {
      picocli.CommandLine.Option o = f.getAnnotation(picocli.CommandLine.Option.class);
      if (o == null || allowed.contains(f.getName())) continue;
      try {
        if (f.get(c) != null) extra.add(o.names()[0]);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    if (!extra.isEmpty()) throw new IllegalArgumentException("--method " + c.method + " does not take " + String.join(", ", extra));
    if (c.base == null) throw new IllegalArgumentException("--method " + c.method + " needs --base (θ0)");
    if (c.models == null || c.out == null) throw new IllegalArgumentException("merge needs --models and --out");
    float[] scales = c.scales != null ? c.scales : new float[] {1f};
    Map<String, long[]> shapes = new HashMap<>();
    try (Checkpoint reference = Checkpoints.open(c.base)) {
      for (TensorInfo t : reference.tensors().values()) shapes.put(t.name(), t.shape());
    }
    List<String> plain = c.svdExclude != null ? c.svdExclude : List.of();
    return switch (c.method) {
      case "tsv-m" -> new TsvMerge(shapes, c.models.size(), c.weights, scales, plain);
      case "iso-c" -> new IsoMerge(shapes, null, scales, plain);
      default -> new IsoMerge(shapes, c.commonSpaceFraction != null ? c.commonSpaceFraction : 0.8, scales, plain);
    };
  }
}
