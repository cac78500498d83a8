package dev.mergetune.merge.mergekit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.Dare;
import dev.mergetune.kernels.reference.GtaReference;
import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every mergekit GTA method through the streaming merge on random tiny models against the double reference
 * ({@link GtaReference}), with per-tensor filters on density and different weights per model.
 */
class GtaMergeTest {
  @TempDir Path dir;

  static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

  static {
    SHAPES.put("a.weight", new long[] {6, 40});
    SHAPES.put("a.bias", new long[] {40});
    SHAPES.put("conv", new long[] {4, 3, 2, 2});
    SHAPES.put("mlp.fc", new long[] {16, 20});
  }

  private static float[] values(Random rng, long n, float[] around, double sd) {
    float[] v = new float[(int) n];
    for (int j = 0; j < n; j++) {
      v[j] = (around == null ? 0f : around[j]) + (float) (rng.nextGaussian() * sd);
      if (around != null && j % 11 == 3) v[j] = around[j];  // δ = 0 exactly: sign 0 in the election
    }
    return v;
  }

  private Map<String, float[]> write(Path p, Map<String, float[]> tensors) throws Exception {
    List<TensorSource> ts = new ArrayList<>();
    tensors.forEach((k, v) -> ts.add(TensorSource.ofFloats(k, SHAPES.get(k), v, DType.F32)));
    SafetensorsWriter.write(p, ts, Map.of());
    return tensors;
  }

  @Test
  void everyMethodMatchesTheDoubleReference() throws Exception {
    Random rng = new Random(3);
    Map<String, float[]> base = new LinkedHashMap<>();
    SHAPES.forEach((k, s) -> base.put(k, values(rng, numel(s), null, 1)));
    write(dir.resolve("base.safetensors"), base);
    List<Map<String, float[]>> models = new ArrayList<>();
    List<Path> paths = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Map<String, float[]> m = new LinkedHashMap<>();
      base.forEach((k, v) -> m.put(k, values(rng, v.length, v, 0.05)));
      paths.add(dir.resolve("m" + i + ".safetensors"));
      models.add(write(paths.get(i), m));
    }
    double[] weights = {0.7, -0.3, 1.2};
    for (GtaMethod method : GtaMethod.values()) {
      if (method.isAngle() || method.isExtension()) continue;  // AngleMergeTest; the extensions: MergeExtensionsYamlCliTest
      Map<String, ParameterSetting> global = new LinkedHashMap<>();
      List<Map<String, ParameterSetting>> perModel = new ArrayList<>();
      for (double w : weights) perModel.add(Map.of("weight", new ParameterSetting.Scalar(w)));
      if (method.tensorParameters().contains("density")) {
        global.put("density", new ParameterSetting.Conditions(List.of(
            new ParameterSetting.Conditional("mlp", 0.3), new ParameterSetting.Conditional(null, 0.5))));
      }
      if (method.tensorParameters().contains("gamma")) global.put("gamma", new ParameterSetting.Scalar(0.05));
      if (method.tensorParameters().contains("epsilon")) global.put("epsilon", new ParameterSetting.Scalar(0.1));
      double lambda = method == GtaMethod.LINEAR ? 1 : 0.8;
      if (method != GtaMethod.LINEAR) global.put("lambda", new ParameterSetting.Scalar(lambda));
      GtaSettings settings = new GtaSettings(method, global, perModel, "test");
      Path out = dir.resolve(method.mergekitName + ".safetensors");
      long seed = 17;
      StreamingMerge.run(method.needsBase ? dir.resolve("base.safetensors") : null, paths,
          new GtaMerge(settings, SHAPES, seed), List.of(out));
      try (SafetensorsFile f = SafetensorsFile.open(out)) {
        for (String name : SHAPES.keySet()) {
          float[] got = f.readFloats(name);
          float[][] ms = new float[3][];
          for (int i = 0; i < 3; i++) ms[i] = models.get(i).get(name);
          double density = name.contains("mlp") ? 0.3 : 0.5;
          double param = method.sparsification == dev.mergetune.kernels.Gta.Sparsification.OUTLIERS ? 0.05 : 0.1;
          GtaReference.Sparsify sp = method.sparsification == null ? GtaReference.Sparsify.NONE
              : GtaReference.Sparsify.valueOf(method.sparsification.name());
          GtaReference.Result want = GtaReference.merge(method.needsBase ? base.get(name) : null, ms,
              SHAPES.get(name), sp, weights, new double[] {density, density, density},
              new double[] {param, param, param}, method.defaultRescale, method.consensus == null ? 0
                  : method.consensus == dev.mergetune.kernels.Gta.Consensus.SUM ? 1 : 2,
              method.defaultNormalize, lambda, seed, Dare.tensorKey(name));
          int skipped = 0;
          for (int j = 0; j < got.length; j++) {
            if (want.ambiguous()[j]) {
              skipped++;
              continue;
            }
            double err = Math.abs(got[j] - want.out()[j]) / (want.scale()[j] + 1e-30);
            assertTrue(err <= 1e-5, method + " " + name + "[" + j + "]: " + got[j] + " vs " + want.out()[j]);
          }
          assertTrue(skipped <= 1, method + " " + name + ": " + skipped + " ambiguous elections");
        }
        assertEquals(method.mergekitName, f.metadata().get("mergetune.method"));
      }
    }
  }

  private static long numel(long[] s) {
    long n = 1;
    for (long d : s) n *= d;
    return n;
  }
}
