package dev.mergetune.condu;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The session step's unify, one tensor at a time: for each tensor, every old task's delta λ^i·M^i⊙U is rebuilt from
 * the previous session, unified with the new task's delta, and the tensor's masks are copied into the session's.
 * U and the masks are elementwise, and λ is a sum over tensors of per-tensor means, so the per-tensor sums give the
 * same rescalers as one call over the whole model. Memory beyond both sessions' U and masks: T + 1 copies of the
 * largest tensor, not T + 1 copies of the model (ViT-B/16, 11 tasks: 12 copies of the ~100 MB token embedding,
 * ~1.2 GB, instead of 12 copies of the ~600 MB model, ~7 GB).
 */
final class TensorwiseUnify {
  private TensorwiseUnify() {}

  /**
   * Fills {@code unified} (tensors shaped like {@code newDelta}) and {@code masks} (old tasks first, the new task
   * last) and returns the rescalers.
   *
   * @param previous the last committed session, or null for the first session
   */
  static double[] run(StoredSession previous, List<String> names, List<Tensor> newDelta, List<Tensor> unified,
      TaskMasks masks) {
    int segments = names.size();
    int oldTasks = previous == null ? 0 : previous.tasks();
    int tasks = oldTasks + 1;
    if (masks.tasks() != tasks) throw new IllegalArgumentException("masks for " + masks.tasks() + " tasks, need " + tasks);
    if (previous != null && !previous.tensorNames().equals(names)) {
      throw new IllegalArgumentException("the new task's tensors " + names + " are not the store's "
          + previous.tensorNames() + " (same names in the same order)");
    }
    long[] lengths = new long[segments];
    double[] sumAbsDelta = new double[tasks * segments];
    double[] sumAbsMasked = new double[tasks * segments];
    for (int s = 0; s < segments; s++) {
      String name = names.get(s);
      Tensor delta = newDelta.get(s);
      lengths[s] = delta.numel();
      long[] shape = delta.sizes().vec().get();
      if (previous != null && !Arrays.equals(previous.shape(s), shape)) {
        throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape)
            + " but the store's is " + Arrays.toString(previous.shape(s)));
      }
      List<String> one = List.of(name);
      List<SegmentTable> inputs = new ArrayList<>();
      List<Tensor> scratch = new ArrayList<>();
      if (previous != null) {
        try (TaskMasks old = new TaskMasks(DeviceKind.CPU, new long[] {lengths[s]}, oldTasks)) {
          SegmentTable oldU = SegmentTable.ofTensors(one, List.of(previous.unifiedTensors().get(s)));
          for (int i = 0; i < oldTasks; i++) {
            old.setWords(i, 0, previous.masks().words(i, s));
            Tensor rebuilt = Tensor.create(new float[Math.toIntExact(lengths[s])], shape);
            scratch.add(rebuilt);
            SegmentTable t = SegmentTable.ofTensors(one, List.of(rebuilt));
            // θ0 = 0, written in place: λ·U where the bit is set, exactly 0 elsewhere
            SignConsistentMax.decouple(t, t, oldU, old, i, (float) previous.rescaler(i));
            inputs.add(t);
          }
        }
      }
      inputs.add(SegmentTable.ofTensors(one, List.of(delta)));
      try (TaskMasks m = new TaskMasks(DeviceKind.CPU, new long[] {lengths[s]}, tasks)) {
        SignConsistentMax.Triggers trig =
            SignConsistentMax.unify(SegmentTable.ofTensors(one, List.of(unified.get(s))), m, null, inputs);
        for (int i = 0; i < tasks; i++) {
          masks.setWords(i, s, m.words(i, 0));
          sumAbsDelta[i * segments + s] = trig.sumAbsDelta()[i];
          sumAbsMasked[i * segments + s] = trig.sumAbsMasked()[i];
        }
      } finally {
        for (Tensor t : scratch) t.close();
      }
    }
    return SignConsistentMax.rescalers(lengths, tasks, sumAbsDelta, sumAbsMasked);
  }
}
