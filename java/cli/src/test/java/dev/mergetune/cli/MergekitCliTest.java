package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code merge --config} with mergekit YAML: the same merge as its flags, per-tensor filters, strict keys. */
class MergekitCliTest {
  @TempDir Path dir;

  private void write(String name, Random rng, float sd) throws Exception {
    float[] w = new float[64], mlp = new float[48];
    Random base = new Random(1);
    for (int j = 0; j < w.length; j++) w[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    for (int j = 0; j < mlp.length; j++) mlp[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    SafetensorsWriter.write(dir.resolve(name), List.of(TensorSource.ofFloats("attn.w", new long[] {8, 8}, w, DType.F32),
        TensorSource.ofFloats("mlp.fc", new long[] {6, 8}, mlp, DType.F32)), Map.of());
  }

  private void inputs() throws Exception {
    Random rng = new Random(5);
    write("base.safetensors", rng, 0f);
    write("a.safetensors", rng, 0.1f);
    write("b.safetensors", rng, 0.1f);
    Files.createDirectories(dir.resolve("hf-b"));
    Files.copy(dir.resolve("b.safetensors"), dir.resolve("hf-b/model.safetensors"));
  }

  private float[] read(String file, String tensor) throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(file))) {
      return f.readFloats(tensor);
    }
  }

  private CliRunner.Result yaml(String name, String... lines) throws Exception {
    Path y = dir.resolve(name);
    Files.writeString(y, String.join("\n", lines) + "\n");
    return CliRunner.run("merge", "--config", y.toString(), "--out", dir.resolve(name + ".safetensors").toString(),
        "--seed", "4");
  }

  @Test
  void yamlEqualsFlagsAndFiltersPickPerTensorValues() throws Exception {
    inputs();
    CliRunner.Result y = yaml("dt.yaml", "merge_method: dare_ties", "base_model: base.safetensors", "models:",
        "  - model: base.safetensors", "  - model: a.safetensors", "    parameters: {weight: 0.6}",
        "  - model: hf-b", "    parameters:", "      weight: 0.4",
        "parameters:", "  density: [{filter: mlp, value: 0.3}, {value: 0.5}]", "  lambda: 0.9", "  int8_mask: true",
        "dtype: float32");
    assertEquals(0, y.exitCode(), y.out());
    for (String density : new String[] {"0.3", "0.5"}) {
      CliRunner.Result f = CliRunner.run("merge", "--method", "dare_ties", "--base", dir.resolve("base.safetensors").toString(),
          "--models", dir.resolve("a.safetensors").toString(), dir.resolve("b.safetensors").toString(),
          "--weights", "0.6,0.4", "--density", density, "--scale", "0.9", "--seed", "4",
          "--out", dir.resolve("flags-" + density + ".safetensors").toString());
      assertEquals(0, f.exitCode(), f.out());
    }
    // bit for bit: the filter gave mlp.fc density 0.3 and attn.w 0.5; the base listed in models was skipped
    assertArrayEquals(read("flags-0.3.safetensors", "mlp.fc"), read("dt.yaml.safetensors", "mlp.fc"));
    assertArrayEquals(read("flags-0.5.safetensors", "attn.w"), read("dt.yaml.safetensors", "attn.w"));
    assertFalse(java.util.Arrays.equals(read("flags-0.5.safetensors", "mlp.fc"), read("dt.yaml.safetensors", "mlp.fc")));
  }

  @Test
  void linearIsTheWeightedAverage() throws Exception {
    inputs();
    CliRunner.Result y = yaml("lin.yaml", "merge_method: linear", "models:",
        "  - {model: a.safetensors, parameters: {weight: 3}}", "  - {model: b.safetensors, parameters: {weight: 1}}");
    assertEquals(0, y.exitCode(), y.out());
    float[] a = read("a.safetensors", "attn.w"), b = read("b.safetensors", "attn.w"), got = read("lin.yaml.safetensors", "attn.w");
    for (int j = 0; j < a.length; j++) assertEquals((3.0 * a[j] + b[j]) / 4, got[j], 1e-6);
  }

  @Test
  void slerpAndModelStockRunFromYamlAndFlags() throws Exception {
    inputs();
    CliRunner.Result y = yaml("sl.yaml", "merge_method: slerp", "base_model: base.safetensors", "models:",
        "  - model: base.safetensors", "  - model: a.safetensors", "parameters: {t: 0.4}");
    assertEquals(0, y.exitCode(), y.out());
    CliRunner.Result f = CliRunner.run("merge", "--method", "slerp", "--alpha", "0.4", "--base",
        dir.resolve("base.safetensors").toString(), "--models", dir.resolve("a.safetensors").toString(), "--out",
        dir.resolve("sl-flags.safetensors").toString());
    assertEquals(0, f.exitCode(), f.out());
    assertArrayEquals(read("sl-flags.safetensors", "attn.w"), read("sl.yaml.safetensors", "attn.w"));
    CliRunner.Result ms = yaml("ms.yaml", "merge_method: model_stock", "base_model: base.safetensors",
        "models: [{model: a.safetensors}, {model: hf-b}]");
    assertEquals(0, ms.exitCode(), ms.out());
  }

  @Test
  void badMergekitFilesAreOneLineErrorsNamingTheKeyAndFile() throws Exception {
    inputs();
    String[][] cases = {
      {"unknown parameter 'densty'", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {weight: 1, densty: 0.5}}]"},
      {"unknown key 'tokenizer_sorce'", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {weight: 1}}]", "tokenizer_sorce: base"},
      {"is a gradient", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {weight: [0, 0.5, 1]}}]"},
      {"'slices' is not supported", "merge_method: ties", "slices: []"},
      {"'karcher' is a mergekit method mergetune does not run yet", "merge_method: karcher", "base_model: base.safetensors",
          "models: [{model: a.safetensors}]"},
      {"nuslerp merges exactly two models", "merge_method: nuslerp", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {weight: 1}}]"},
      {"'merge_method' must be a string, got 3", "merge_method: 3", "models: [{model: a.safetensors}]"},
      {"'models[0].parameters.weight' must be a number, a boolean or a list of {filter, value}, got the string \"x\"",
          "merge_method: linear", "models: [{model: a.safetensors, parameters: {weight: x}}]"},
      {"out_dtype 'float8' (float32, float16, bfloat16)", "merge_method: linear", "out_dtype: float8",
          "models: [{model: a.safetensors, parameters: {weight: 1}}]"},
      {"the merge kernels compute in float32 only", "merge_method: linear", "dtype: float64",
          "models: [{model: a.safetensors, parameters: {weight: 1}}]"},
      {"'models[0].parameters.weight' is null", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {weight: null}}]"},
      {"does not download from the Hugging Face hub", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: org/some-model, parameters: {weight: 1}}]"},
      {"no 'weight' for model 0", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {density: 0.5}}]"},
      {"keeps no element", "merge_method: ties", "base_model: base.safetensors",
          "models: [{model: a.safetensors, parameters: {weight: 1, density: 0.001}}]"},
    };
    int k = 0;
    for (String[] c : cases) {
      String name = "bad" + (k++) + ".yaml";
      CliRunner.Result r = yaml(name, java.util.Arrays.copyOfRange(c, 1, c.length));
      assertEquals(1, r.exitCode(), r.out());
      assertTrue(r.out().contains(c[0]), r.out());
      assertEquals(1, r.out().strip().lines().count(), r.out());
      assertFalse(Files.exists(dir.resolve(name + ".safetensors")));
    }
    CliRunner.Result noOut = CliRunner.run("merge", "--config", dir.resolve("bad0.yaml").toString());
    assertEquals(1, noOut.exitCode(), noOut.out());
    assertTrue(noOut.out().contains("needs --out"), noOut.out());
  }
}
