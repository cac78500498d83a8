package dev.mergetune.merge.mergekit;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Gta;
import dev.mergetune.merge.TensorOp;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * mergekit's merges whose per-tensor coefficients come from angles between whole tensors — a Gram pass
 * ({@link Gta#gram}) then one linear combination of the inputs (the GTA kernel with no base and no masks):
 *
 * <pre>
 *   slerp (mergekit slerp.py), v0 = base, v1 = the model, t per tensor:
 *     c = ⟨v0, v1⟩ / (‖v0‖‖v1‖) (a norm ≤ 1e-8 is taken as 1);  |c| > 0.9995: out = (1 − t)·v0 + t·v1
 *     else θ = arccos c:  out = sin((1 − t)θ)/sin θ · v0 + sin(tθ)/sin θ · v1
 *   model_stock (model_stock.py, Jang et al. 2024, arXiv 2403.19522), N ≥ 2 models, d_i = w_i − w0:
 *     cos = mean over pairs i < j of ⟨d_i, d_j⟩ / max(‖d_i‖‖d_j‖, 1e-6), clamped to [−1, 1]
 *     t = N·cos / (1 + (N − 1)·cos);  out = t·mean_i w_i + (1 − t)·w0
 * </pre>
 *
 * Coefficients are computed in double from the double Gram matrix (mergekit: in the tensors' dtype / numpy fp32),
 * then rounded to float for the combination.
 */
public final class AngleMerge implements TensorOp {
  private final GtaMethod method;
  private final GtaSettings settings;

  public AngleMerge(GtaSettings settings) {
    this.method = settings.method();
    this.settings = settings;
    if (method != GtaMethod.SLERP && method != GtaMethod.MODEL_STOCK) {
      throw new IllegalArgumentException(method.mergekitName + " is not an angle merge");
    }
    if (method == GtaMethod.SLERP && settings.models() != 1) {
      throw new IllegalArgumentException(settings.source() + ": slerp merges the base_model with exactly one other"
          + " model, got " + settings.models());
    }
    if (method == GtaMethod.MODEL_STOCK && settings.models() < 2) {
      throw new IllegalArgumentException(settings.source() + ": model_stock needs at least two models besides the"
          + " base_model, got " + settings.models());
    }
  }

  @Override
  public boolean needsBase() {
    return true;
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
    long[] inputs = new long[models.length + 1];
    inputs[0] = base;
    System.arraycopy(models, 0, inputs, 1, models.length);
    float[] coefs = method == GtaMethod.SLERP ? slerp(tensor, n, base, models[0]) : modelStock(tensor, n, base, models);
    float[] weights = new float[coefs.length];
    java.util.Arrays.fill(weights, 1f);
    Gta.apply(DeviceKind.CPU, tensor, n, outs[0], 0L, inputs, null, coefs, weights, Gta.Consensus.NONE, false, 1f, 1f);
  }

  /** (s0, s1) of mergekit's slerp for this tensor. */
  float[] slerp(String tensor, long n, long v0, long v1) {
    double t = settings.number("t", tensor, Double.NaN);
    if (Double.isNaN(t)) throw new IllegalArgumentException(settings.source() + ": slerp needs 't' (at tensor '" + tensor + "')");
    double[][] g = Gta.gram(DeviceKind.CPU, tensor, n, 0L, new long[] {v0, v1});
    return slerpCoefficients(t, g);
  }

  static float[] slerpCoefficients(double t, double[][] g) {
    double n0 = Math.sqrt(g[0][0]), n1 = Math.sqrt(g[1][1]);
    double dot = g[0][1] / ((n0 > 1e-8 ? n0 : 1) * (n1 > 1e-8 ? n1 : 1));
    if (Math.abs(dot) > 0.9995) return new float[] {(float) (1 - t), (float) t};
    double theta0 = Math.acos(dot), sin0 = Math.sin(theta0);
    return new float[] {(float) (Math.sin(theta0 - theta0 * t) / sin0), (float) (Math.sin(theta0 * t) / sin0)};
  }

  /** (1 − t, t/N, …, t/N) of mergekit's model_stock for this tensor. */
  float[] modelStock(String tensor, long n, long w0, long[] ws) {
    if (settings.flag("filter_wise", tensor, false)) {
      throw new IllegalArgumentException(settings.source() + ": model_stock filter_wise: true is not supported");
    }
    double[][] g = Gta.gram(DeviceKind.CPU, tensor, n, w0, ws);
    double t = modelStockT(g);
    float[] c = new float[ws.length + 1];
    c[0] = (float) (1 - t);
    for (int i = 1; i < c.length; i++) c[i] = (float) (t / ws.length);
    return c;
  }

  static double modelStockT(double[][] g) {
    int k = g.length;
    double sum = 0;
    int pairs = 0;
    for (int i = 0; i < k; i++) {
      for (int j = i + 1; j < k; j++) {
        double c = g[i][j] / Math.max(Math.sqrt(g[i][i]) * Math.sqrt(g[j][j]), 1e-6);
        sum += Math.max(-1, Math.min(1, c));
        pairs++;
      }
    }
    double cos = sum / pairs;
    return k * cos / (1 + (k - 1) * cos);
  }
}
