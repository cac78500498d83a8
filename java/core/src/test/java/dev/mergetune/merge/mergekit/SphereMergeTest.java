package dev.mergetune.merge.mergekit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nuslerp and multislerp through the streaming merge against a double reference written here step by step on the
 * vectors themselves, as mergekit v0.1.4's nuslerp.py / multislerp.py do (normalise, dot, arccos, sines; unit
 * vectors, weighted mean, tangent projection, exponential map, average norm) — not through the Gram matrix the
 * implementation uses — with and without a base, a per-tensor weight filter, and the colinear fallbacks.
 */
class SphereMergeTest {
  @TempDir Path dir;

  private static final String[] NAMES = {"attn.w", "mlp.w", "same"};

  private double[][] write(String file, Random rng, double[][] around, double sd) throws Exception {
    double[][] v = new double[NAMES.length][];
    List<TensorSource> ts = new ArrayList<>();
    for (int s = 0; s < NAMES.length; s++) {
      v[s] = new double[60 + 25 * s];
      float[] f = new float[v[s].length];
      for (int j = 0; j < f.length; j++) {
        f[j] = around == null ? (float) rng.nextGaussian()
            : NAMES[s].equals("same") ? (float) (around[s][j] * 2) : (float) (around[s][j] + sd * rng.nextGaussian());
        v[s][j] = f[j];
      }
      ts.add(TensorSource.ofFloats(NAMES[s], new long[] {f.length}, f, DType.F32));
    }
    SafetensorsWriter.write(dir.resolve(file), ts, Map.of());
    return v;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int j = 0; j < a.length; j++) s += a[j] * b[j];
    return s;
  }

  private static double[] sub(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int j = 0; j < a.length; j++) r[j] = a[j] - (b == null ? 0 : b[j]);
    return r;
  }

  /** nuslerp.py's nuslerp(t, v0, v1, flatten=True) in double. */
  static double[] nuslerpRef(double t, double[] v0, double[] v1) {
    double n0 = Math.max(Math.sqrt(dot(v0, v0)), 1e-7), n1 = Math.max(Math.sqrt(dot(v1, v1)), 1e-7);
    double cos = 0;
    for (int j = 0; j < v0.length; j++) cos += (v0[j] / n0) * (v1[j] / n1);
    double theta = Math.acos(Math.max(-1, Math.min(1, cos))), sin = Math.sin(theta);
    double[] r = new double[v0.length];
    for (int j = 0; j < r.length; j++) {
      r[j] = Math.abs(sin) < 1e-8 ? (1 - t) * v0[j] + t * v1[j]
          : (Math.sin((1 - t) * theta) * v0[j] + Math.sin(t * theta) * v1[j]) / sin;
    }
    return r;
  }

  /** multislerp.py's multislerp(tensors, weight, base, normalize_weights=True, eps=1e-8) in double. */
  static double[] multislerpRef(double[][] xs, double[] weight, double[] base) {
    int k = xs.length, n = xs[0].length;
    if (k == 1) return xs[0].clone();
    double eps = 1e-8;
    double[][] x = new double[k][];
    for (int i = 0; i < k; i++) x[i] = sub(xs[i], base);
    double ws = 0;
    for (double w : weight) ws += w;
    double[] w = new double[k];
    for (int i = 0; i < k; i++) w[i] = weight[i] / ws;
    double[] norms = new double[k];
    double[][] u = new double[k][n];
    for (int i = 0; i < k; i++) {
      norms[i] = Math.sqrt(dot(x[i], x[i]));
      for (int j = 0; j < n; j++) u[i][j] = x[i][j] / (norms[i] + eps);
    }
    double[] mean = new double[n];
    for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) mean[j] += u[i][j] * w[i];
    double mn = Math.sqrt(dot(mean, mean));
    for (int j = 0; j < n; j++) mean[j] /= mn;
    double[] tangent = new double[n];
    for (int i = 0; i < k; i++) {
      double d = dot(u[i], mean);
      for (int j = 0; j < n; j++) tangent[j] += (u[i][j] - d * mean[j]) * w[i];
    }
    double tn = Math.sqrt(dot(tangent, tangent)) + eps;
    double avg = 0;
    for (int i = 0; i < k; i++) avg += norms[i] * w[i];
    double[] r = new double[n];
    for (int j = 0; j < n; j++) {
      r[j] = (mean[j] * Math.cos(tn) + tangent[j] * Math.sin(tn) / tn) * avg + (base == null ? 0 : base[j]);
    }
    return r;
  }

  private static Map<String, ParameterSetting> weight(double v) {
    return Map.of("weight", new ParameterSetting.Scalar(v));
  }

  private static void near(double[] want, float[] got, String what) {
    double scale = 0;
    for (double v : want) scale = Math.max(scale, Math.abs(v));
    for (int j = 0; j < want.length; j++) assertEquals(want[j], got[j], 2e-6 * Math.max(1, scale), what + "[" + j + "]");
  }

  private float[] merged(String file, String tensor) throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(file))) {
      return f.readFloats(tensor);
    }
  }

  @Test
  void nuslerpMatchesTheReferenceWithAndWithoutBase() throws Exception {
    Random rng = new Random(4);
    double[][] b = write("base.safetensors", rng, null, 0);
    double[][] m0 = write("m0.safetensors", rng, b, 0.7), m1 = write("m1.safetensors", rng, b, 0.7);
    // weight of model 1 differs on mlp tensors: t = w1 / (w0 + w1) is per tensor
    Map<String, ParameterSetting> w1 = Map.of("weight", new ParameterSetting.Conditions(List.of(
        new ParameterSetting.Conditional("mlp", 3.0), new ParameterSetting.Conditional(null, 1.0))));
    List<Map<String, ParameterSetting>> per = List.of(weight(1.0), w1);
    StreamingMerge.run(dir.resolve("base.safetensors"), List.of(dir.resolve("m0.safetensors"), dir.resolve("m1.safetensors")),
        new SphereMerge(new GtaSettings(GtaMethod.NUSLERP, Map.of(), per, "test"), true), List.of(dir.resolve("nb.safetensors")));
    StreamingMerge.run(null, List.of(dir.resolve("m0.safetensors"), dir.resolve("m1.safetensors")),
        new SphereMerge(new GtaSettings(GtaMethod.NUSLERP, Map.of(), per, "test"), false), List.of(dir.resolve("n.safetensors")));
    for (int s = 0; s < NAMES.length; s++) {
      double t = NAMES[s].startsWith("mlp") ? 0.75 : 0.5;
      double[] withBase = nuslerpRef(t, sub(m0[s], b[s]), sub(m1[s], b[s]));
      for (int j = 0; j < withBase.length; j++) withBase[j] += b[s][j];
      near(withBase, merged("nb.safetensors", NAMES[s]), "nuslerp+base " + NAMES[s]);
      near(nuslerpRef(t, m0[s], m1[s]), merged("n.safetensors", NAMES[s]), "nuslerp " + NAMES[s]);
    }
    // "same" above took the colinear branch with a base (m_i − b = b for both models); the branch's coefficients
    // on two parallel vectors are the linear ones
    double[] c = SphereMerge.nuslerpCoefficients(new double[] {1, 3}, new double[][] {{4, 8}, {8, 16}});
    assertEquals(0.25, c[0], 1e-12);
    assertEquals(0.75, c[1], 1e-12);
    double[] half = SphereMerge.nuslerpCoefficients(new double[] {1, -1}, new double[][] {{1, 0}, {0, 1}});
    assertEquals(Math.sin(Math.PI / 4) / 1, half[0], 1e-12, "weights summing to 0 give t = 0.5");
  }

  @Test
  void multislerpMatchesTheReferenceForOneTwoAndThreeModels() throws Exception {
    Random rng = new Random(8);
    double[][] b = write("base.safetensors", rng, null, 0);
    double[][][] ms = {write("m0.safetensors", rng, b, 0.6), write("m1.safetensors", rng, b, 0.6),
        write("m2.safetensors", rng, b, 0.6)};
    double[] w = {0.5, 1.5, 1.0};
    for (int k = 1; k <= 3; k++) {
      List<Path> models = new ArrayList<>();
      List<Map<String, ParameterSetting>> per = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        models.add(dir.resolve("m" + i + ".safetensors"));
        per.add(weight(w[i]));
      }
      GtaSettings settings = new GtaSettings(GtaMethod.MULTISLERP, Map.of(), per, "test");
      StreamingMerge.run(dir.resolve("base.safetensors"), models, new SphereMerge(settings, true),
          List.of(dir.resolve("mb" + k + ".safetensors")));
      StreamingMerge.run(null, models, new SphereMerge(settings, false), List.of(dir.resolve("m" + k + "x.safetensors")));
      for (int s = 0; s < NAMES.length; s++) {
        double[][] xs = new double[k][];
        for (int i = 0; i < k; i++) xs[i] = ms[i][s];
        double[] wk = java.util.Arrays.copyOf(w, k);
        near(k == 1 ? xs[0] : multislerpRef(xs, wk, b[s]), merged("mb" + k + ".safetensors", NAMES[s]), "multislerp+base k=" + k + " " + NAMES[s]);
        near(multislerpRef(xs, wk, null), merged("m" + k + "x.safetensors", NAMES[s]), "multislerp k=" + k + " " + NAMES[s]);
      }
    }
  }

  @Test
  void multislerpFallsBackOrRefusesAntipodalInputs() {
    double[][] g = {{1, -1}, {-1, 1}};
    double[] c = SphereMerge.multislerpCoefficients(new double[] {1, 1}, true, 1e-8, g, "t");
    assertEquals(0.5, c[0], 1e-12);
    assertEquals(0.5, c[1], 1e-12);
    double[][] g3 = {{1, -1, 0}, {-1, 1, 0}, {0, 0, 0}};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SphereMerge.multislerpCoefficients(new double[] {1, 1, 1}, true, 1e-8, g3, "file: tensor 'x'"));
    assertTrue(e.getMessage().startsWith("file: tensor 'x': multislerp"), e.getMessage());
  }

  @Test
  void nuslerpPerRowAndPerColumnMatchTheReference() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> new SphereMerge(new GtaSettings(GtaMethod.NUSLERP, Map.of(),
        List.of(weight(1), weight(1), weight(1)), "f.yaml"), false));
    Random rng = new Random(12);
    long[] shape = {6, 10};
    double[][] v = new double[3][60];
    for (int k = 0; k < 3; k++) {
      float[] f = new float[60];
      for (int j = 0; j < 60; j++) {
        f[j] = (float) (k == 0 ? rng.nextGaussian() : v[0][j] + 0.5 * rng.nextGaussian());
        v[k][j] = f[j];
      }
      // row 2 of model 2 is model 1's row, so that row's deltas are colinear (the linear branch)
      if (k == 2) for (int j = 20; j < 30; j++) f[j] = (float) (v[2][j] = v[1][j]);
      SafetensorsWriter.write(dir.resolve("r" + k + ".safetensors"),
          List.of(TensorSource.ofFloats("w", shape, f, DType.F32)), Map.of());
    }
    for (boolean rowWise : new boolean[] {false, true}) {
      Map<String, ParameterSetting> g = Map.of("nuslerp_flatten", new ParameterSetting.Scalar(false),
          "nuslerp_row_wise", new ParameterSetting.Scalar(rowWise));
      GtaSettings settings = new GtaSettings(GtaMethod.NUSLERP, g, List.of(weight(1), weight(2)), "test");
      Path out = dir.resolve("rows-" + rowWise + ".safetensors");
      StreamingMerge.run(dir.resolve("r0.safetensors"), List.of(dir.resolve("r1.safetensors"), dir.resolve("r2.safetensors")),
          new SphereMerge(settings, true, Map.of("w", shape)), List.of(out));
      double[] want = new double[60];
      int len = rowWise ? 6 : 10, count = 60 / len;
      for (int q = 0; q < count; q++) {
        double[] x0 = new double[len], x1 = new double[len];
        for (int i = 0; i < len; i++) {
          int e = rowWise ? q + i * count : q * len + i;
          x0[i] = v[1][e] - v[0][e];
          x1[i] = v[2][e] - v[0][e];
        }
        double[] r = nuslerpRef(2.0 / 3, x0, x1);
        for (int i = 0; i < len; i++) want[rowWise ? q + i * count : q * len + i] = v[0][rowWise ? q + i * count : q * len + i] + r[i];
      }
      try (SafetensorsFile f = SafetensorsFile.open(out)) {
        near(want, f.readFloats("w"), "nuslerp rows, row_wise " + rowWise);
      }
    }
  }
}
