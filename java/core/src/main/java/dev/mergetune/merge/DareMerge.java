package dev.mergetune.merge;

import dev.mergetune.kernels.Dare;
import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.SegmentTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DARE + task arithmetic per tensor (kernel K4b): θ0 + s·Σ w_i·r_i·keep_i⊙τ_i, swept over the scale s. Masks are
 * keyed on the tensor's name, so a streaming merge draws exactly what an in-memory merge of the same tensors draws.
 */
public final class DareMerge implements TensorOp {
  private final float[] weights;
  private final float[] scales;
  private final Dare.Options options;

  public DareMerge(float[] weights, float[] scales, Dare.Options options) {
    if (scales.length == 0) throw new IllegalArgumentException("DARE needs at least one scale");
    for (float v : weights) if (!Float.isFinite(v)) throw new IllegalArgumentException("weights must be finite");
    for (float v : scales) if (!Float.isFinite(v)) throw new IllegalArgumentException("scales must be finite");
    this.weights = weights.clone();
    this.scales = scales.clone();
    this.options = options;
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
  public String method() {
    return "dare";
  }

  @Override
  public Map<String, String> parameters(int output) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("scale", String.format(Locale.ROOT, "%s", scales[output]));
    m.put("weights", Arrays.toString(weights));
    m.put("drop_rate", String.format(Locale.ROOT, "%s", options.dropRate()));
    m.put("seed", Long.toString(options.seed()));
    m.put("rescale", options.rescale().name().toLowerCase(Locale.ROOT));
    return m;
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    String[] name = {tensor};
    long[] len = {n};
    SegmentTable baseTable = SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {base}, len);
    List<SegmentTable> modelTables = new ArrayList<>();
    for (long m : models) modelTables.add(SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {m}, len));
    for (int k = 0; k < outs.length; k++) {
      float[] lambdas = new float[weights.length];
      for (int i = 0; i < weights.length; i++) lambdas[i] = scales[k] * weights[i];
      Dare.merge(SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {outs[k]}, len), baseTable, modelTables,
          lambdas, options);
    }
  }
}
