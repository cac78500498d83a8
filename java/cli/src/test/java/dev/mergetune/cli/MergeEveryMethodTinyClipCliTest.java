package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.Dare;
import dev.mergetune.kernels.Gta;
import dev.mergetune.kernels.reference.GtaReference;
import dev.mergetune.kernels.reference.SignMaxReference;
import dev.mergetune.merge.mergekit.GtaMethod;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every merge method on the demo's tiny CLIP (demo/tiny-clip, 62 float32 tensors in the CLIP layout), with three
 * simulated fine-tunes θ_i = θ0 + N(0, (0.05·rms θ0)²) per tensor: each method's mergekit-format YAML and its flags
 * write the same tensors bit for bit; the GTA family matches the double reference ({@link GtaReference}) and EMR's
 * unified delta the sign-max reference ({@link SignMaxReference}) tensor by tensor. The SVD merges' accuracy on
 * these layers is SpectralMergeTest's (against a double Jacobi SVD).
 */
class MergeEveryMethodTinyClipCliTest {
  @TempDir static Path dir;
  static final Path TINY = Path.of("../../demo/tiny-clip/tiny-clip.safetensors");
  static final Map<String, float[]> BASE = new LinkedHashMap<>();
  static final Map<String, long[]> SHAPES = new LinkedHashMap<>();
  static final List<Map<String, float[]>> MODELS = new ArrayList<>();
  static final double[] WEIGHTS = {0.5, 0.3, 0.2};

  @BeforeAll
  static void fineTunes() throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(TINY)) {
      for (TensorInfo t : f.tensors().values()) {
        assertEquals(DType.F32, t.dtype(), t.name());
        BASE.put(t.name(), f.readFloats(t.name()));
        SHAPES.put(t.name(), t.shape());
      }
    }
    Random rng = new Random(11);
    for (int i = 0; i < 3; i++) {
      Map<String, float[]> m = new LinkedHashMap<>();
      List<TensorSource> out = new ArrayList<>();
      for (Map.Entry<String, float[]> e : BASE.entrySet()) {
        float[] b = e.getValue(), v = new float[b.length];
        double rms = 0;
        for (float x : b) rms += (double) x * x;
        double sd = 0.05 * Math.sqrt(rms / b.length) + 1e-4;
        for (int j = 0; j < b.length; j++) v[j] = (float) (b[j] + sd * rng.nextGaussian());
        m.put(e.getKey(), v);
        out.add(TensorSource.ofFloats(e.getKey(), SHAPES.get(e.getKey()), v, DType.F32));
      }
      MODELS.add(m);
      SafetensorsWriter.write(dir.resolve("ft" + i + ".safetensors"), out, Map.of());
    }
    Files.copy(TINY, dir.resolve("base.safetensors"));
  }

  private static Map<String, float[]> read(Path file) throws Exception {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String name : f.tensors().keySet()) out.put(name, f.readFloats(name));
    }
    return out;
  }

  /** Runs the YAML and the flags; both must succeed and write the same tensors. Returns them. */
  private static Map<String, float[]> yamlEqualsFlags(String name, String yaml, String... flags) throws Exception {
    Path y = dir.resolve(name + ".yaml");
    Files.writeString(y, yaml);
    Path fromYaml = dir.resolve(name + "-yaml.safetensors"), fromFlags = dir.resolve(name + "-flags.safetensors");
    CliRunner.Result a = CliRunner.run("merge", "--no-progress", "--config", y.toString(), "--out", fromYaml.toString());
    assertEquals(0, a.exitCode(), name + " from YAML: " + a.out());
    List<String> args = new ArrayList<>(List.of("merge", "--no-progress"));
    args.addAll(List.of(flags));
    args.addAll(List.of("--out", fromFlags.toString()));
    CliRunner.Result b = CliRunner.run(args.toArray(String[]::new));
    assertEquals(0, b.exitCode(), name + " from flags: " + b.out());
    Map<String, float[]> x = read(fromYaml), z = read(fromFlags);
    assertEquals(BASE.keySet(), x.keySet(), name);
    for (String t : x.keySet()) assertArrayEquals(x.get(t), z.get(t), name + " " + t + ": YAML and flags differ");
    return x;
  }

  private static String models(boolean weights, int count) {
    StringBuilder s = new StringBuilder("models:\n");
    for (int i = 0; i < count; i++) {
      s.append("  - model: ft").append(i).append(".safetensors\n");
      if (weights) s.append("    parameters: {weight: ").append(WEIGHTS[i]).append("}\n");
    }
    return s.toString();
  }

  private static String[] inputs(boolean base, int count) {
    List<String> a = new ArrayList<>();
    if (base) a.addAll(List.of("--base", dir.resolve("base.safetensors").toString()));
    a.add("--models");
    for (int i = 0; i < count; i++) a.add(dir.resolve("ft" + i + ".safetensors").toString());
    return a.toArray(String[]::new);
  }

  private static String[] cat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void gtaFamilyFromYamlAndFlagsMatchesTheDoubleReference() throws Exception {
    double density = 0.6, gamma = 0.05, epsilon = 0.1, lambda = 0.9;
    long seed = 0;  // --seed absent: 0, in both paths
    for (GtaMethod m : List.of(GtaMethod.LINEAR, GtaMethod.DARE_TIES, GtaMethod.DARE_LINEAR, GtaMethod.BREADCRUMBS,
        GtaMethod.BREADCRUMBS_TIES, GtaMethod.DELLA, GtaMethod.DELLA_LINEAR)) {
      boolean linear = m == GtaMethod.LINEAR;
      StringBuilder y = new StringBuilder("merge_method: " + m.mergekitName + "\n");
      if (!linear) y.append("base_model: base.safetensors\n");
      y.append(models(true, 3)).append("parameters:\n");
      List<String> f = new ArrayList<>(List.of("--method", m.mergekitName));
      f.addAll(List.of(inputs(!linear, 3)));
      f.addAll(List.of("--weights", "0.5,0.3,0.2"));
      if (!linear) {
        y.append("  lambda: ").append(lambda).append("\n  density: ").append(density).append("\n");
        f.addAll(List.of("--scale", String.valueOf(lambda), "--density", String.valueOf(density)));
      } else {
        y.append("  normalize: true\n");
      }
      if (m.tensorParameters().contains("gamma")) {
        y.append("  gamma: ").append(gamma).append("\n");
        f.addAll(List.of("--gamma", String.valueOf(gamma)));
      }
      if (m.tensorParameters().contains("epsilon")) {
        y.append("  epsilon: ").append(epsilon).append("\n");
        f.addAll(List.of("--epsilon", String.valueOf(epsilon)));
      }
      Map<String, float[]> got = yamlEqualsFlags(m.mergekitName, y.toString(), f.toArray(String[]::new));
      GtaReference.Sparsify sp = m.sparsification == null ? GtaReference.Sparsify.NONE
          : GtaReference.Sparsify.valueOf(m.sparsification.name());
      int ambiguous = 0;
      for (String name : BASE.keySet()) {
        float[][] ms = {MODELS.get(0).get(name), MODELS.get(1).get(name), MODELS.get(2).get(name)};
        double d = linear ? 1 : density, p = sp == GtaReference.Sparsify.OUTLIERS ? gamma : epsilon;
        GtaReference.Result want = GtaReference.merge(linear ? null : BASE.get(name), ms, SHAPES.get(name), sp, WEIGHTS,
            new double[] {d, d, d}, new double[] {p, p, p}, m.defaultRescale,
            m.consensus == null ? 0 : m.consensus == Gta.Consensus.SUM ? 1 : 2, m.defaultNormalize || linear,
            linear ? 1 : lambda, seed, Dare.tensorKey(name));
        float[] out = got.get(name);
        for (int j = 0; j < out.length; j++) {
          if (want.ambiguous()[j]) {
            ambiguous++;
            continue;
          }
          double err = Math.abs(out[j] - want.out()[j]) / (want.scale()[j] + 1e-30);
          assertTrue(err <= 1e-5, m.mergekitName + " " + name + "[" + j + "]: " + out[j] + " vs " + want.out()[j]);
        }
      }
      assertTrue(ambiguous <= 3, m.mergekitName + ": " + ambiguous + " ambiguous elections");
    }
  }

  @Test
  void angleAndSphereMergesFromYamlEqualFlags() throws Exception {
    yamlEqualsFlags("slerp", "merge_method: slerp\nbase_model: base.safetensors\n" + models(false, 1)
        + "parameters: {t: 0.3}\n", cat(cat(new String[] {"--method", "slerp", "--alpha", "0.3"}, inputs(true, 1))));
    yamlEqualsFlags("model_stock", "merge_method: model_stock\nbase_model: base.safetensors\n" + models(false, 3),
        cat(new String[] {"--method", "model_stock"}, inputs(true, 3)));
    yamlEqualsFlags("nuslerp", "merge_method: nuslerp\nbase_model: base.safetensors\n" + models(true, 2),
        cat(cat(new String[] {"--method", "nuslerp"}, inputs(true, 2)), "--weights", "0.5,0.3"));
    yamlEqualsFlags("multislerp", "merge_method: multislerp\n" + models(true, 3),
        cat(cat(new String[] {"--method", "multislerp"}, inputs(false, 3)), "--weights", "0.5,0.3,0.2"));
  }

  @Test
  void svdMergesFromYamlEqualFlags() throws Exception {
    Map<String, float[]> tsv = yamlEqualsFlags("tsv_m", "merge_method: tsv_m\nbase_model: base.safetensors\n"
        + models(true, 3) + "parameters: {lambda: 0.8}\n",
        cat(cat(new String[] {"--method", "tsv-m"}, inputs(true, 3)), "--weights", "0.5,0.3,0.2", "--scale", "0.8"));
    yamlEqualsFlags("iso_c", "merge_method: iso_c\nbase_model: base.safetensors\n" + models(false, 3)
        + "parameters: {lambda: 1.2}\n", cat(cat(new String[] {"--method", "iso-c"}, inputs(true, 3)), "--scale", "1.2"));
    yamlEqualsFlags("iso_cts", "merge_method: iso_cts\nbase_model: base.safetensors\n" + models(false, 3)
        + "parameters: {common_space_fraction: 0.6}\n",
        cat(cat(new String[] {"--method", "iso-cts"}, inputs(true, 3)), "--common-space-fraction", "0.6"));
    boolean moved = false;
    for (String name : BASE.keySet()) {
      for (int j = 0; j < BASE.get(name).length; j++) moved |= tsv.get(name)[j] != BASE.get(name)[j];
      for (float v : tsv.get(name)) assertTrue(Float.isFinite(v), "tsv_m " + name);
    }
    assertTrue(moved, "tsv_m wrote θ0 unchanged");
  }

  @Test
  void emrFromYamlEqualsFlagsAndTheSignMaxReference() throws Exception {
    Map<String, float[]> u = yamlEqualsFlags("emr", "merge_method: emr\nbase_model: base.safetensors\n" + models(false, 3),
        cat(new String[] {"--method", "emr"}, inputs(true, 3)));
    for (String name : BASE.keySet()) {
      float[] b = BASE.get(name);
      float[][] deltas = new float[3][b.length];
      for (int i = 0; i < 3; i++) for (int j = 0; j < b.length; j++) deltas[i][j] = MODELS.get(i).get(name)[j] - b[j];
      assertArrayEquals(SignMaxReference.unified(deltas), u.get(name), "emr U " + name);
    }
    assertTrue(Files.isRegularFile(dir.resolve("emr-yaml.masks.safetensors")), "emr's masks beside the YAML run's output");
    assertTrue(Files.isRegularFile(dir.resolve("emr-yaml.emr.json")), "emr's rescalers beside the YAML run's output");
    yamlEqualsFlags("emr_task", "merge_method: emr\nbase_model: base.safetensors\n" + models(false, 3)
        + "parameters: {task: 1}\n", cat(new String[] {"--method", "emr", "--task", "1"}, inputs(true, 3)));
  }

  @Test
  void extensionYamlMistakesAreOneLineErrors() throws Exception {
    Path y = dir.resolve("bad.yaml");
    String head = "base_model: base.safetensors\n" + models(false, 2);
    String[][] cases = {
        {"merge_method: iso_c\n" + head + "parameters: {lambda: [{filter: attn, value: 1.0}]}\n", "lambda must be one number"},
        {"merge_method: iso_cts\n" + head + "parameters: {density: 0.5}\n", "unknown parameter 'density'"},
        {"merge_method: emr\n" + head + "parameters: {task: 0.5}\n", "task must be a whole number"},
        {"merge_method: tsv_m\n" + models(false, 2), "tsv_m needs 'base_model'"},
    };
    for (String[] c : cases) {
      Files.writeString(y, c[0]);
      CliRunner.Result r = CliRunner.run("merge", "--config", y.toString(), "--out", dir.resolve("bad.safetensors").toString());
      assertEquals(1, r.exitCode(), c[0] + r.out());
      assertTrue(r.out().contains(c[1]), c[1] + " in: " + r.out());
      assertEquals(1, r.out().strip().lines().count(), r.out());
    }
    Files.writeString(y, "merge_method: iso_c\n" + head);
    CliRunner.Result r = CliRunner.run("merge", "--config", y.toString(), "--seed", "3", "--out",
        dir.resolve("bad.safetensors").toString());
    assertTrue(r.exitCode() != 0 && r.out().contains("--seed does not apply"), r.out());
    assertTrue(!Files.exists(dir.resolve("bad.safetensors")), "nothing written on error");
  }
}
