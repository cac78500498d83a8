package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.kernels.reference.SignMaxReference;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code merge --method emr}: U, the masks and the rescalers beside it against the double reference
 * ({@link SignMaxReference}, λ_i from per-tensor means), and {@code --task k} equal to θ0 + λ_k·M_k ⊙ U.
 */
class MergeEmrCliTest {
  @TempDir Path dir;

  static final String[] NAMES = {"a.w", "b.w"};
  static final long[][] SHAPES = {{5, 7}, {33}};

  private float[][][] write(int models) throws Exception {
    Random rng = new Random(9);
    float[][][] v = new float[models + 1][NAMES.length][];
    for (int k = 0; k <= models; k++) {
      List<TensorSource> ts = new java.util.ArrayList<>();
      for (int s = 0; s < NAMES.length; s++) {
        int n = (int) (SHAPES[s].length == 2 ? SHAPES[s][0] * SHAPES[s][1] : SHAPES[s][0]);
        v[k][s] = new float[n];
        for (int j = 0; j < n; j++) v[k][s][j] = k == 0 ? (float) rng.nextGaussian() : v[0][s][j] + (float) (0.1 * rng.nextGaussian());
        ts.add(TensorSource.ofFloats(NAMES[s], SHAPES[s], v[k][s], DType.F32));
      }
      SafetensorsWriter.write(dir.resolve((k == 0 ? "base" : "m" + k) + ".safetensors"), ts, Map.of());
    }
    return v;
  }

  @Test
  void unifiedMasksRescalersAndExperts() throws Exception {
    int t = 3;
    float[][][] v = write(t);
    String[] models = {dir.resolve("m1.safetensors").toString(), dir.resolve("m2.safetensors").toString(),
        dir.resolve("m3.safetensors").toString()};
    CliRunner.Result r = CliRunner.run(cat(new String[] {"merge", "--method", "emr", "--base",
        dir.resolve("base.safetensors").toString(), "--models"}, models, "--out", dir.resolve("u.safetensors").toString()));
    assertEquals(0, r.exitCode(), r.out());
    double[] num = new double[t], den = new double[t];
    float[][] u = new float[NAMES.length][];
    boolean[][][] m = new boolean[NAMES.length][t][];
    try (SafetensorsFile uf = SafetensorsFile.open(dir.resolve("u.safetensors"));
        SafetensorsFile mf = SafetensorsFile.open(dir.resolve("u.masks.safetensors"))) {
      for (int s = 0; s < NAMES.length; s++) {
        int n = v[0][s].length;
        float[][] deltas = new float[t][n];
        for (int i = 0; i < t; i++) for (int j = 0; j < n; j++) deltas[i][j] = v[i + 1][s][j] - v[0][s][j];
        u[s] = SignMaxReference.unified(deltas);
        assertArrayEquals(u[s], uf.readFloats(NAMES[s]), NAMES[s]);
        ByteBuffer words = mf.bytes(NAMES[s]).order(ByteOrder.LITTLE_ENDIAN);
        int perTask = (n + 31) / 32;
        for (int i = 0; i < t; i++) {
          m[s][i] = SignMaxReference.mask(deltas, i);
          double a = 0, b = 0;
          for (int j = 0; j < n; j++) {
            boolean bit = ((words.getInt((i * perTask + j / 32) * 4) >>> (j % 32)) & 1) != 0;
            assertEquals(m[s][i][j], bit, NAMES[s] + " task " + i + " element " + j);
            a += Math.abs(deltas[i][j]);
            if (m[s][i][j]) b += Math.abs(u[s][j]);
          }
          num[i] += a / n;
          den[i] += b / n;
        }
      }
      assertEquals("unified-delta", uf.metadata().get("mergetune.param.output"));
    }
    JsonNode json = new ObjectMapper().readTree(dir.resolve("u.emr.json").toFile());
    for (int i = 0; i < t; i++) assertEquals(num[i] / den[i], json.get("rescalers").get(i).asDouble(), 1e-9 * num[i] / den[i]);

    CliRunner.Result e = CliRunner.run(cat(new String[] {"merge", "--method", "emr", "--task", "1", "--base",
        dir.resolve("base.safetensors").toString(), "--models"}, models, "--out", dir.resolve("e1.safetensors").toString()));
    assertEquals(0, e.exitCode(), e.out());
    double lambda = num[1] / den[1];
    try (SafetensorsFile ef = SafetensorsFile.open(dir.resolve("e1.safetensors"))) {
      for (int s = 0; s < NAMES.length; s++) {
        float[] got = ef.readFloats(NAMES[s]);
        for (int j = 0; j < got.length; j++) {
          double want = v[0][s][j] + (m[s][1][j] ? lambda * u[s][j] : 0);
          assertEquals(want, got[j], 1e-6 * (Math.abs(want) + 1), NAMES[s] + "[" + j + "]");
        }
      }
    }
    CliRunner.Result bad = CliRunner.run(cat(new String[] {"merge", "--method", "emr", "--task", "3", "--base",
        dir.resolve("base.safetensors").toString(), "--models"}, models, "--out", dir.resolve("e3.safetensors").toString()));
    assertEquals(1, bad.exitCode(), bad.out());
    assertTrue(bad.out().contains("--task 3 is not one of the 3 models"), bad.out());
  }

  private static String[] cat(String[] head, String[] mid, String... tail) {
    String[] a = new String[head.length + mid.length + tail.length];
    System.arraycopy(head, 0, a, 0, head.length);
    System.arraycopy(mid, 0, a, head.length, mid.length);
    System.arraycopy(tail, 0, a, head.length + mid.length, tail.length);
    return a;
  }
}
