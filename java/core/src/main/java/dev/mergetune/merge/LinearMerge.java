package dev.mergetune.merge;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Interpolation;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The merges that are one weighted interpolation per tensor (kernel K4a), each possibly swept over a scale:
 *
 * <ul>
 *   <li>task arithmetic: θ0 + s·Σ w_i (θ_i − θ0) — a sum, not an average;
 *   <li>WiSE-FT: (1 − α)·θ0 + α·θ1, one model, swept over α;
 *   <li>weighted average: Σ w_i θ_i / Σ w_i, no base (computed as θ_0 + Σ_{i≥1} (w_i/W)(θ_i − θ_0)).
 * </ul>
 */
public final class LinearMerge implements TensorOp {
  private final String method;
  private final boolean needsBase;
  private final float[][] lambdas;  // [output][model]
  private final List<Map<String, String>> parameters;

  private LinearMerge(String method, boolean needsBase, float[][] lambdas, List<Map<String, String>> parameters) {
    this.method = method;
    this.needsBase = needsBase;
    this.lambdas = lambdas;
    this.parameters = parameters;
  }

  public static LinearMerge taskArithmetic(float[] weights, float[] scales) {
    requireFinite("weights", weights);
    requireFinite("scales", scales);
    if (scales.length == 0) throw new IllegalArgumentException("task arithmetic needs at least one scale");
    float[][] l = new float[scales.length][weights.length];
    List<Map<String, String>> params = new java.util.ArrayList<>();
    for (int k = 0; k < scales.length; k++) {
      for (int i = 0; i < weights.length; i++) l[k][i] = scales[k] * weights[i];
      params.add(params("scale", scales[k], "weights", Arrays.toString(weights)));
    }
    return new LinearMerge("task_arithmetic", true, l, params);
  }

  public static LinearMerge wiseFt(float[] alphas) {
    requireFinite("alphas", alphas);
    if (alphas.length == 0) throw new IllegalArgumentException("WiSE-FT needs at least one alpha");
    float[][] l = new float[alphas.length][];
    List<Map<String, String>> params = new java.util.ArrayList<>();
    for (int k = 0; k < alphas.length; k++) {
      l[k] = new float[] {alphas[k]};
      params.add(params("alpha", alphas[k], null, null));
    }
    return new LinearMerge("wise_ft", true, l, params);
  }

  /** Weighted average of the models (no base); weights need not sum to 1 but must not sum to 0. */
  public static LinearMerge average(float[] weights) {
    requireFinite("weights", weights);
    double total = 0;
    for (float w : weights) total += w;
    if (weights.length == 0 || total == 0) throw new IllegalArgumentException("average weights must not sum to 0");
    float[] l = new float[weights.length - 1];
    for (int i = 1; i < weights.length; i++) l[i - 1] = (float) (weights[i] / total);
    return new LinearMerge("average", false, new float[][] {l}, List.of(params("weights", Float.NaN, "weights", Arrays.toString(weights))));
  }

  /** How many models the method expects, or -1 for any. */
  public int expectedModels() {
    return method.equals("wise_ft") ? 1 : method.equals("average") ? lambdas[0].length + 1 : lambdas[0].length;
  }

  @Override
  public boolean needsBase() {
    return needsBase;
  }

  @Override
  public int outputs() {
    return lambdas.length;
  }

  @Override
  public Map<String, String> parameters(int output) {
    return parameters.get(output);
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    long[] lengths = {n};
    long baseAddress = needsBase ? base : models[0];
    long[][] modelTables = new long[needsBase ? models.length : models.length - 1][];
    for (int i = 0; i < modelTables.length; i++) modelTables[i] = new long[] {models[needsBase ? i : i + 1]};
    for (int k = 0; k < outs.length; k++) {
      Interpolation.interpolateRaw(DeviceKind.CPU, 0, lengths, new long[] {outs[k]}, new long[] {baseAddress},
          modelTables, lambdas[k], true);
    }
  }

  private static Map<String, String> params(String key, float value, String key2, String value2) {
    Map<String, String> m = new LinkedHashMap<>();
    if (!Float.isNaN(value)) m.put(key, String.format(Locale.ROOT, "%s", value));
    if (key2 != null) m.put(key2, value2);
    return m;
  }

  private static void requireFinite(String what, float[] values) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) throw new IllegalArgumentException(what + "[" + i + "] is " + values[i]);
    }
  }
}
