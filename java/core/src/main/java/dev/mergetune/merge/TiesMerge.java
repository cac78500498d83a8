package dev.mergetune.merge;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.Ties;
import dev.mergetune.kernels.TiesPlanner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * TIES (kernel K4c) as a streaming merge: a GLOBAL trim first runs the planner's statistics passes over every merged
 * tensor (each tensor mapped, observed and released in turn), then each tensor is planned and merged once per
 * swept λ. Thresholds, tie cutoffs and the zero-sign rule do not depend on λ, so a sweep reads the inputs once per
 * pass whatever its length.
 */
public final class TiesMerge implements TensorOp {
  private final Ties.Options options;
  private final float[] weights;
  private final float[] lambdas;
  private final TiesPlanner planner;
  private final List<TiesPlanner.Pass> passes;

  /** @param lambdas the λ of each output (a sweep); the options' own λ is used when this is empty */
  public TiesMerge(float[] weights, float[] lambdas, Ties.Options options) {
    this.options = options;
    this.weights = weights.clone();
    this.lambdas = lambdas.length == 0 ? new float[] {options.lambda()} : lambdas.clone();
    for (float l : this.lambdas) if (!Float.isFinite(l)) throw new IllegalArgumentException("TIES lambda must be finite, got " + l);
    this.planner = new TiesPlanner(options, weights, weights.length);
    this.passes = planner.passes();
  }

  @Override
  public boolean needsBase() {
    return true;
  }

  @Override
  public int outputs() {
    return lambdas.length;
  }

  @Override
  public String method() {
    return "ties";
  }

  @Override
  public Map<String, String> parameters(int output) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("preset", options.preset());
    m.put("lambda", String.format(Locale.ROOT, "%s", lambdas[output]));
    m.put("density", String.format(Locale.ROOT, "%s", options.density()));
    m.put("scope", options.scope().name().toLowerCase(Locale.ROOT));
    m.put("selection", options.selection().name().toLowerCase(Locale.ROOT));
    m.put("election", options.election().name().toLowerCase(Locale.ROOT));
    m.put("zero_sign", options.zeroSign().name().toLowerCase(Locale.ROOT));
    m.put("aggregate", options.aggregate().name().toLowerCase(Locale.ROOT));
    m.put("weights", Arrays.toString(weights));
    return m;
  }

  @Override
  public int statisticsPasses() {
    return passes.size();
  }

  @Override
  public void observe(int pass, String tensor, long n, long base, long[] models) {
    planner.observe(passes.get(pass), table(tensor, n, base), tables(tensor, n, models));
  }

  @Override
  public void endPass(int pass) {
    planner.endPass(passes.get(pass));
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    SegmentTable baseTable = table(tensor, n, base);
    List<SegmentTable> modelTables = tables(tensor, n, models);
    TiesPlanner.Plan plan = planner.plan(baseTable, modelTables);
    for (int k = 0; k < outs.length; k++) planner.apply(table(tensor, n, outs[k]), baseTable, modelTables, plan, lambdas[k]);
  }

  private static SegmentTable table(String tensor, long n, long address) {
    return SegmentTable.ofAddresses(DeviceKind.CPU, new String[] {tensor}, new long[] {address}, new long[] {n});
  }

  private static List<SegmentTable> tables(String tensor, long n, long[] addresses) {
    List<SegmentTable> list = new ArrayList<>();
    for (long a : addresses) list.add(table(tensor, n, a));
    return list;
  }
}
