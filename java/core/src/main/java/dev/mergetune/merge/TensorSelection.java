package dev.mergetune.merge;

import dev.mergetune.tensors.BufferNames;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.NameFilter;
import dev.mergetune.tensors.TensorInfo;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which tensors a merge combines: floating tensors whose names pass the include/exclude globs ({@link NameFilter})
 * and, with {@code trainableOnly}, that are trainable parameters — as the checkpoint records them (a TorchScript
 * module lists its parameters), else every tensor that is not a known buffer ({@link BufferNames}). The rest is
 * copied from the reference input unchanged.
 */
public record TensorSelection(List<String> include, List<String> exclude, boolean trainableOnly) {
  public TensorSelection {
    include = List.copyOf(include);
    exclude = List.copyOf(exclude);
  }

  public static TensorSelection all() {
    return new TensorSelection(List.of(), List.of(), false);
  }

  /** The names (in file order) of the reference's tensors this selection merges. */
  public Set<String> merged(Checkpoint reference) {
    NameFilter names = NameFilter.of(include, exclude);
    Optional<Set<String>> parameters = reference.parameterNames();
    Set<String> out = new LinkedHashSet<>();
    for (TensorInfo t : reference.tensors().values()) {
      if (!t.dtype().isFloating() || !names.test(t.name())) continue;
      if (trainableOnly && !parameters.map(p -> p.contains(t.name())).orElse(!BufferNames.isBuffer(t.name()))) continue;
      out.add(t.name());
    }
    return out;
  }

  /** Output metadata describing the selection. */
  public Map<String, String> metadata(int mergedCount) {
    Map<String, String> m = new LinkedHashMap<>();
    if (!include.isEmpty()) m.put("mergetune.include", String.join(",", include));
    if (!exclude.isEmpty()) m.put("mergetune.exclude", String.join(",", exclude));
    if (trainableOnly) m.put("mergetune.trainable_only", "true");
    m.put("mergetune.merged_tensors", Integer.toString(mergedCount));
    return m;
  }

  @Override
  public String toString() {
    return "(include " + include + ", exclude " + exclude + (trainableOnly ? ", trainable only" : "") + ")";
  }
}
