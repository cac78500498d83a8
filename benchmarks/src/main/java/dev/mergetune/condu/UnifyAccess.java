package dev.mergetune.condu;

import dev.mergetune.kernels.TaskMasks;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Benchmark-only door to the session step's in-memory unify ({@link TensorwiseUnify#run}, package-private in the
 * library): it lives in the benchmarks jar under the library's package name, so the library's API stays as it is.
 * Works on the class path (no module boundaries there).
 */
public final class UnifyAccess {
  private UnifyAccess() {}

  /** Rebuilds the old tasks' deltas from {@code previous}, unifies them with {@code newDelta}; returns the rescalers. */
  public static double[] unify(StoredSession previous, List<String> names, List<Tensor> newDelta, List<Tensor> unified,
      TaskMasks masks) {
    return TensorwiseUnify.run(previous, names, newDelta, unified, masks);
  }
}
