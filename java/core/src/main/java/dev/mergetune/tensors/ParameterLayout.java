package dev.mergetune.tensors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The names, dtypes and shapes of a parameter set, in order — what a merge needs to know before it reads a byte.
 * Filters narrow it (name patterns, float-only); {@link #requireCompatible} checks every input of a merge against
 * a reference and fails with the full list of differences rather than the first, and never skips a mismatch.
 */
public final class ParameterLayout {
  /** One parameter's metadata. */
  public record Entry(String name, DType dtype, long[] shape) {
    public Entry {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public long numel() {
      long n = 1;
      for (long d : shape) n *= d;
      return n;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Entry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
  }

  private final Map<String, Entry> entries;

  private ParameterLayout(Map<String, Entry> entries) {
    this.entries = Collections.unmodifiableMap(entries);
  }

  public static ParameterLayout of(List<Entry> entries) {
    Map<String, Entry> map = new LinkedHashMap<>();
    for (Entry e : entries) {
      if (map.put(e.name(), e) != null) throw new IllegalArgumentException("parameter '" + e.name() + "' appears twice");
    }
    return new ParameterLayout(map);
  }

  /** The layout of a checkpoint, in its tensor order. */
  public static ParameterLayout of(Checkpoint checkpoint) {
    List<Entry> list = new ArrayList<>();
    for (TensorInfo t : checkpoint.tensors().values()) list.add(new Entry(t.name(), t.dtype(), t.shape()));
    return of(list);
  }

  public Map<String, Entry> entries() {
    return entries;
  }

  public int size() {
    return entries.size();
  }

  public long totalElements() {
    long n = 0;
    for (Entry e : entries.values()) n += e.numel();
    return n;
  }

  public ParameterLayout filter(Predicate<Entry> keep) {
    Map<String, Entry> kept = new LinkedHashMap<>();
    for (Entry e : entries.values()) {
      if (keep.test(e)) kept.put(e.name(), e);
    }
    return new ParameterLayout(kept);
  }

  /** Only the floating tensors (what merges combine; integer tensors pass through unchanged). */
  public ParameterLayout floatOnly() {
    return filter(e -> e.dtype().isFloating());
  }

  /** Only the names a {@link NameFilter} keeps. */
  public ParameterLayout matching(NameFilter names) {
    return filter(e -> names.test(e.name()));
  }

  /**
   * Fails unless every input has exactly the reference's parameters with the same shapes and dtypes; the message
   * lists every difference of every input (missing, unexpected, shape, dtype), at most {@code 50} lines of them.
   */
  public static void requireCompatible(String referenceName, ParameterLayout reference, Map<String, ParameterLayout> inputs) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, ParameterLayout> input : inputs.entrySet()) {
      String who = input.getKey();
      Map<String, Entry> theirs = input.getValue().entries;
      for (Entry ref : reference.entries.values()) {
        Entry e = theirs.get(ref.name());
        if (e == null) {
          problems.add(who + ": missing '" + ref.name() + "'");
        } else if (!Arrays.equals(e.shape, ref.shape)) {
          problems.add(who + ": '" + ref.name() + "' has shape " + Arrays.toString(e.shape) + ", " + referenceName
              + " has " + Arrays.toString(ref.shape));
        } else if (e.dtype() != ref.dtype()) {
          problems.add(who + ": '" + ref.name() + "' is " + e.dtype() + ", " + referenceName + " has " + ref.dtype());
        }
      }
      for (String name : theirs.keySet()) {
        if (!reference.entries.containsKey(name)) problems.add(who + ": unexpected '" + name + "' (not in " + referenceName + ")");
      }
    }
    if (problems.isEmpty()) return;
    StringBuilder sb = new StringBuilder(problems.size() + " mismatch" + (problems.size() == 1 ? "" : "es")
        + " against " + referenceName + ":");
    for (int i = 0; i < Math.min(50, problems.size()); i++) sb.append("\n  ").append(problems.get(i));
    if (problems.size() > 50) sb.append("\n  ... and ").append(problems.size() - 50).append(" more");
    throw new LayoutMismatchException(problems, sb.toString());
  }
}
