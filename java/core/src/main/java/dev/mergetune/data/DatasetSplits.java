package dev.mergetune.data;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The splits a source provides (some have no train or val split), all sharing one class list. */
public final class DatasetSplits {
  private final String name;
  private final Map<Split, Dataset> splits;

  public DatasetSplits(String name, Map<Split, Dataset> splits) {
    this.name = Objects.requireNonNull(name, "name");
    if (splits.isEmpty()) throw new IllegalArgumentException(name + ": no split");
    this.splits = Collections.unmodifiableMap(new EnumMap<>(splits));
    Dataset first = this.splits.values().iterator().next();
    for (Map.Entry<Split, Dataset> e : this.splits.entrySet()) {
      if (!e.getValue().classNames().equals(first.classNames())) {
        throw new DatasetException(name + ": the " + e.getKey().key() + " split has other classes than the others");
      }
    }
  }

  public String name() {
    return name;
  }

  public Set<Split> available() {
    return splits.keySet();
  }

  public boolean has(Split s) {
    return splits.containsKey(s);
  }

  /** The split, or a {@link DatasetException} saying which splits this dataset has. */
  public Dataset get(Split s) {
    Dataset d = splits.get(s);
    if (d == null) throw new DatasetException(name + " has no " + s.key() + " split (it has " + keys() + ")");
    return d;
  }

  public Dataset train() {
    return get(Split.TRAIN);
  }

  public Dataset val() {
    return get(Split.VAL);
  }

  public Dataset test() {
    return get(Split.TEST);
  }

  private String keys() {
    StringBuilder sb = new StringBuilder();
    for (Split s : splits.keySet()) sb.append(sb.length() == 0 ? "" : ", ").append(s.key());
    return sb.toString();
  }

  @Override
  public String toString() {
    return name + " " + splits.values();
  }
}
