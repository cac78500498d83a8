package dev.mergetune.data;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable classification dataset: a name, the class names (label {@code i} is {@code classNames().get(i)}) and
 * the labelled images, in a fixed order that every source documents.
 *
 * <p>Validated on construction: at least one class, every label in range, and, unless explicitly allowed, no two
 * classes with the same name and no class without a sample. Whether the image files exist is checked by
 * {@link #requireFilesExist()}, which the sources call by default ({@link FileCheck}).
 */
public final class Dataset {
  /** What validation may let through when a source asks for it explicitly. */
  public enum Allow {
    /** Classes with no sample (e.g. a test split that lacks a class; a class list shared by several subsets). */
    EMPTY_CLASSES,
    /** Two classes with the same name (CLIP's ImageNet names have two, as published). */
    DUPLICATE_NAMES
  }

  private final String name;
  private final List<String> classNames;
  private final List<Sample> samples;
  private final int[] counts;

  private Dataset(String name, List<String> classNames, List<Sample> samples, Set<Allow> allow) {
    this.name = Objects.requireNonNull(name, "name");
    if (name.isBlank()) throw new IllegalArgumentException("a dataset needs a name");
    this.classNames = List.copyOf(classNames);
    this.samples = List.copyOf(samples);
    int c = this.classNames.size();
    if (c == 0) throw new DatasetException(name + ": no classes");
    if (!allow.contains(Allow.DUPLICATE_NAMES)) {
      Map<String, Integer> seen = new HashMap<>();
      for (int i = 0; i < c; i++) {
        Integer prev = seen.putIfAbsent(this.classNames.get(i), i);
        if (prev != null) {
          throw new DatasetException(name + ": duplicate class name '" + this.classNames.get(i) + "' (labels " + prev
              + " and " + i + ")");
        }
      }
    }
    counts = new int[c];
    for (Sample s : this.samples) {
      if (s.label() >= c) {
        throw new DatasetException(name + ": label " + s.label() + " of " + s.image() + " is out of range (" + c
            + " classes)");
      }
      counts[s.label()]++;
    }
    if (!allow.contains(Allow.EMPTY_CLASSES)) {
      List<String> empty = new ArrayList<>();
      for (int i = 0; i < c; i++) if (counts[i] == 0) empty.add("'" + this.classNames.get(i) + "' (label " + i + ")");
      if (!empty.isEmpty()) {
        throw new DatasetException(name + ": " + empty.size() + " of " + c + " classes have no sample: "
            + String.join(", ", empty.subList(0, Math.min(10, empty.size()))) + (empty.size() > 10 ? ", ..." : ""));
      }
    }
  }

  /** A dataset validated strictly: no duplicate class names, no empty class. */
  public static Dataset of(String name, List<String> classNames, List<Sample> samples) {
    return new Dataset(name, classNames, samples, EnumSet.noneOf(Allow.class));
  }

  /** A dataset validated with the given exceptions allowed. */
  public static Dataset of(String name, List<String> classNames, List<Sample> samples, Allow first, Allow... rest) {
    return new Dataset(name, classNames, samples, EnumSet.of(first, rest));
  }

  /** A dataset validated with the given exceptions allowed (an empty set: strictly). */
  public static Dataset of(String name, List<String> classNames, List<Sample> samples, Set<Allow> allow) {
    return new Dataset(name, classNames, samples, allow.isEmpty() ? EnumSet.noneOf(Allow.class) : EnumSet.copyOf(allow));
  }

  /** A dataset made from a validated one (a subset, a relabelling): what the original allowed stays allowed. */
  static Dataset derived(String name, List<String> classNames, List<Sample> samples) {
    return new Dataset(name, classNames, samples, EnumSet.allOf(Allow.class));
  }

  public String name() {
    return name;
  }

  /** The class names, label order; immutable. */
  public List<String> classNames() {
    return classNames;
  }

  /** The samples in the order the source defines; immutable. */
  public List<Sample> samples() {
    return samples;
  }

  public int size() {
    return samples.size();
  }

  public int numClasses() {
    return classNames.size();
  }

  public String className(int label) {
    return classNames.get(label);
  }

  /** The number of samples of each class, indexed by label (a copy). */
  public int[] classCounts() {
    return counts.clone();
  }

  /** The samples of each class, indexed by label, each in dataset order. */
  public List<List<Sample>> byClass() {
    List<List<Sample>> out = new ArrayList<>(classNames.size());
    for (int count : counts) out.add(new ArrayList<>(count));
    for (Sample s : samples) out.get(s.label()).add(s);
    List<List<Sample>> frozen = new ArrayList<>(out.size());
    for (List<Sample> l : out) frozen.add(Collections.unmodifiableList(l));
    return Collections.unmodifiableList(frozen);
  }

  /** The same classes and samples under another name. */
  public Dataset withName(String newName) {
    return new Dataset(newName, classNames, samples, EnumSet.allOf(Allow.class));
  }

  /** The samples whose image is not a readable regular file, in dataset order. */
  public List<Sample> missingFiles() {
    List<Sample> missing = new ArrayList<>();
    for (Sample s : samples) if (!Files.isRegularFile(s.image()) || !Files.isReadable(s.image())) missing.add(s);
    return missing;
  }

  /** Throws a {@link DatasetException} naming the first missing images (and their count) if any is missing. */
  public Dataset requireFilesExist() {
    List<Sample> missing = missingFiles();
    if (!missing.isEmpty()) {
      StringBuilder sb = new StringBuilder(name).append(": ").append(missing.size()).append(" of ").append(size())
          .append(missing.size() == 1 ? " image is" : " images are").append(" missing or unreadable: ");
      for (int i = 0; i < Math.min(5, missing.size()); i++) sb.append(i == 0 ? "" : ", ").append(missing.get(i).image());
      if (missing.size() > 5) sb.append(", ...");
      throw new DatasetException(sb.toString());
    }
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Dataset d && d.name.equals(name) && d.classNames.equals(classNames) && d.samples.equals(samples);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, classNames, samples);
  }

  @Override
  public String toString() {
    return name + " (" + size() + " images, " + numClasses() + " classes)";
  }
}
