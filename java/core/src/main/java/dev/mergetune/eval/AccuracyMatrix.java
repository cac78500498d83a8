package dev.mergetune.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The MTIL accuracy matrix A[s][d]: the accuracy on dataset d after training session s, T × T for T ≥ 2 datasets
 * learnt in order (session s trains dataset s), with the datasets' names. Units are the caller's (percent in the
 * papers); nothing is rescaled.
 *
 * <p>Metrics (methods.md §2.5, with 0-based s and d):
 * <ul>
 *   <li>Transfer = (1/(T−1)) · Σ_{d=1..T−1} mean_{s&lt;d} A[s][d] — each dataset's accuracy before it is trained on,
 *       averaged over the sessions before it, then over the T−1 datasets that have such sessions;</li>
 *   <li>Average = the mean of all T² entries;</li>
 *   <li>Last = the mean of the last row.</li>
 * </ul>
 * The task-agnostic variant (every entry predicted through aggregation, no task identity) uses the same formulas;
 * {@link #taskAgnostic()} only labels the matrix in reports.
 */
public final class AccuracyMatrix {
  private final double[][] a;
  private final List<String> datasets;
  private final boolean taskAgnostic;

  private AccuracyMatrix(double[][] a, List<String> datasets, boolean taskAgnostic) {
    this.a = a;
    this.datasets = datasets;
    this.taskAgnostic = taskAgnostic;
  }

  /** A matrix with default dataset names D1..DT. */
  public static AccuracyMatrix of(double[][] entries) {
    return of(entries, defaultNames(entries.length), false);
  }

  /** A matrix with dataset names (distinct, non-blank, one per column; session s trains dataset s). */
  public static AccuracyMatrix of(double[][] entries, List<String> datasets, boolean taskAgnostic) {
    int t = entries.length;
    if (t < 2) throw new IllegalArgumentException("an accuracy matrix needs T >= 2 sessions, got " + t);
    double[][] copy = new double[t][];
    for (int s = 0; s < t; s++) {
      if (entries[s].length != t) {
        throw new IllegalArgumentException("an accuracy matrix is T x T: row " + (s + 1) + " of " + t + " has "
            + entries[s].length + " entries");
      }
      copy[s] = entries[s].clone();
      for (int d = 0; d < t; d++) {
        if (!Double.isFinite(copy[s][d])) {
          throw new IllegalArgumentException("entry [" + (s + 1) + "][" + (d + 1) + "] is not finite: " + copy[s][d]);
        }
      }
    }
    return new AccuracyMatrix(copy, checkNames(datasets, t), taskAgnostic);
  }

  /** The same numbers with other dataset names. */
  public AccuracyMatrix withNames(List<String> names) {
    return new AccuracyMatrix(a, checkNames(names, a.length), taskAgnostic);
  }

  /** The same numbers, labelled task-agnostic (every entry used aggregation) or not. */
  public AccuracyMatrix withTaskAgnostic(boolean flag) {
    return new AccuracyMatrix(a, datasets, flag);
  }

  /** D1..DT. */
  public static List<String> defaultNames(int t) {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= t; i++) names.add("D" + i);
    return List.copyOf(names);
  }

  /** T, the number of sessions and of datasets. */
  public int size() {
    return a.length;
  }

  /** A[s][d], 0-based. */
  public double get(int session, int dataset) {
    return a[session][dataset];
  }

  /** A copy of the entries. */
  public double[][] toArray() {
    double[][] copy = new double[a.length][];
    for (int s = 0; s < a.length; s++) copy[s] = a[s].clone();
    return copy;
  }

  public List<String> datasets() {
    return datasets;
  }

  public boolean taskAgnostic() {
    return taskAgnostic;
  }

  /** mean_{s&lt;d} A[s][d]: dataset d's accuracy averaged over the sessions before it; d in 1..T−1. */
  public double transferOf(int dataset) {
    if (dataset < 1 || dataset >= a.length) {
      throw new IllegalArgumentException("transfer is defined for datasets 1.." + (a.length - 1) + " (0-based), got "
          + dataset);
    }
    double sum = 0;
    for (int s = 0; s < dataset; s++) sum += a[s][dataset];
    return sum / dataset;
  }

  /** (1/(T−1)) · Σ_{d=1..T−1} {@link #transferOf(int)}. */
  public double transfer() {
    double sum = 0;
    for (int d = 1; d < a.length; d++) sum += transferOf(d);
    return sum / (a.length - 1);
  }

  /** The mean of all T² entries. */
  public double average() {
    double sum = 0;
    for (double[] row : a) {
      for (double v : row) sum += v;
    }
    return sum / ((double) a.length * a.length);
  }

  /** The mean of dataset d's column (its "Avg." entry in the papers' per-dataset tables). */
  public double averageOf(int dataset) {
    double sum = 0;
    for (double[] row : a) sum += row[dataset];
    return sum / a.length;
  }

  /** The mean of the last row. */
  public double last() {
    double sum = 0;
    for (double v : a[a.length - 1]) sum += v;
    return sum / a.length;
  }

  /** Transfer, Average and Last together, with the task-agnostic label. */
  public MtilMetrics metrics() {
    return new MtilMetrics(transfer(), average(), last(), taskAgnostic);
  }

  private static List<String> checkNames(List<String> names, int t) {
    if (names.size() != t) {
      throw new IllegalArgumentException(names.size() + " dataset names for a " + t + " x " + t + " matrix");
    }
    Set<String> seen = new HashSet<>();
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (n == null || n.isBlank()) throw new IllegalArgumentException("a dataset name is blank");
      String s = n.strip();
      if (!seen.add(s)) throw new IllegalArgumentException("dataset name " + s + " appears twice");
      out.add(s);
    }
    return List.copyOf(out);
  }
}
