package dev.mergetune.adapt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.train.Optimizers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinearProbeTest {
  static final int C = 3;
  static final int D = 8;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** Random unit class embeddings, logit scale 100. */
  static ZeroShotClassifier zeroShot(long seed) {
    Random r = new Random(seed);
    float[][] w = new float[C][D];
    for (float[] row : w) {
      double n = 0;
      for (int j = 0; j < D; j++) {
        row[j] = (float) r.nextGaussian();
        n += row[j] * row[j];
      }
      for (int j = 0; j < D; j++) row[j] /= (float) Math.sqrt(n);
    }
    return new ZeroShotClassifier(List.of("a", "b", "c"), w, 100f);
  }

  static float[][] randomFeatures(int n, long seed) {
    Random r = new Random(seed);
    float[][] f = new float[n][D];
    for (float[] row : f) for (int j = 0; j < D; j++) row[j] = (float) (3 * r.nextGaussian());
    return f;
  }

  static Tensor tensor(float[][] f) {
    float[] flat = new float[f.length * D];
    for (int i = 0; i < f.length; i++) System.arraycopy(f[i], 0, flat, i * D, D);
    return Tensor.create(flat, f.length, D);
  }

  @Test
  void atInitTheLogitsAreTheZeroShotLogits() {
    ZeroShotClassifier zs = zeroShot(1);
    float[][] f = randomFeatures(5, 2);
    float[][] expected = zs.logits(f);
    for (boolean bias : new boolean[] {false, true}) {
      float[][] got = LinearProbe.fromZeroShot(zs, bias).logits(f);
      for (int i = 0; i < f.length; i++) {
        for (int c = 0; c < C; c++) assertEquals(expected[i][c], got[i][c], 1e-4, "bias " + bias + " [" + i + "," + c + "]");
      }
    }
  }

  /** Class k's features cluster around axis k (separable), labels mismatched to the random zero-shot head. */
  @Test
  void lossFallsOnSeparableFeaturesWithAdamWAndSgd() {
    int n = 30;
    Random r = new Random(4);
    float[][] f = new float[n][D];
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      int k = i % C;
      labels[i] = k;
      for (int j = 0; j < D; j++) f[i][j] = (float) (0.2 * r.nextGaussian());
      f[i][k] += 1;
    }
    Tensor x = tensor(f);
    Tensor y = Tensor.create(labels, n);
    for (String opt : List.of("adamw", "sgd")) {
      LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(1), true);
      Map<String, List<Tensor>> groups = Map.of("head", probe.trainable());
      Optimizers.Named o = opt.equals("adamw")
          ? Optimizers.adamW(groups, new Optimizers.AdamWConfig(0.5, 0.9, 0.999, 1e-8, 0.0))
          : Optimizers.sgd(groups, new Optimizers.SgdConfig(2.0, 0.9, 0.0, false));
      double first = probe.step(o, x, y, 0.0);
      double last = first;
      for (int s = 1; s < 40; s++) last = probe.step(o, x, y, 0.0);
      assertTrue(first > 1.0, opt + ": the zero-shot head starts wrong, loss " + first);
      assertTrue(last < 0.1 * first, opt + ": loss " + first + " → " + last);
      float[][] logits = probe.logits(f);
      int correct = 0;
      for (int i = 0; i < n; i++) {
        int arg = 0;
        for (int c = 1; c < C; c++) if (logits[i][c] > logits[i][arg]) arg = c;
        if (arg == labels[i]) correct++;
      }
      assertEquals(n, correct, opt);
    }
  }

  @Test
  void saveLoadRoundTrip(@TempDir Path dir) throws Exception {
    LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(7), true);
    Path file = dir.resolve("head.safetensors");
    probe.save(file);
    LinearProbe back = LinearProbe.zeros(C, D, true);
    back.load(file);
    float[][] f = randomFeatures(4, 9);
    float[][] a = probe.logits(f);
    float[][] b = back.logits(f);
    for (int i = 0; i < a.length; i++) for (int c = 0; c < C; c++) assertEquals(a[i][c], b[i][c], 0.0);
  }
}
