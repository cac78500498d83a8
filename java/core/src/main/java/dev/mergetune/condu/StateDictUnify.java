package dev.mergetune.condu;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.merge.UnifiedFiles;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.ParameterLayout;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * ConDU's unify for any state dict: experts fine-tuned from one base θ0, added one session at a time to a session
 * store exactly as {@code condu add-task --expert} does ({@link ConduSessions#addTaskFromExpert}: δ = expert − θ0 in
 * fp32, then {@link TensorwiseUnify} — the sign-consistent max K3 over [the old tasks rebuilt as λ^i·M^i⊙U, δ]),
 * but with no CLIP model, images or vocabulary (no prototypes), then the last session exported in the unified
 * format {@link UnifiedFiles} that {@code merge --method emr} writes too. Every floating tensor of θ0 is unified;
 * the others are left out of U and come back from θ0 when an expert is decoupled.
 *
 * <p>Sequential, as ConDU is: with two experts this is EMR-Merging's unify; from the third on the old tasks enter
 * through their reconstruction, so it is not EMR's one-shot unify of all T deltas.
 */
public final class StateDictUnify {
  private StateDictUnify() {}

  /**
   * Unifies {@code experts} (named {@code names}) against {@code base}; keeps the session store at {@code store}
   * (null: a temporary one beside {@code out}, deleted after) and writes {@code out} with its side files.
   *
   * @return the files written
   */
  public static List<Path> run(Path base, List<Path> experts, List<String> names, Path store, Path out)
      throws IOException {
    if (experts.isEmpty()) throw new IllegalArgumentException("unify needs at least one --expert");
    if (names.size() != experts.size()) {
      throw new IllegalArgumentException(names.size() + " names for " + experts.size() + " experts");
    }
    if (new java.util.HashSet<>(names).size() != names.size()) throw new IllegalArgumentException("task names repeat: " + names);
    NativeRuntime.ensureTorch();
    Theta0Ref theta0Ref = Theta0Ref.of(base);
    boolean temporary = store == null;
    Path dir = temporary ? Files.createTempDirectory(out.toAbsolutePath().getParent(), ".unify-") : store;
    if (!temporary && SessionStore.exists(dir)) {
      throw new IllegalArgumentException("--store " + dir + " already holds a session store; give a new folder");
    }
    try (Checkpoint b = Checkpoints.open(base)) {
      Map<String, ParameterLayout> layouts = new LinkedHashMap<>();
      for (Path e : experts) {
        try (Checkpoint x = Checkpoints.open(e)) {
          layouts.put(e.toString(), ParameterLayout.of(x));
        }
      }
      try {
        ParameterLayout.requireCompatible(base.toString(), ParameterLayout.of(b), layouts);
      } catch (dev.mergetune.tensors.LayoutMismatchException e) {
        if (e.problems().size() != 1) throw e;  // every difference listed, one per line
        throw new IllegalArgumentException(e.problems().get(0) + " (the experts must have θ0's tensors and shapes)", e);
      }
      Map<String, Tensor> theta0 = floating(b);
      if (theta0.isEmpty()) throw new IllegalArgumentException(base + ": no floating tensor to unify");
      try {
        for (int k = 0; k < experts.size(); k++) {
          Map<String, Tensor> expert;
          try (Checkpoint x = Checkpoints.open(experts.get(k))) {
            expert = floating(x);
          }
          try {
            ConduSessions.addTaskFromExpert(dir, theta0Ref, names.get(k), theta0, expert, null);
          } finally {
            expert.values().forEach(Tensor::close);
          }
        }
      } finally {
        theta0.values().forEach(Tensor::close);
      }
      try (StoredSession s = SessionStore.load(dir)) {
        double[] rescalers = new double[s.tasks()];
        for (int i = 0; i < rescalers.length; i++) rescalers[i] = s.rescaler(i);
        return UnifiedFiles.write(out, "condu", base, theta0Ref.sha256(), experts, s.taskNames(), s.tensorNames(),
            s.unifiedTensors(), s.masks(), rescalers);
      }
    } finally {
      if (temporary) deleteTree(dir);
    }
  }

  /** The checkpoint's floating tensors as CPU float32 tensors, in file order. */
  static Map<String, Tensor> floating(Checkpoint c) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (TensorInfo t : c.tensors().values()) {
      if (!t.dtype().isFloating()) continue;
      out.put(t.name(), Tensor.create(dev.mergetune.merge.UnifiedExpert.floats(c, t), t.shape()));
    }
    return out;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
