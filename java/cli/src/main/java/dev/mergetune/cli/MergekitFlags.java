package dev.mergetune.cli;

import dev.mergetune.merge.TensorSelection;
import dev.mergetune.merge.mergekit.GtaMethod;
import dev.mergetune.merge.mergekit.GtaSettings;
import dev.mergetune.merge.mergekit.MergekitConfig;
import dev.mergetune.merge.mergekit.ParameterSetting;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mergekit side of {@code merge}: a mergekit YAML given to --config (with --out, and optionally --seed and
 * the tensor selection, on the command line: mergekit takes the output folder as an argument), or a mergekit
 * method given to --method with flags (--weights, --density, --epsilon, --gamma, --normalize, --rescale l1|none,
 * --scale as λ, --seed).
 */
final class MergekitFlags {
  private MergekitFlags() {}

  static boolean isGtaMethod(String method) {
    if (method.equals("ties") || method.equals("task_arithmetic")) return false;  // ours: --method ties / task-arithmetic
    for (GtaMethod m : GtaMethod.values()) if (!m.isExtension() && m.mergekitName.equals(method)) return true;
    return false;
  }

  static int runConfig(MergeCommand c, PrintWriter w) throws IOException {
    List<String> extra = given(c, List.of("config", "out", "seed", "include", "exclude", "trainableOnly", "noHash", "hash"));
    if (!extra.isEmpty()) {
      throw new IllegalArgumentException(c.config + " is a mergekit configuration: only --out, --seed, --include, --exclude,"
          + " --trainable-only, --hash and --no-hash go beside it (given: " + String.join(", ", extra) + ")");
    }
    if (c.out == null) throw new IllegalArgumentException("a mergekit configuration needs --out FILE.safetensors");
    MergekitConfig config = MergekitConfig.read(c.config);
    if (config.dtype() != null && c.output.dtype != null) {
      throw new IllegalArgumentException(c.config + " sets dtype and --dtype is given: give one or the other");
    }
    if (config.outDType() != null && c.output.outDtype != null) {
      throw new IllegalArgumentException(c.config + " sets the storage dtype (out_dtype, else dtype) and --out-dtype is given: give one or the other");
    }
    if (config.method().isExtension()) return ExtensionYamlRun.run(c, config, w);
    return MergekitRun.run(config, c.out, c.seed == null ? 0L : c.seed, selection(c), c.output, c.mergeOptions(), w);
  }

  static int runFlags(MergeCommand c, PrintWriter w) throws IOException {
    GtaMethod method = GtaMethod.of(c.method);
    List<String> allowed = method.isSphere()
        ? List.of("method", "base", "models", "weightSpecs", "normalize", "out", "include", "exclude", "trainableOnly", "noHash", "hash")
        : method.isAngle()
        ? List.of("method", "base", "models", "alphaSpecs", "out", "include", "exclude", "trainableOnly", "noHash", "hash")
        : List.of("method", "base", "models", "weightSpecs", "scaleSpecs", "density", "epsilon", "gamma", "normalize",
            "rescale", "seed", "out", "include", "exclude", "trainableOnly", "noHash", "hash");
    List<String> extra = given(c, allowed);
    if (!extra.isEmpty()) {
      throw new IllegalArgumentException("--method " + c.method + " does not take " + String.join(", ", extra));
    }
    if (c.models == null || c.out == null) throw new IllegalArgumentException("merge needs --models and --out");
    if (c.out.contains("{}")) throw new IllegalArgumentException("--method " + c.method + " writes one output (no sweep)");
    float[] ws = c.weights != null ? c.weights : ones(c.models.size());
    if (ws.length != c.models.size()) {
      throw new IllegalArgumentException("--weights has " + ws.length + " values for " + c.models.size() + " models");
    }
    Map<String, ParameterSetting> global = new LinkedHashMap<>();
    if (method == GtaMethod.SLERP) {
      if (c.alphas == null || c.alphas.length != 1) throw new IllegalArgumentException("--method slerp needs one --alpha (mergekit's t)");
      global.put("t", new ParameterSetting.Scalar(decimal(c.alphas[0])));
    }
    if (c.density != null) requireParameter(method, "density", "--density", global, c.density);
    if (c.epsilon != null) requireParameter(method, "epsilon", "--epsilon", global, c.epsilon);
    if (c.gamma != null) requireParameter(method, "gamma", "--gamma", global, c.gamma);
    if (method == GtaMethod.NUSLERP && c.normalize != null) throw new IllegalArgumentException("--method nuslerp takes no --normalize");
    if (method == GtaMethod.MULTISLERP && c.normalize != null) {
      global.put("normalize_weights", new ParameterSetting.Scalar(c.normalize));
    } else if (c.normalize != null) {
      global.put("normalize", new ParameterSetting.Scalar(c.normalize));
    }
    if (c.rescale != null) {
      if (method == GtaMethod.LINEAR) throw new IllegalArgumentException("--method linear takes no --rescale");
      boolean r = MergeCommand.choice("--rescale", c.rescale, Map.of("l1", true, "none", false));
      global.put("rescale", new ParameterSetting.Scalar(r));
    }
    if (c.scales != null) {
      if (method == GtaMethod.LINEAR) throw new IllegalArgumentException("--method linear takes no --scale");
      if (c.scales.length != 1) throw new IllegalArgumentException("--method " + c.method + " takes one --scale (λ)");
      global.put("lambda", new ParameterSetting.Scalar(decimal(c.scales[0])));
    }
    List<Map<String, ParameterSetting>> perModel = new ArrayList<>();
    for (float v : ws) perModel.add(Map.of("weight", new ParameterSetting.Scalar(decimal(v))));
    GtaSettings settings = new GtaSettings(method, global, perModel, "--method " + c.method);
    return MergekitRun.run(settings, c.base, c.models, c.out, c.seed == null ? 0L : c.seed, selection(c), c.output,
        c.output.apply(c.mergeOptions(), null), w);
  }

  private static void requireParameter(GtaMethod method, String name, String flag, Map<String, ParameterSetting> global,
      double value) {
    if (!method.tensorParameters().contains(name)) {
      throw new IllegalArgumentException("--method " + method.mergekitName + " takes no " + flag);
    }
    global.put(name, new ParameterSetting.Scalar(value));
  }

  private static TensorSelection selection(MergeCommand c) {
    return new TensorSelection(c.include != null ? c.include : List.of(), c.exclude != null ? c.exclude : List.of(),
        Boolean.TRUE.equals(c.trainableOnly));
  }

  /** The option fields given, other than `allowed`, as their flag names. */
  private static List<String> given(MergeCommand c, List<String> allowed) {
    List<String> out = new ArrayList<>();
    for (java.lang.reflect.Field f : MergeCommand.class.getDeclaredFields()) {
      picocli.CommandLine.Option o = f.getAnnotation(picocli.CommandLine.Option.class);
      if (o == null || allowed.contains(f.getName())) continue;
      try {
        if (f.get(c) != null) out.add(o.names()[0]);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  /** The value as the decimal it was written as (0.4f → 0.4, as a YAML 0.4 reads), not its float's binary value. */
  private static double decimal(float v) {
    return Double.parseDouble(Float.toString(v));
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }
}
