package dev.mergetune.merge.mergekit;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Gta;
import dev.mergetune.merge.TensorOp;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * mergekit v0.1.4's spherical merges with an optional base, on the Gram kernel ({@link Gta#gram}, dot products in
 * double) and one linear combination of the inputs (the GTA kernel, no masks): the coefficients of every formula
 * below are functions of the Gram matrix G of x_i (x_i = m_i − b with a base, else m_i), so the result is
 * out = Σ c_i·m_i + (1 − Σ c_i)·b (b = 0 without a base). Read from mergekit's merge_methods/nuslerp.py and
 * merge_methods/multislerp.py at tag v0.1.4 (7683563); none of their code is here.
 *
 * <pre>
 * nuslerp (exactly two models; weight per model, required; nuslerp_flatten true, nuslerp_row_wise false):
 *   t = w_1 / (w_0 + w_1)  (0.5 when |w_0 + w_1| &lt; 1e-6)
 *   cos = G01 / (max(‖x0‖, 1e-7)·max(‖x1‖, 1e-7)) clamped to [−1, 1];  θ = arccos cos
 *   |sin θ| &lt; 1e-8: c = (1 − t, t);  else c = (sin((1 − t)θ), sin(tθ)) / sin θ
 * multislerp (N ≥ 1 models; weight per model, required; normalize_weights true, eps 1e-8):
 *   N = 1: out = m_0.  w ← w / Σw when normalize_weights;  n_i = √G_ii;  a_i = w_i / (n_i + eps)
 *   mean = Σ a_i x_i, ‖mean‖ = √(aᵀGa);  ‖mean‖ &lt; eps: N = 2 → c = w (linear), else an error
 *   μ = a / ‖mean‖;  d_i = (Gμ)_i / (n_i + eps);  τ = a − (Σ w_i d_i)·μ  (the weighted tangent vectors at mean)
 *   r = ‖τ‖_G + eps;  c = (Σ w_i n_i)·(μ cos r + τ sin r / r)
 * </pre>
 *
 * nuslerp_flatten: false slerps each vector along the last dimension (each row of a matrix) or, with
 * nuslerp_row_wise, along the first (each column; for more dimensions the vectors x[q + i·S], S = n / d0) with the
 * same formula per vector; its coefficients differ per vector, so that form runs in Java, in double, one tensor at a
 * time ({@link #nuslerpPerVector}). Arithmetic: coefficients in double (mergekit: in the tensors' dtype), the
 * combination in float32.
 */
public final class SphereMerge implements TensorOp {
  private final GtaMethod method;
  private final GtaSettings settings;
  private final boolean hasBase;
  private final Map<String, long[]> shapes;

  public SphereMerge(GtaSettings settings, boolean hasBase) {
    this(settings, hasBase, Map.of());
  }

  /** {@code shapes}: each tensor's shape, needed by nuslerp_flatten: false. */
  public SphereMerge(GtaSettings settings, boolean hasBase, Map<String, long[]> shapes) {
    this.shapes = shapes;
    this.method = settings.method();
    this.settings = settings;
    this.hasBase = hasBase;
    if (method != GtaMethod.NUSLERP && method != GtaMethod.MULTISLERP) {
      throw new IllegalArgumentException(method.mergekitName + " is not a spherical merge");
    }
    if (method == GtaMethod.NUSLERP && settings.models() != 2) {
      throw new IllegalArgumentException(settings.source() + ": nuslerp merges exactly two models (besides an optional"
          + " base_model), got " + settings.models());
    }
    if (settings.models() < 1) throw new IllegalArgumentException(settings.source() + ": multislerp needs a model");
  }

  @Override
  public boolean needsBase() {
    return hasBase;
  }

  @Override
  public int outputs() {
    return 1;
  }

  @Override
  public String method() {
    return method.mergekitName;
  }

  @Override
  public Map<String, String> parameters(int output) {
    Map<String, String> m = new LinkedHashMap<>();
    settings.global().forEach((k, v) -> m.put(k, String.valueOf(v)));
    return m;
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    double[] w = new double[models.length];
    for (int i = 0; i < w.length; i++) w[i] = settings.tensorParameter("weight", i, tensor);
    double[] c;
    if (method == GtaMethod.NUSLERP && !settings.flag("nuslerp_flatten", tensor, true)) {
      long[] shape = shapes.get(tensor);
      if (shape == null) throw new IllegalStateException("no shape for tensor '" + tensor + "'");
      if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor '" + tensor + "' is too large for nuslerp_flatten: false");
      float[] b = hasBase ? read(base, (int) n) : null;
      float[] out = nuslerpPerVector(nuslerpT(w), read(models[0], (int) n), read(models[1], (int) n), b, shape,
          settings.flag("nuslerp_row_wise", tensor, false));
      new org.bytedeco.javacpp.FloatPointer(at(outs[0])).capacity(n).put(out);
      return;
    }
    if (method == GtaMethod.MULTISLERP && models.length == 1) {
      c = new double[] {1};
    } else {
      double[][] g = Gta.gram(DeviceKind.CPU, tensor, n, hasBase ? base : 0L, models);
      if (method == GtaMethod.NUSLERP) {
        c = nuslerpCoefficients(w, g);
      } else {
        c = multislerpCoefficients(w, settings.flag("normalize_weights", tensor, true),
            settings.number("eps", tensor, 1e-8), g, settings.source() + ": tensor '" + tensor + "'");
      }
    }
    int k = models.length + (hasBase ? 1 : 0);
    long[] inputs = new long[k];
    float[] coefs = new float[k];
    double sum = 0;
    for (int i = 0; i < models.length; i++) {
      inputs[k - models.length + i] = models[i];
      coefs[k - models.length + i] = (float) c[i];
      sum += c[i];
    }
    if (hasBase) {
      inputs[0] = base;
      coefs[0] = (float) (1 - sum);
    }
    float[] ones = new float[k];
    java.util.Arrays.fill(ones, 1f);
    Gta.apply(DeviceKind.CPU, tensor, n, outs[0], 0L, inputs, null, coefs, ones, Gta.Consensus.NONE, false, 1f, 1f);
  }

  static double nuslerpT(double[] w) {
    double s = w[0] + w[1];
    return Math.abs(s) < 1e-6 ? 0.5 : w[1] / s;
  }

  /**
   * nuslerp_flatten: false: the slerp of every vector of v0, v1 (minus the base, added back) along the last
   * dimension, or the first with {@code rowWise}, in double.
   */
  static float[] nuslerpPerVector(double t, float[] v0, float[] v1, float[] base, long[] shape, boolean rowWise) {
    int n = v0.length;
    int len = shape.length == 0 ? 1 : (int) (rowWise ? shape[0] : shape[shape.length - 1]);
    int count = len == 0 ? 0 : n / len;
    int stride = rowWise ? count : 1;  // element i of vector q: rowWise ? q + i·count : q·len + i
    float[] out = new float[n];
    double[] x0 = new double[len], x1 = new double[len];
    for (int q = 0; q < count; q++) {
      int start = rowWise ? q : q * len;
      double d00 = 0, d11 = 0, d01 = 0;
      for (int i = 0; i < len; i++) {
        int e = start + i * stride;
        double b = base == null ? 0 : base[e];
        x0[i] = v0[e] - b;
        x1[i] = v1[e] - b;
        d00 += x0[i] * x0[i];
        d11 += x1[i] * x1[i];
        d01 += x0[i] * x1[i];
      }
      double[] c = nuslerpCoefficients(t, new double[][] {{d00, d01}, {d01, d11}});
      for (int i = 0; i < len; i++) {
        int e = start + i * stride;
        out[e] = (float) ((base == null ? 0 : base[e]) + c[0] * x0[i] + c[1] * x1[i]);
      }
    }
    return out;
  }

  /** A JavaCPP pointer at a native address the merge handed in (the address field is protected). */
  private static org.bytedeco.javacpp.Pointer at(long nativeAddress) {
    return new org.bytedeco.javacpp.Pointer() {
      {
        address = nativeAddress;
      }
    };
  }

  private static float[] read(long address, int n) {
    float[] v = new float[n];
    new org.bytedeco.javacpp.FloatPointer(at(address)).capacity(n).get(v);
    return v;
  }

  /** nuslerp's (c_0, c_1) on x_0, x_1 from their weights and Gram matrix. */
  static double[] nuslerpCoefficients(double[] w, double[][] g) {
    return nuslerpCoefficients(nuslerpT(w), g);
  }

  /** nuslerp's (c_0, c_1) at t from the Gram matrix of x_0, x_1. */
  static double[] nuslerpCoefficients(double t, double[][] g) {
    double n0 = Math.max(Math.sqrt(g[0][0]), 1e-7), n1 = Math.max(Math.sqrt(g[1][1]), 1e-7);
    double cos = Math.max(-1, Math.min(1, g[0][1] / (n0 * n1)));
    double theta = Math.acos(cos), sin = Math.sin(theta);
    if (Math.abs(sin) < 1e-8) return new double[] {1 - t, t};
    return new double[] {Math.sin((1 - t) * theta) / sin, Math.sin(t * theta) / sin};
  }

  /** multislerp's c_i on x_i from the weights and Gram matrix; {@code where} names the tensor in errors. */
  static double[] multislerpCoefficients(double[] weights, boolean normalize, double eps, double[][] g, String where) {
    int k = weights.length;
    double[] w = weights.clone();
    if (normalize) {
      double sum = 0;
      for (double v : w) sum += v;
      for (int i = 0; i < k; i++) w[i] /= sum;
    }
    double[] norm = new double[k], a = new double[k];
    for (int i = 0; i < k; i++) {
      norm[i] = Math.sqrt(g[i][i]);
      a[i] = w[i] / (norm[i] + eps);
    }
    double meanNorm = Math.sqrt(Math.max(0, quad(g, a, a)));
    if (meanNorm < eps) {
      if (k == 2) return w;
      throw new IllegalArgumentException(where + ": multislerp's weighted mean of the unit vectors is zero (antipodal"
          + " inputs whose weights balance out); change the weights");
    }
    double[] mu = new double[k];
    for (int i = 0; i < k; i++) mu[i] = a[i] / meanNorm;
    double s = 0;
    for (int i = 0; i < k; i++) {
      double gmu = 0;
      for (int j = 0; j < k; j++) gmu += g[i][j] * mu[j];
      s += w[i] * gmu / (norm[i] + eps);
    }
    double[] tau = new double[k];
    for (int i = 0; i < k; i++) tau[i] = a[i] - s * mu[i];
    double r = Math.sqrt(Math.max(0, quad(g, tau, tau))) + eps;
    double avg = 0;
    for (int i = 0; i < k; i++) avg += w[i] * norm[i];
    double[] c = new double[k];
    for (int i = 0; i < k; i++) c[i] = avg * (mu[i] * Math.cos(r) + tau[i] * Math.sin(r) / r);
    return c;
  }

  private static double quad(double[][] g, double[] x, double[] y) {
    double q = 0;
    for (int i = 0; i < x.length; i++) for (int j = 0; j < y.length; j++) q += x[i] * g[i][j] * y[j];
    return q;
  }
}
