package dev.mergetune.adapt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class CachedFeaturesTest {
  /** Item i of view v: (v + 1, i + 1, 2), so every row and view is distinct. */
  static float[][][] views(int v, int n) {
    float[][][] out = new float[v][n][];
    for (int a = 0; a < v; a++) for (int i = 0; i < n; i++) out[a][i] = new float[] {a + 1, i + 1, 2};
    return out;
  }

  static float[] row(Tensor t, int r) {
    Tensor c = t.select(0, r).contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  @Test
  void epochEReadsViewEModVNormalised() {
    NativeRuntime.ensureTorch();
    CachedFeatures f = CachedFeatures.ofViews(views(3, 5), new int[] {0, 1, 0, 1, 2});
    assertEquals(3, f.views());
    assertEquals(5, f.size());
    for (long epoch : new long[] {0, 1, 2, 3, 7}) {
      Tensor b = f.batch(new int[] {4, 1}, epoch);
      int v = (int) (epoch % 3);
      for (int k = 0; k < 2; k++) {
        int item = k == 0 ? 4 : 1;
        double[] want = {v + 1, item + 1, 2};
        double norm = Math.sqrt(want[0] * want[0] + want[1] * want[1] + want[2] * want[2]);
        float[] got = row(b, k);
        for (int j = 0; j < 3; j++) assertEquals(want[j] / norm, got[j], 1e-6, "epoch " + epoch + " item " + item);
      }
    }
    long[] labels = new long[2];
    f.batchLabels(new int[] {4, 1}).contiguous().data_ptr_long().get(labels);
    assertArrayEquals(new long[] {2, 1}, labels);
  }

  @Test
  void mismatchedViewsAndNonFiniteFeaturesAreRefused() {
    NativeRuntime.ensureTorch();
    float[][][] ragged = views(2, 3);
    ragged[1] = new float[][] {{1, 2, 3}, {1, 2, 3}};
    assertThrows(IllegalArgumentException.class, () -> CachedFeatures.ofViews(ragged, new int[] {0, 1, 2}));
    float[][][] nan = views(1, 2);
    nan[0][1][2] = Float.NaN;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CachedFeatures.ofViews(nan, new int[] {0, 1}));
    assertEquals("image features hold NaN or Inf", e.getMessage());
  }
}
