package dev.mergetune.condu;

import java.util.ArrayList;
import java.util.List;

/**
 * An independent double-precision ConDU session loop (methods.md §2.1–2.3) for the tests: per element, flag = +1 if
 * the sum of the deltas is > 0 else −1; M^i = [δ^i·flag > 0]; U = flag·max_i |δ^i·M^i|; λ^i = Σ_s mean|δ^i| /
 * Σ_s mean|M^i·U| (1 when the denominator is 0). Each session rebuilds the old deltas as λ^i·M^i⊙U of the previous
 * session, then unifies them with the new delta. Arrays are [segment][element].
 */
final class SessionLoopReference {
  double[][] unified;
  final List<boolean[][]> masks = new ArrayList<>();
  final List<Double> rescalers = new ArrayList<>();
  /** Σ_i δ^i of the last unify, per element (to recognise near-ties). */
  double[][] sums;

  void addTask(double[][] delta) {
    List<double[][]> inputs = new ArrayList<>();
    for (int i = 0; i < masks.size(); i++) inputs.add(rebuilt(i));
    inputs.add(delta);
    unify(inputs);
  }

  double[][] rebuilt(int task) {
    double[][] out = new double[unified.length][];
    for (int s = 0; s < out.length; s++) {
      out[s] = new double[unified[s].length];
      for (int j = 0; j < out[s].length; j++) {
        out[s][j] = masks.get(task)[s][j] ? rescalers.get(task) * unified[s][j] : 0.0;
      }
    }
    return out;
  }

  private void unify(List<double[][]> deltas) {
    int tasks = deltas.size();
    int segments = deltas.get(0).length;
    unified = new double[segments][];
    sums = new double[segments][];
    masks.clear();
    rescalers.clear();
    for (int i = 0; i < tasks; i++) masks.add(new boolean[segments][]);
    double[] num = new double[tasks];
    double[] den = new double[tasks];
    for (int s = 0; s < segments; s++) {
      int n = deltas.get(0)[s].length;
      unified[s] = new double[n];
      sums[s] = new double[n];
      for (int i = 0; i < tasks; i++) masks.get(i)[s] = new boolean[n];
      for (int j = 0; j < n; j++) {
        double sum = 0;
        for (double[][] d : deltas) sum += d[s][j];
        sums[s][j] = sum;
        double flag = sum > 0 ? 1 : -1;
        double max = 0;
        for (int i = 0; i < tasks; i++) {
          double d = deltas.get(i)[s][j];
          if (d * flag > 0) {
            masks.get(i)[s][j] = true;
            max = Math.max(max, Math.abs(d));
          }
        }
        unified[s][j] = flag * max;
      }
      if (n == 0) continue;
      for (int i = 0; i < tasks; i++) {
        double a = 0;
        double b = 0;
        for (int j = 0; j < n; j++) {
          a += Math.abs(deltas.get(i)[s][j]);
          if (masks.get(i)[s][j]) b += Math.abs(unified[s][j]);
        }
        num[i] += a / n;
        den[i] += b / n;
      }
    }
    for (int i = 0; i < tasks; i++) rescalers.add(den[i] == 0 ? 1.0 : num[i] / den[i]);
  }
}
