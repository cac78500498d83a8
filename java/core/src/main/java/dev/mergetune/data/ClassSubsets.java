package dev.mergetune.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Class subsets and relabelling.
 *
 * <p>Base-to-novel (CoOp's {@code subsample_classes}): the base classes are the first {@code ceil(C/2)} labels, the
 * novel classes the rest; each subset is relabelled from 0 in the original label order and keeps only its samples.
 * CoOp counts C from the labels present in the train split; here C is the dataset's class count, the same whenever
 * every class has a sample (which datasets require unless told otherwise).
 */
public final class ClassSubsets {
  private ClassSubsets() {}

  /** The base classes: labels {@code 0 .. ceil(C/2)-1}, unchanged. */
  public static Dataset base(Dataset d) {
    int c = d.numClasses();
    return byLabels(d, range(0, baseCount(c)), d.name() + "/base");
  }

  /** The novel classes: labels {@code ceil(C/2) .. C-1}, relabelled from 0. */
  public static Dataset novel(Dataset d) {
    int c = d.numClasses();
    if (c < 2) throw new DatasetException(d.name() + ": a single class has no novel half");
    return byLabels(d, range(baseCount(c), c), d.name() + "/novel");
  }

  /** {@code ceil(C/2)}. */
  public static int baseCount(int classes) {
    return (classes + 1) / 2;
  }

  /**
   * The samples of the given classes, relabelled by their position in {@code labels} (so {@code labels.get(i)}
   * becomes label {@code i}); sample order is kept. Labels must be distinct and in range.
   */
  public static Dataset byLabels(Dataset d, List<Integer> labels, String name) {
    int[] map = new int[d.numClasses()];
    Arrays.fill(map, -1);
    List<String> names = new ArrayList<>(labels.size());
    for (int i = 0; i < labels.size(); i++) {
      int l = labels.get(i);
      if (l < 0 || l >= d.numClasses()) {
        throw new DatasetException(d.name() + ": label " + l + " is out of range (" + d.numClasses() + " classes)");
      }
      if (map[l] >= 0) throw new DatasetException(d.name() + ": label " + l + " is selected twice");
      map[l] = i;
      names.add(d.className(l));
    }
    if (names.isEmpty()) throw new DatasetException(d.name() + ": no class selected");
    List<Sample> out = new ArrayList<>();
    for (Sample s : d.samples()) if (map[s.label()] >= 0) out.add(new Sample(s.image(), map[s.label()]));
    return Dataset.derived(name, names, out);
  }

  public static Dataset byLabels(Dataset d, List<Integer> labels) {
    return byLabels(d, labels, d.name() + "/subset");
  }

  /** {@link #byLabels} with the classes given by name; a name the dataset lacks (or has twice) is an error. */
  public static Dataset byNames(Dataset d, List<String> classNames) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < d.numClasses(); i++) {
      if (index.putIfAbsent(d.className(i), i) != null) index.put(d.className(i), -1);
    }
    List<Integer> labels = new ArrayList<>(classNames.size());
    for (String n : classNames) {
      Integer l = index.get(n);
      if (l == null) throw new DatasetException(d.name() + ": no class named '" + n + "'");
      if (l < 0) throw new DatasetException(d.name() + ": two classes are named '" + n + "'; select them by label");
      labels.add(l);
    }
    return byLabels(d, labels, d.name() + "/subset");
  }

  /**
   * Every sample relabelled through {@code newLabel} ({@code newLabel[old]}), with the given class names for the new
   * labels; a value of -1 drops the old class's samples. Several old labels may map to one new label.
   */
  public static Dataset remap(Dataset d, int[] newLabel, List<String> newClassNames, String name) {
    if (newLabel.length != d.numClasses()) {
      throw new DatasetException(d.name() + ": the label map has " + newLabel.length + " entries for " + d.numClasses()
          + " classes");
    }
    List<Sample> out = new ArrayList<>();
    for (Sample s : d.samples()) {
      int l = newLabel[s.label()];
      if (l < -1 || l >= newClassNames.size()) {
        throw new DatasetException(d.name() + ": label " + s.label() + " maps to " + l + ", out of range ("
            + newClassNames.size() + " classes)");
      }
      if (l >= 0) out.add(new Sample(s.image(), l));
    }
    return Dataset.of(name, newClassNames, out);
  }

  /** The label map of {@link #byLabels}: {@code map[old] = new} or -1. */
  public static int[] labelMap(int classes, List<Integer> labels) {
    int[] map = new int[classes];
    Arrays.fill(map, -1);
    for (int i = 0; i < labels.size(); i++) {
      int l = labels.get(i);
      if (l < 0 || l >= classes || map[l] >= 0) throw new IllegalArgumentException("label " + l + " out of range or repeated");
      map[l] = i;
    }
    return map;
  }

  private static List<Integer> range(int from, int to) {
    List<Integer> out = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) out.add(i);
    return out;
  }
}
