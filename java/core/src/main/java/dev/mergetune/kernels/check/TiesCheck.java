package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.Ties;
import dev.mergetune.kernels.reference.TiesReference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The self-check's K4c cases: the worked vector under the three presets, random sets against TiesReference, a NaN. */
final class TiesCheck {
  private static final String KERNEL = "TIES (K4c)";

  private TiesCheck() {}

  static List<CheckResult> run(DeviceKind device) {
    List<CheckResult> results = new ArrayList<>();
    results.add(CheckCases.guard(KERNEL, device, "worked vector, 3 presets", () -> workedVector(device)));
    results.add(CheckCases.guard(KERNEL, device, "4 models, 5 tensors, every preset vs reference",
        () -> randomAgainstReference(device)));
    results.add(CheckCases.guard(KERNEL, device, "NaN in model 1 reported", () -> nanReported(device)));
    return results;
  }

  /** out = TIES(base, models) on the device, as one flat array (tensors of the given lengths, in order). */
  private static float[] merge(DeviceKind device, int[] lengths, float[] base, float[][] models, float[] weights,
      Ties.Options o) {
    List<DeviceBuffer> owned = new ArrayList<>();
    try {
      SegmentTable out = CheckCases.table(device, owned, split(new float[base.length], lengths));
      SegmentTable b = CheckCases.table(device, owned, split(base, lengths));
      List<SegmentTable> m = new ArrayList<>();
      for (float[] model : models) m.add(CheckCases.table(device, owned, split(model, lengths)));
      Ties.merge(out, b, m, weights, o);
      float[] flat = new float[base.length];
      int at = 0;
      for (int s = 0; s < lengths.length; s++) {
        System.arraycopy(owned.get(s).download(), 0, flat, at, lengths[s]);
        at += lengths[s];
      }
      return flat;
    } finally {
      owned.forEach(DeviceBuffer::close);
    }
  }

  private static float[][] split(float[] flat, int[] lengths) {
    float[][] out = new float[lengths.length][];
    int at = 0;
    for (int s = 0; s < lengths.length; s++) {
      out[s] = java.util.Arrays.copyOfRange(flat, at, at + lengths[s]);
      at += lengths[s];
    }
    return out;
  }

  private static String workedVector(DeviceKind device) {
    // ../shared/reference: δ1 = [.5, −.2, .1, 0], δ2 = [−.3, .4, .1, −.6], δ3 = [.2, −.1, −.7, .3], base 0, density .5:
    // mergekit keeps 2 per model → [.5, .4, −.7, −.6]; paper keeps 3 (kthvalue) → [.35, .4, −.7, −.6];
    // fusionbench sums with λ = .3 → [.21, .12, −.21, −.18].
    float[][] m = {{.5f, -.2f, .1f, 0f}, {-.3f, .4f, .1f, -.6f}, {.2f, -.1f, -.7f, .3f}};
    float[] w = {1, 1, 1};
    float[][] want = {{.5f, .4f, -.7f, -.6f}, {.35f, .4f, -.7f, -.6f}, {.21f, .12f, -.21f, -.18f}};
    Ties.Options[] presets = {Ties.Options.mergekit(), Ties.Options.paper(), Ties.Options.fusionbench()};
    for (int p = 0; p < 3; p++) {
      float[] got = merge(device, new int[] {4}, new float[4], m, w, presets[p].withDensity(0.5));
      for (int j = 0; j < 4; j++) {
        if (Math.abs(got[j] - want[p][j]) > 1e-6f) return presets[p].preset() + ": " + java.util.Arrays.toString(got);
      }
    }
    return null;
  }

  private static String randomAgainstReference(DeviceKind device) {
    int[] lengths = {1, 37, 1000, 3, 4097};
    int n = 0;
    for (int len : lengths) n += len;
    SplittableRandom r = new SplittableRandom(17);
    float[] base = new float[n];
    float[][] models = new float[4][n];
    for (int j = 0; j < n; j++) {
      base[j] = (float) r.nextGaussian();
      for (int i = 0; i < 4; i++) {
        int pick = r.nextInt(12);
        models[i][j] = base[j] + (pick == 0 ? 0f : pick == 1 ? 0.0078125f : (float) (0.01 * r.nextGaussian()));
      }
    }
    float[] w = {1f, 0.5f, 2f, 1f};
    for (Ties.Options o : List.of(Ties.Options.paper(), Ties.Options.fusionbench(), Ties.Options.mergekit())) {
      float[] got = merge(device, lengths, base, models, w, o);
      double[] want = TiesReference.merge(base, models, w, lengths, o);
      for (int j = 0; j < n; j++) {
        if (!(Math.abs(got[j] - want[j]) <= 2e-7 * (Math.abs(base[j]) + Math.abs(o.lambda()) * 0.1))) {
          return o.preset() + ": element " + j + " is " + got[j] + ", reference " + want[j];
        }
      }
    }
    return null;
  }

  private static String nanReported(DeviceKind device) {
    float[] bad = new float[3000];
    bad[2345] = Float.NaN;
    try {
      merge(device, new int[] {3000}, new float[3000], new float[][] {new float[3000], bad}, new float[] {1, 1},
          Ties.Options.paper());
      return "NaN was not reported";
    } catch (NonFiniteException e) {
      return e.input().equals("model 1") && e.element() == 2345 ? null : "wrong location: " + e.getMessage();
    }
  }
}
