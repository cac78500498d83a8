package dev.mergetune.cli;

import dev.mergetune.merge.EmrMerge;
import dev.mergetune.merge.TensorOp;
import dev.mergetune.merge.mergekit.GtaMethod;
import dev.mergetune.merge.mergekit.GtaSettings;
import dev.mergetune.merge.mergekit.MergekitConfig;
import dev.mergetune.merge.mergekit.ParameterSetting;
import dev.mergetune.merge.svd.IsoMerge;
import dev.mergetune.merge.svd.TsvMerge;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A mergekit-format YAML whose merge_method is one of mergetune's own (mergekit has no name for them), run as the
 * matching --method runs it, through the command's one output path:
 *
 * <pre>
 *   merge_method: tsv_m | iso_c | iso_cts | emr
 *   base_model: θ0;  models: [{model, parameters: {weight}}]   (weight: tsv_m only, the per-task α before the SVD, default 1)
 *   parameters: {lambda: α (default 1; tsv_m, iso_c, iso_cts), common_space_fraction: f (iso_cts, default 0.8),
 *                task: k (emr, 0-based: write expert k instead of the unified delta and its side files)}
 * </pre>
 *
 * Values must be plain numbers here: these merges take one α and one weight per model for the whole model, so a
 * per-tensor {filter, value} list is an error naming the parameter. FusionBench's exclude_keys (--svd-exclude) has
 * no YAML form: give the flags instead.
 */
final class ExtensionYamlRun {
  private ExtensionYamlRun() {}

  static int run(MergeCommand c, MergekitConfig config, PrintWriter w) throws IOException {
    GtaMethod m = config.method();
    String where = config.file() + ": merge_method " + m.mergekitName;
    if (c.seed != null) throw new IllegalArgumentException(where + " draws nothing at random: --seed does not apply");
    GtaSettings s = config.settings();
    c.base = config.base();
    c.models = config.models();
    Map<String, long[]> shapes = new HashMap<>();
    try (Checkpoint reference = Checkpoints.open(c.base)) {
      for (TensorInfo t : reference.tensors().values()) shapes.put(t.name(), t.shape());
    }
    float[] sweep = {(float) plain(s.global().get("lambda"), "parameters.lambda", 1.0, where)};
    TensorOp op = switch (m) {
      case TSV_M -> {
        float[] weights = new float[c.models.size()];
        for (int i = 0; i < weights.length; i++) {
          ParameterSetting own = s.perModel().get(i).get("weight");
          weights[i] = (float) plain(own != null ? own : s.global().get("weight"), "models[" + i + "].parameters.weight",
              1.0, where);
        }
        yield new TsvMerge(shapes, c.models.size(), weights, sweep, List.of());
      }
      case ISO_C -> new IsoMerge(shapes, null, sweep, List.of());
      case ISO_CTS -> new IsoMerge(shapes,
          plain(s.global().get("common_space_fraction"), "parameters.common_space_fraction", 0.8, where), sweep, List.of());
      case EMR -> {
        ParameterSetting t = s.global().get("task");
        Integer task = null;
        if (t != null) {
          double k = plain(t, "parameters.task", Double.NaN, where);
          if (k != Math.rint(k)) throw new IllegalArgumentException(where + ": parameters.task must be a whole number, got " + k);
          task = (int) k;
        }
        sweep = new float[] {Float.NaN};
        yield new EmrMerge(c.models.size(), task);
      }
      default -> throw new IllegalStateException(m + " is not an extension method");
    };
    if (c.out.contains("{}")) throw new IllegalArgumentException(where + " writes one output: no '{}' in --out");
    MergekitRun.noteDType(config, w);
    return c.write(op, sweep, config.outDType(), w);
  }

  /** A plain number (no per-tensor conditions), or the default when absent. */
  private static double plain(ParameterSetting p, String name, double fallback, String where) {
    if (p == null) return fallback;
    if (!(p instanceof ParameterSetting.Scalar scalar) || !(scalar.value() instanceof Number n)) {
      throw new IllegalArgumentException(where + ": " + name + " must be one number for the whole model (no {filter,"
          + " value} list, no true/false)");
    }
    return n.doubleValue();
  }
}
