package dev.mergetune.clip;

import java.util.Map;

/**
 * An independent double-precision forward of a CLIP ViT over OpenAI-named weights, written for the tests from the
 * architecture descriptions (openai/CLIP {@code model.py}, open_clip {@code transformer.py}, transformers
 * {@code modeling_clip.py}), sharing no code with {@code ClipModel}: patch convolution as sums, class token,
 * positional embedding, {@code ln_pre}; per block x + ls_1·attn(ln_1(x)), + ls_2·c_proj(act(c_fc(ln_2(·)))) with
 * multi-head softmax attention (causal in the text tower); {@code ln_post} of the class token and {@code proj}; the
 * text features at the largest token id after {@code ln_final}, times {@code text_projection}.
 */
public final class ReferenceClip {
  /** One tower: QuickGELU or exact GELU, LayerNorm ε, LayerScale vectors present or not. */
  public record Tower(int width, int layers, int heads, int mlp, boolean quickGelu, double eps, boolean layerScale) {}

  private final Map<String, double[]> w;
  private final int embed;
  private final int resolution;
  private final int patch;
  private final int context;
  private final Tower vision;
  private final Tower text;

  public ReferenceClip(Map<String, double[]> weights, int embed, int resolution, int patch, int context, Tower vision,
      Tower text) {
    this.w = weights;
    this.embed = embed;
    this.resolution = resolution;
    this.patch = patch;
    this.context = context;
    this.vision = vision;
    this.text = text;
  }

  /** images [n, 3, R, R] (flat, normalised) → features [n][embed]. */
  public double[][] image(float[] images, int n) {
    int g = resolution / patch;
    int wd = vision.width();
    double[] conv = get("visual.conv1.weight");
    double[][] out = new double[n][];
    for (int b = 0; b < n; b++) {
      double[][] x = new double[g * g + 1][wd];
      double[] cls = get("visual.class_embedding");
      System.arraycopy(cls, 0, x[0], 0, wd);
      for (int gy = 0; gy < g; gy++) {
        for (int gx = 0; gx < g; gx++) {
          double[] t = x[1 + gy * g + gx];
          for (int c = 0; c < wd; c++) {
            double s = 0;
            for (int ch = 0; ch < 3; ch++) {
              for (int ky = 0; ky < patch; ky++) {
                for (int kx = 0; kx < patch; kx++) {
                  int iy = gy * patch + ky;
                  int ix = gx * patch + kx;
                  s += conv[((c * 3 + ch) * patch + ky) * patch + kx]
                      * images[((b * 3 + ch) * resolution + iy) * resolution + ix];
                }
              }
            }
            t[c] = s;
          }
        }
      }
      add(x, get("visual.positional_embedding"));
      x = layerNorm(x, "visual.ln_pre", vision.eps());
      x = blocks(x, "visual.transformer.resblocks.", vision, false);
      double[][] pooled = layerNorm(new double[][] {x[0]}, "visual.ln_post", vision.eps());
      out[b] = matmul(pooled[0], get("visual.proj"), wd, embed);
    }
    return out;
  }

  /** tokens [n, context] → features [n][embed]. */
  public double[][] text(long[] tokens, int n) {
    int wd = text.width();
    double[] emb = get("token_embedding.weight");
    double[][] out = new double[n][];
    for (int b = 0; b < n; b++) {
      double[][] x = new double[context][wd];
      int eot = 0;
      for (int i = 0; i < context; i++) {
        long id = tokens[b * context + i];
        if (id > tokens[b * context + eot]) eot = i;
        System.arraycopy(emb, (int) id * wd, x[i], 0, wd);
      }
      add(x, get("positional_embedding"));
      x = blocks(x, "transformer.resblocks.", text, true);
      x = layerNorm(x, "ln_final", text.eps());
      out[b] = matmul(x[eot], get("text_projection"), wd, embed);
    }
    return out;
  }

  private double[][] blocks(double[][] x, String prefix, Tower t, boolean causal) {
    for (int l = 0; l < t.layers(); l++) {
      String p = prefix + l + ".";
      double[][] a = attention(layerNorm(x, p + "ln_1", t.eps()), p + "attn.", t, causal);
      double[] ls1 = t.layerScale() ? get(p + "ls_1.gamma") : null;
      for (int i = 0; i < x.length; i++) for (int c = 0; c < t.width(); c++) x[i][c] += (ls1 == null ? 1 : ls1[c]) * a[i][c];
      double[][] h = layerNorm(x, p + "ln_2", t.eps());
      double[] ls2 = t.layerScale() ? get(p + "ls_2.gamma") : null;
      for (int i = 0; i < x.length; i++) {
        double[] hidden = linear(h[i], get(p + "mlp.c_fc.weight"), get(p + "mlp.c_fc.bias"), t.width(), t.mlp());
        for (int j = 0; j < hidden.length; j++) hidden[j] = act(hidden[j], t.quickGelu());
        double[] m = linear(hidden, get(p + "mlp.c_proj.weight"), get(p + "mlp.c_proj.bias"), t.mlp(), t.width());
        for (int c = 0; c < t.width(); c++) x[i][c] += (ls2 == null ? 1 : ls2[c]) * m[c];
      }
    }
    return x;
  }

  private double[][] attention(double[][] x, String p, Tower t, boolean causal) {
    int n = x.length;
    int wd = t.width();
    int hd = wd / t.heads();
    double[][] qkv = new double[n][];
    for (int i = 0; i < n; i++) qkv[i] = linear(x[i], get(p + "in_proj_weight"), get(p + "in_proj_bias"), wd, 3 * wd);
    double[][] o = new double[n][wd];
    for (int h = 0; h < t.heads(); h++) {
      for (int i = 0; i < n; i++) {
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
          if (causal && j > i) {
            s[j] = Double.NEGATIVE_INFINITY;
            continue;
          }
          double d = 0;
          for (int c = 0; c < hd; c++) d += qkv[i][h * hd + c] * qkv[j][wd + h * hd + c];
          s[j] = d / Math.sqrt(hd);
          max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
        for (int j = 0; j < n; j++) {
          for (int c = 0; c < hd; c++) o[i][h * hd + c] += s[j] / sum * qkv[j][2 * wd + h * hd + c];
        }
      }
    }
    double[][] out = new double[n][];
    for (int i = 0; i < n; i++) out[i] = linear(o[i], get(p + "out_proj.weight"), get(p + "out_proj.bias"), wd, wd);
    return out;
  }

  /** QuickGELU x·σ(1.702x), or GELU x·Φ(x) = x·(1 + erf(x/√2))/2. */
  static double act(double x, boolean quick) {
    return quick ? x / (1 + Math.exp(-1.702 * x)) : 0.5 * x * (1 + erf(x / Math.sqrt(2)));
  }

  /**
   * erf to about 1e-13: its Maclaurin series for |x| ≤ 3, else 1 − erfc from the continued fraction
   * erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
   */
  static double erf(double x) {
    double ax = Math.abs(x);
    double r;
    if (ax <= 3) {
      double term = ax;
      double sum = ax;
      for (int n = 1; n < 100 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
        term *= -ax * ax / n;
        sum += term / (2 * n + 1);
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      double f = ax;
      for (int k = 60; k >= 1; k--) f = ax + (k / 2.0) / f;
      r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
    }
    return x < 0 ? -r : r;
  }

  private double[][] layerNorm(double[][] x, String p, double eps) {
    double[] g = get(p + ".weight");
    double[] bias = get(p + ".bias");
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      int d = x[i].length;
      double mean = 0;
      for (double v : x[i]) mean += v;
      mean /= d;
      double var = 0;
      for (double v : x[i]) var += (v - mean) * (v - mean);
      var /= d;
      out[i] = new double[d];
      for (int c = 0; c < d; c++) out[i][c] = (x[i][c] - mean) / Math.sqrt(var + eps) * g[c] + bias[c];
    }
    return out;
  }

  /** y = W·x + b, W [out, in] row-major. */
  private static double[] linear(double[] x, double[] weight, double[] bias, int in, int out) {
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double s = bias[o];
      for (int i = 0; i < in; i++) s += weight[o * in + i] * x[i];
      y[o] = s;
    }
    return y;
  }

  /** x·M, M [in, out] row-major. */
  private static double[] matmul(double[] x, double[] m, int in, int out) {
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double s = 0;
      for (int i = 0; i < in; i++) s += x[i] * m[i * out + o];
      y[o] = s;
    }
    return y;
  }

  private static void add(double[][] x, double[] table) {
    int d = x[0].length;
    for (int i = 0; i < x.length; i++) for (int c = 0; c < d; c++) x[i][c] += table[i * d + c];
  }

  private double[] get(String name) {
    double[] v = w.get(name);
    if (v == null) throw new IllegalStateException("reference: no weight " + name);
    return v;
  }

  /** max |got − want| / max |want| over all entries. */
  public static double relativeError(float[] got, double[][] want) {
    double worst = 0;
    double scale = 0;
    int k = 0;
    for (double[] row : want) {
      for (double v : row) {
        worst = Math.max(worst, Math.abs(got[k++] - v));
        scale = Math.max(scale, Math.abs(v));
      }
    }
    if (k != got.length) throw new IllegalArgumentException(got.length + " values for " + k + " expected");
    return worst / scale;
  }
}
