package dev.mergetune.merge;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * EMR-Merging (Huang et al., NeurIPS 2024, arXiv 2405.17461) as a streaming merge, on the sign-consistent max kernel
 * K3 ({@link SignConsistentMax}, the unify ConDU also uses; methods.md §2.1):
 *
 * <pre>
 *   τ_i = θ_i − θ0;  flag = sign(Σ_i τ_i) (0 → −1);  M_i = [τ_i·flag > 0];  U = flag·max_i |M_i ⊙ τ_i|
 *   λ_i = Σ_s mean_s |τ_i| / Σ_s mean_s |M_i ⊙ U|          (per-tensor means summed over the model)
 *   expert_i = θ0 + λ_i · M_i ⊙ U
 * </pre>
 *
 * Without a task, the output is the unified delta U (tensor names as the inputs'; metadata
 * {@code mergetune.param.output = unified-delta}), and beside it {@code <out>.masks.safetensors} (for each tensor an
 * I32 tensor [T, ⌈n/32⌉] of bit-packed masks, bit k of word w = element 32·w + k) and {@code <out>.emr.json} (the
 * base, models, task names and λ_i) are written when the merge has finished: {@link UnifiedFiles}' format, which
 * {@code condu unify} writes too and {@code condu decouple} reads. The masks are held in memory until then (T·P/8 bytes).
 * With a task k, one statistics pass computes the λ_i and the output is expert k, θ0 + λ_k·M_k ⊙ U.
 */
public final class EmrMerge implements TensorOp {
  private final int tasks;
  private final Integer task;
  private final Map<String, int[][]> masks = new LinkedHashMap<>();
  private final Map<String, Long> lengths = new LinkedHashMap<>();
  private final List<double[]> sums = new ArrayList<>();  // per tensor: {Σ|τ_i|, Σ|M_i U|} for i in tasks, flattened
  private double[] rescalers;
  private ByteBuffer scratch;

  /** @param task null: write U and the side files; else the 0-based model whose expert is written */
  public EmrMerge(int tasks, Integer task) {
    if (tasks < 1) throw new IllegalArgumentException("emr needs at least one model");
    if (task != null && (task < 0 || task >= tasks)) {
      throw new IllegalArgumentException("--task " + task + " is not one of the " + tasks + " models (0.." + (tasks - 1) + ")");
    }
    this.tasks = tasks;
    this.task = task;
  }

  @Override
  public boolean needsBase() {
    return true;
  }

  @Override
  public int outputs() {
    return 1;
  }

  @Override
  public String method() {
    return "emr";
  }

  @Override
  public Map<String, String> parameters(int output) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("output", task == null ? "unified-delta" : "expert");
    if (task != null) {
      m.put("task", Integer.toString(task));
      m.put("rescaler", String.valueOf(rescalers == null ? Double.NaN : rescalers[task]));
    }
    return m;
  }

  @Override
  public int statisticsPasses() {
    return task == null ? 0 : 1;
  }

  @Override
  public void observe(int pass, String tensor, long n, long base, long[] models) {
    try (TaskMasks m = new TaskMasks(DeviceKind.CPU, new long[] {n}, tasks)) {
      long u = scratch(n);
      unify(tensor, n, base, models, u, m);
    }
  }

  @Override
  public void endPass(int pass) {
    rescalers = rescalersOf();
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    try (TaskMasks m = new TaskMasks(DeviceKind.CPU, new long[] {n}, tasks)) {
      if (task == null) {
        unify(tensor, n, base, models, outs[0], m);
        int[][] words = new int[tasks][];
        for (int i = 0; i < tasks; i++) words[i] = m.words(i, 0);
        masks.put(tensor, words);
        lengths.put(tensor, n);
      } else {
        long u = scratch(n);
        unify(tensor, n, base, models, u, m);
        sums.remove(sums.size() - 1);  // counted in the statistics pass already
        String[] name = {tensor};
        long[] len = {n};
        SignConsistentMax.decouple(SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {outs[0]}, len),
            SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {base}, len),
            SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {u}, len), m, task, (float) rescalers[task]);
      }
    }
  }

  private void unify(String tensor, long n, long base, long[] models, long unified, TaskMasks m) {
    String[] name = {tensor};
    long[] len = {n};
    List<SegmentTable> inputs = new ArrayList<>();
    for (long a : models) inputs.add(SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {a}, len));
    SignConsistentMax.Triggers t = SignConsistentMax.unify(
        SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {unified}, len), m,
        SegmentTable.ofAddresses(DeviceKind.CPU, name, new long[] {base}, len), inputs);
    double[] s = new double[2 * tasks];
    for (int i = 0; i < tasks; i++) {
      s[i] = t.sumAbsDelta()[i] / n;  // one segment: index i
      s[tasks + i] = t.sumAbsMasked()[i] / n;
    }
    sums.add(s);
  }

  private long scratch(long n) {
    if (scratch == null || scratch.capacity() < n * 4) {
      scratch = ByteBuffer.allocateDirect((int) Math.max(n * 4, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
    }
    return new org.bytedeco.javacpp.BytePointer(scratch).address();
  }

  /** λ_i = Σ_s mean_s|τ_i| / Σ_s mean_s|M_i U|; 1 where a model keeps nothing (its expert is θ0 whatever λ is). */
  private double[] rescalersOf() {
    double[] r = new double[tasks];
    for (int i = 0; i < tasks; i++) {
      double num = 0, den = 0;
      for (double[] s : sums) {
        num += s[i];
        den += s[tasks + i];
      }
      r[i] = den == 0 ? 1 : num / den;
    }
    return r;
  }

  /** The rescalers of the models (after the merge). */
  public double[] rescalers() {
    return rescalers != null ? rescalers.clone() : rescalersOf();
  }

  /** {@link #writeSideFiles(Path, Path, List)} without recording the base. */
  public List<Path> writeSideFiles(Path out, List<Path> models) throws IOException {
    return writeSideFiles(out, null, models);
  }

  /**
   * After a merge without a task: writes {@code <out>.masks.safetensors} and {@code <out>.emr.json} atomically, in
   * the format {@link UnifiedFiles} defines (the one {@code condu unify} writes too).
   */
  public List<Path> writeSideFiles(Path out, Path base, List<Path> models) throws IOException {
    if (task != null) return List.of();
    List<String> names = new ArrayList<>(masks.keySet());
    List<String> taskNames = new ArrayList<>();
    for (Path p : models) taskNames.add(UnifiedFiles.taskName(p));
    return UnifiedFiles.writeSideFiles(out, "emr", base, null, models, taskNames, names,
        (i, s) -> masks.get(names.get(s))[i], rescalersOf());
  }
}
