package dev.mergetune.merge.mergekit;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * slerp and model_stock through the streaming merge against a double reference written here from mergekit's
 * slerp.py / model_stock.py (numpy-style: norms, dot, arccos, sines; pairwise cosines), per tensor, with a filter
 * on t.
 */
class AngleMergeTest {
  @TempDir Path dir;

  private static final String[] NAMES = {"attn.w", "mlp.w", "same"};

  private float[][] write(String file, Random rng, float[][] around, double sd) throws Exception {
    float[][] v = new float[NAMES.length][];
    List<TensorSource> ts = new ArrayList<>();
    for (int s = 0; s < NAMES.length; s++) {
      v[s] = new float[50 + 30 * s];
      for (int j = 0; j < v[s].length; j++) {
        v[s][j] = around == null ? (float) rng.nextGaussian()
            : NAMES[s].equals("same") ? around[s][j] * 1.0001f : around[s][j] + (float) (sd * rng.nextGaussian());
      }
      ts.add(TensorSource.ofFloats(NAMES[s], new long[] {v[s].length}, v[s], DType.F32));
    }
    SafetensorsWriter.write(dir.resolve(file), ts, Map.of());
    return v;
  }

  @Test
  void slerpAndModelStockMatchTheReference() throws Exception {
    Random rng = new Random(2);
    float[][] base = write("base.safetensors", rng, null, 0);
    float[][][] ms = {write("m0.safetensors", rng, base, 0.8), write("m1.safetensors", rng, base, 0.8),
        write("m2.safetensors", rng, base, 0.8)};
    Map<String, ParameterSetting> tGlobal = Map.of("t", new ParameterSetting.Conditions(List.of(
        new ParameterSetting.Conditional("mlp", 0.7), new ParameterSetting.Conditional(null, 0.3))));
    StreamingMerge.run(dir.resolve("base.safetensors"), List.of(dir.resolve("m0.safetensors")),
        new AngleMerge(new GtaSettings(GtaMethod.SLERP, tGlobal, List.of(Map.of()), "test")),
        List.of(dir.resolve("slerp.safetensors")));
    StreamingMerge.run(dir.resolve("base.safetensors"), List.of(dir.resolve("m0.safetensors"),
        dir.resolve("m1.safetensors"), dir.resolve("m2.safetensors")),
        new AngleMerge(new GtaSettings(GtaMethod.MODEL_STOCK, Map.of(), List.of(Map.of(), Map.of(), Map.of()), "test")),
        List.of(dir.resolve("stock.safetensors")));
    try (SafetensorsFile sl = SafetensorsFile.open(dir.resolve("slerp.safetensors"));
        SafetensorsFile st = SafetensorsFile.open(dir.resolve("stock.safetensors"))) {
      for (int s = 0; s < NAMES.length; s++) {
        double t = NAMES[s].contains("mlp") ? 0.7 : 0.3;
        float[] v0 = base[s], v1 = ms[0][s];
        double n0 = 0, n1 = 0, dot = 0;
        for (int j = 0; j < v0.length; j++) {
          n0 += (double) v0[j] * v0[j];
          n1 += (double) v1[j] * v1[j];
        }
        n0 = Math.sqrt(n0);
        n1 = Math.sqrt(n1);
        for (int j = 0; j < v0.length; j++) dot += (v0[j] / n0) * (v1[j] / n1);
        double s0 = 1 - t, s1 = t;
        if (Math.abs(dot) <= 0.9995) {
          double th = Math.acos(dot);
          s0 = Math.sin(th - th * t) / Math.sin(th);
          s1 = Math.sin(th * t) / Math.sin(th);
        } else {
          assertEquals("same", NAMES[s]);  // the colinear case is exercised
        }
        float[] got = sl.readFloats(NAMES[s]);
        for (int j = 0; j < got.length; j++) {
          double want = s0 * v0[j] + s1 * v1[j];
          assertEquals(want, got[j], 1e-5 * (Math.abs(s0 * v0[j]) + Math.abs(s1 * v1[j]) + 1e-6), "slerp " + NAMES[s] + j);
        }
        // model_stock
        int k = 3, n = v0.length;
        double[][] d = new double[k][n];
        for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) d[i][j] = ms[i][s][j] - base[s][j];
        double cos = 0;
        int pairs = 0;
        for (int i = 0; i < k; i++) {
          for (int j = i + 1; j < k; j++) {
            double a = 0, na = 0, nb = 0;
            for (int e = 0; e < n; e++) {
              a += d[i][e] * d[j][e];
              na += d[i][e] * d[i][e];
              nb += d[j][e] * d[j][e];
            }
            cos += Math.max(-1, Math.min(1, a / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-6)));
            pairs++;
          }
        }
        cos /= pairs;
        double tt = k * cos / (1 + (k - 1) * cos);
        float[] stock = st.readFloats(NAMES[s]);
        for (int j = 0; j < n; j++) {
          double avg = (ms[0][s][j] + ms[1][s][j] + (double) ms[2][s][j]) / 3;
          double want = tt * avg + (1 - tt) * base[s][j];
          assertEquals(want, stock[j], 1e-5 * (Math.abs(tt * avg) + Math.abs((1 - tt) * base[s][j]) + 1e-6),
              "model_stock " + NAMES[s] + j);
        }
      }
    }
  }
}
