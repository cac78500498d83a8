package dev.mergetune.condu;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.TaskMasks;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * One ConDU session step (methods.md §2.3) on a {@link SessionStore}: rebuild every old task's delta from the last
 * committed U and triggers, unify [rebuilt old deltas, new delta], store the new session. Old tasks re-enter through
 * their lossy reconstruction, so an element a task lost stays lost.
 *
 * <p>A rebuilt delta is λ^i·M^i⊙U in fp32 (decoupled against a zero θ0): expert^i − θ0 without the rounding of
 * forming the expert and subtracting θ0 again. The work goes tensor by tensor ({@link TensorwiseUnify}).
 */
public final class ConduSessions {
  private ConduSessions() {}

  /**
   * {@link #addTaskFromExpert(Path, Theta0Ref, String, Map, Map, Prototypes)} from the two models, which must be
   * the same model (configuration: heads, activation, widths, …); an expert of another model is refused.
   */
  public static void addTaskFromExpert(Path store, Theta0Ref theta0Ref, String taskName, ClipModel theta0,
      ClipModel expert, Prototypes prototypes) throws IOException {
    if (!theta0.config().equals(expert.config())) {
      throw new IllegalArgumentException("expert '" + taskName + "' (configuration from " + expert.origin()
          + ") is not a fine-tuned θ0 (from " + theta0.origin() + "): "
          + String.join("; ", expert.config().differences(theta0.config())));
    }
    addTaskFromExpert(store, theta0Ref, taskName, theta0.stateDict(), expert.stateDict(), prototypes);
  }

  /**
   * Adds a task from its fine-tuned expert: δ = expert − θ0 in fp32, by name (both maps must hold the same names
   * and shapes; {@code theta0} gives the order), then {@link #addTask}.
   */
  public static void addTaskFromExpert(Path store, Theta0Ref theta0Ref, String taskName, Map<String, Tensor> theta0,
      Map<String, Tensor> expert, Prototypes prototypes) throws IOException {
    addTaskFromExpert(store, theta0Ref, taskName, theta0, expert, prototypes, null);
  }

  /**
   * {@link #addTaskFromExpert} in the LoRA adapters' space when {@code adapters} is given: {@code theta0} are then
   * θ0's own adapters ({@code adapters.theta0()}, or those the store holds) and {@code expert} the expert's adapters,
   * by name.
   */
  public static void addTaskFromExpert(Path store, Theta0Ref theta0Ref, String taskName, Map<String, Tensor> theta0,
      Map<String, Tensor> expert, Prototypes prototypes, AdapterSpace adapters) throws IOException {
    if (!theta0.keySet().equals(expert.keySet())) {
      throw new IllegalArgumentException("expert '" + taskName + "' has tensors " + expert.keySet() + " but θ0 has "
          + theta0.keySet());
    }
    Map<String, Tensor> delta = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : theta0.entrySet()) {
      Tensor x = expert.get(e.getKey());
      if (!Arrays.equals(x.sizes().vec().get(), e.getValue().sizes().vec().get())) {
        throw new IllegalArgumentException("tensor '" + e.getKey() + "' of expert '" + taskName + "' has shape "
            + Arrays.toString(x.sizes().vec().get()) + " but θ0's is " + Arrays.toString(e.getValue().sizes().vec().get()));
      }
      try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
        delta.put(e.getKey(), x.detach().sub(e.getValue().detach()).contiguous());
      }
    }
    try {
      addTask(store, theta0Ref, taskName, delta, prototypes, adapters, stage -> {});
    } finally {
      delta.values().forEach(Tensor::close);  // a model's worth of native memory: free it now, not at some GC
    }
  }

  /**
   * Adds a task given its delta δ = expert − θ0 (CPU float32 tensors, in the model's order) and optional prototypes;
   * writes session t+1 (session 1 when the store is empty). The θ0 reference must be the store's.
   */
  public static void addTask(Path store, Theta0Ref theta0Ref, String taskName, Map<String, Tensor> delta,
      Prototypes prototypes) throws IOException {
    addTask(store, theta0Ref, taskName, delta, prototypes, null, stage -> {});
  }

  static void addTask(Path store, Theta0Ref theta0Ref, String taskName, Map<String, Tensor> delta,
      Prototypes prototypes, SessionStore.WriteHook hook) throws IOException {
    addTask(store, theta0Ref, taskName, delta, prototypes, null, hook);
  }

  /** {@link #addTask} with the deltas in the LoRA adapters' space ({@code adapters} non-null; see AdapterSpace). */
  public static void addTask(Path store, Theta0Ref theta0Ref, String taskName, Map<String, Tensor> delta,
      Prototypes prototypes, AdapterSpace adapters) throws IOException {
    addTask(store, theta0Ref, taskName, delta, prototypes, adapters, stage -> {});
  }

  static void addTask(Path store, Theta0Ref theta0Ref, String taskName, Map<String, Tensor> delta,
      Prototypes prototypes, AdapterSpace adapters, SessionStore.WriteHook hook) throws IOException {
    NativeRuntime.ensureTorch();
    List<String> names = new ArrayList<>(delta.keySet());
    List<Tensor> newDelta = new ArrayList<>(delta.values());
    StoredSession previous = SessionStore.exists(store) ? SessionStore.load(store) : null;
    try {
      List<String> taskNames = new ArrayList<>();
      List<Prototypes> protos = new ArrayList<>();
      if (previous != null) {
        if (!previous.theta0().sha256().equals(theta0Ref.sha256())) {
          throw new IllegalArgumentException("store " + store + " was built on θ0 " + previous.theta0().path()
              + " (SHA-256 " + previous.theta0().sha256() + "), not on " + theta0Ref.path());
        }
        if (!java.util.Objects.equals(previous.theta0().modelConfig(), theta0Ref.modelConfig())) {
          throw new IllegalArgumentException("store " + store + " loads θ0 with --model-config "
              + previous.theta0().modelConfig() + ", not " + theta0Ref.modelConfig());
        }
        if (previous.taskNames().contains(taskName)) {
          throw new IllegalArgumentException("store " + store + " already holds task '" + taskName + "'");
        }
        if (previous.adapters().isPresent() != (adapters != null)) {
          throw new IllegalArgumentException("store " + store + " unifies " + (adapters == null
              ? "LoRA adapters (--lora-space adapters); add LoRA experts in that space"
              : "the model's weights; its tasks cannot take adapters (--lora-space adapters) now"));
        }
        for (int i = 0; i < previous.tasks(); i++) {
          taskNames.add(previous.taskNames().get(i));
          protos.add(previous.prototypes(i).orElse(null));
        }
      }
      taskNames.add(taskName);
      protos.add(prototypes);
      List<Tensor> u = new ArrayList<>();
      long[] lengths = new long[names.size()];
      try {
        for (int s = 0; s < names.size(); s++) {
          Tensor d = newDelta.get(s);
          lengths[s] = d.numel();
          u.add(Tensor.create(new float[Math.toIntExact(lengths[s])], d.sizes().vec().get()));
        }
        try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, lengths, taskNames.size())) {
          double[] rescalers = TensorwiseUnify.run(previous, names, newDelta, u, masks);
          long session = previous == null ? 1 : previous.session() + 1;
          SessionStore.save(store, new SessionStore.Content(session, theta0Ref, names, u, masks, taskNames, rescalers,
              protos, adapters), hook);
        }
      } finally {
        // U is a model's worth of native memory: without this it stayed until a GC, one U per session
        u.forEach(Tensor::close);
      }
    } finally {
      if (previous != null) previous.close();
    }
  }
}
