package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.List;
import java.util.Objects;

/**
 * K3: the sign-consistent max merge of ConDU / EMR-Merging, with bit-packed triggers.
 *
 * <pre>
 *   flag_j = +1 if Σ_i δ^i_j > 0 else −1        (an exact tie is −1)
 *   M^i_j  = [δ^i_j · flag_j > 0]
 *   U_j    = flag_j · max_i |δ^i_j · M^i_j|
 *   λ^i    = Σ_s mean_{j∈s} |δ^i_j|  /  Σ_s mean_{j∈s} |M^i_j · U_j|      (per-tensor means, as the reference code)
 *   expert_i = θ0 + λ^i · M^i ⊙ U
 * </pre>
 *
 * Unify takes the task deltas directly, or the task models and θ0 (deltas taken on the fly, never stored).
 */
public final class SignConsistentMax {
  private SignConsistentMax() {}

  /** What unify returns besides U and the masks: the rescalers and the per-tensor sums behind them. */
  public record Triggers(double[] rescalers, double[] sumAbsDelta, double[] sumAbsMasked) {}

  /**
   * Unifies the tasks into {@code unified} and {@code masks}; returns the rescalers.
   *
   * @param theta0 the zero-shot parameters, or null when {@code inputs} are already deltas
   * @param inputs one table per task: its fine-tuned model (with θ0) or its delta (without)
   */
  public static Triggers unify(SegmentTable unified, TaskMasks masks, SegmentTable theta0, List<SegmentTable> inputs) {
    Objects.requireNonNull(unified, "unified");
    Objects.requireNonNull(masks, "masks");
    Objects.requireNonNull(inputs, "inputs");
    if (inputs.isEmpty()) throw new IllegalArgumentException("unify needs at least one task");
    if (masks.tasks() != inputs.size()) {
      throw new IllegalArgumentException("masks hold " + masks.tasks() + " tasks but " + inputs.size() + " were given");
    }
    SegmentTable reference = inputs.get(0);
    for (int i = 0; i < inputs.size(); i++) {
      Objects.requireNonNull(inputs.get(i), "task " + i).requireSameLayout(reference, "task " + i, "task 0");
    }
    unified.requireSameLayout(reference, "unified", "task 0");
    if (theta0 != null) theta0.requireSameLayout(reference, "theta0", "task 0");
    requireMaskLayout(masks, reference);
    int nSeg = reference.size();
    int nTasks = inputs.size();
    long[] inputTable = new long[nTasks * nSeg];
    for (int i = 0; i < nTasks; i++) System.arraycopy(inputs.get(i).addressesArray(), 0, inputTable, i * nSeg, nSeg);
    double[] sumAbsDelta = new double[nTasks * nSeg];
    double[] sumAbsMasked = new double[nTasks * nSeg];
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_signmax_unify_f32(reference.device().code(), stream(reference), nSeg,
        reference.lengthsArray(), theta0 == null ? null : theta0.addressesArray(), nTasks, inputTable,
        unified.addressesArray(), masks.allTasksTable(), sumAbsDelta, sumAbsMasked, MergetuneNative.MT_CHECK_FINITE);
    KernelErrors.throwOnFailure(status, reference, theta0 == null ? "delta" : "model", "theta0");
    return new Triggers(rescalers(reference.lengthsArray(), nTasks, sumAbsDelta, sumAbsMasked), sumAbsDelta, sumAbsMasked);
  }

  /** Rebuilds one task's expert: out = θ0 + λ·M_task ⊙ U (out may be θ0 itself). */
  public static void decouple(SegmentTable out, SegmentTable theta0, SegmentTable unified, TaskMasks masks, int task,
      float lambda) {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(theta0, "theta0");
    Objects.requireNonNull(unified, "unified");
    if (task < 0 || task >= masks.tasks()) {
      throw new IllegalArgumentException("task " + task + " is not among the masks' " + masks.tasks() + " tasks");
    }
    if (!Float.isFinite(lambda)) throw new IllegalArgumentException("lambda is " + lambda + "; it must be finite");
    out.requireSameLayout(theta0, "out", "theta0");
    unified.requireSameLayout(theta0, "unified", "theta0");
    requireMaskLayout(masks, theta0);
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_signmax_decouple_f32(theta0.device().code(), stream(theta0), theta0.size(),
        theta0.lengthsArray(), out.addressesArray(), theta0.addressesArray(), unified.addressesArray(),
        masks.taskTable(task), lambda, MergetuneNative.MT_CHECK_FINITE);
    KernelErrors.throwOnFailure(status, theta0, "unified", "theta0");
  }

  /**
   * λ^i = (Σ_s sumAbsDelta[i][s] / len_s) / (Σ_s sumAbsMasked[i][s] / len_s), over non-empty segments. Where a task
   * keeps no element at all the denominator is 0 and its expert is θ0 whatever λ is; λ = 1 is returned there (the
   * reference code divides and gets NaN, which then poisons the expert).
   */
  public static double[] rescalers(long[] lengths, int tasks, double[] sumAbsDelta, double[] sumAbsMasked) {
    int nSeg = lengths.length;
    double[] lambdas = new double[tasks];
    for (int i = 0; i < tasks; i++) {
      double num = 0;
      double den = 0;
      for (int s = 0; s < nSeg; s++) {
        if (lengths[s] == 0) continue;
        num += sumAbsDelta[i * nSeg + s] / lengths[s];
        den += sumAbsMasked[i * nSeg + s] / lengths[s];
      }
      lambdas[i] = den == 0 ? 1.0 : num / den;
    }
    return lambdas;
  }

  private static void requireMaskLayout(TaskMasks masks, SegmentTable layout) {
    if (masks.device() != layout.device()) {
      throw new IllegalArgumentException("masks are on " + masks.device() + " but the tensors on " + layout.device());
    }
    if (!java.util.Arrays.equals(masks.lengths(), layout.lengthsArray())) {
      throw new IllegalArgumentException("masks were made for a different segment layout");
    }
  }

  private static long stream(SegmentTable t) {
    return t.device() == DeviceKind.CUDA && t.tensorBacked() ? CudaStreams.current(t.deviceIndex()) : 0L;
  }
}
