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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune merge --method ties}: presets, knobs, sweeps, YAML, and one-line errors. */
class MergeTiesCliTest {
  @TempDir Path dir;

  private Path write(String name, float[] w, float[] ln) throws Exception {
    Path p = dir.resolve(name);
    SafetensorsWriter.write(p, List.of(TensorSource.ofFloats("w", new long[] {4}, w, DType.F32),
        TensorSource.ofFloats("ln.weight", new long[] {2}, ln, DType.F32)), Map.of());
    return p;
  }

  private Path[] inputs() throws Exception {
    // The worked vector: δ1 = [.5, −.2, .1, 0], δ2 = [−.3, .4, .1, −.6], δ3 = [.2, −.1, −.7, .3] on w (base 0).
    return new Path[] {
      write("base.safetensors", new float[4], new float[] {1, 1}),
      write("m1.safetensors", new float[] {.5f, -.2f, .1f, 0f}, new float[] {2, 1}),
      write("m2.safetensors", new float[] {-.3f, .4f, .1f, -.6f}, new float[] {1, 3}),
      write("m3.safetensors", new float[] {.2f, -.1f, -.7f, .3f}, new float[] {1, 1})};
  }

  @Test
  void mergekitPresetWithASweepAndAnExclusion() throws Exception {
    Path[] in = inputs();
    CliRunner.Result r = CliRunner.run("merge", "--method", "ties", "--preset", "mergekit", "--density", "0.5",
        "--base", in[0].toString(), "--models", in[1].toString(), in[2].toString(), in[3].toString(),
        "--scale", "1,2", "--exclude", "ln.*", "--out", dir.resolve("t-{}.safetensors").toString());
    assertEquals(0, r.exitCode(), r.out());
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("t-2.0.safetensors"))) {
      // Exactly 2 kept per model; elected [+, +, −, −]; mean [.5, .4, −.7, −.6]; λ = 2.
      assertArrayEquals(new float[] {1f, .8f, -1.4f, -1.2f}, f.readFloats("w"), 1e-6f);
      assertArrayEquals(new float[] {1, 1}, f.readFloats("ln.weight"));  // excluded: the base's
      assertEquals("mergekit", f.metadata().get("mergetune.param.preset"));
      assertEquals("per_tensor", f.metadata().get("mergetune.param.scope"));
      assertEquals("ln.*", f.metadata().get("mergetune.exclude"));
    }
    assertTrue(Files.exists(dir.resolve("t-1.0.safetensors")));
  }

  @Test
  void fusionbenchFromYamlUsesItsLambdaAndCountElectionCanBeChosen() throws Exception {
    Path[] in = inputs();
    Path yaml = dir.resolve("ties.yaml");
    Files.writeString(yaml, String.join("\n", "method: ties", "preset: fusionbench", "density: 0.5",
        "base: base.safetensors", "models: [m1.safetensors, m2.safetensors, m3.safetensors]",
        "include: [w]", "out: fb.safetensors", ""));
    CliRunner.Result r = CliRunner.run("merge", "--config", yaml.toString());
    assertEquals(0, r.exitCode(), r.out());
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("fb.safetensors"))) {
      // kthvalue keeps 3 per model (see TiesTest); disjoint sum [.7, .4, −.7, −.6] · 0.3.
      assertArrayEquals(new float[] {.21f, .12f, -.21f, -.18f}, f.readFloats("w"), 1e-6f);
      assertEquals("0.3", f.metadata().get("mergetune.param.lambda"));
    }
    CliRunner.Result count = CliRunner.run("merge", "--method", "ties", "--preset", "mergekit", "--density", "0.5",
        "--election", "count", "--base", in[0].toString(), "--models", in[1].toString(), in[2].toString(),
        in[3].toString(), "--include", "w", "--out", dir.resolve("count.safetensors").toString());
    assertEquals(0, count.exitCode(), count.out());
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("count.safetensors"))) {
      // Votes [+1, 0, −1, 0]; zero → +1 (mergekit): [.5, .4, −.7, .3].
      assertArrayEquals(new float[] {.5f, .4f, -.7f, .3f}, f.readFloats("w"), 1e-6f);
    }
  }

  @Test
  void disjointMaxAggregateFromTheFlag() throws Exception {
    Path[] in = inputs();
    CliRunner.Result r = CliRunner.run("merge", "--method", "ties", "--preset", "fusionbench", "--density", "0.5",
        "--aggregate", "max", "--scale", "1", "--base", in[0].toString(), "--models", in[1].toString(),
        in[2].toString(), in[3].toString(), "--include", "w", "--out", dir.resolve("max.safetensors").toString());
    assertEquals(0, r.exitCode(), r.out());
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("max.safetensors"))) {
      // kthvalue keeps 3 per model; elected [+, +, −, −]; element 0 agrees with .5 and .2 (sum .7), max .5.
      assertArrayEquals(new float[] {.5f, .4f, -.7f, -.6f}, f.readFloats("w"), 1e-6f);
      assertEquals("disjoint_max", f.metadata().get("mergetune.param.aggregate"));
    }
    CliRunner.Result bad = CliRunner.run("merge", "--method", "ties", "--aggregate", "median", "--base",
        in[0].toString(), "--models", in[1].toString(), "--out", dir.resolve("m.safetensors").toString());
    assertEquals(1, bad.exitCode());
    assertTrue(bad.out().contains("unknown --aggregate 'median' (max, mean, sum)"), bad.out());
  }

  @Test
  void badTiesOptionsAreOneLineErrors() throws Exception {
    Path[] in = inputs();
    CliRunner.Result trim = CliRunner.run("merge", "--method", "ties", "--trim", "layerwise", "--base", in[0].toString(),
        "--models", in[1].toString(), "--out", dir.resolve("x.safetensors").toString());
    assertEquals(1, trim.exitCode());
    assertTrue(trim.out().contains("unknown --trim 'layerwise' (global, per-tensor)"), trim.out());
    assertEquals(1, trim.out().strip().lines().count(), trim.out());
    CliRunner.Result misplaced = CliRunner.run("merge", "--method", "task-arithmetic", "--density", "0.3",
        "--base", in[0].toString(), "--models", in[1].toString(), "--out", dir.resolve("y.safetensors").toString());
    assertEquals(1, misplaced.exitCode());
    assertTrue(misplaced.out().contains("belong to --method ties"), misplaced.out());
    CliRunner.Result nothing = CliRunner.run("merge", "--method", "ties", "--include", "nope.*", "--base",
        in[0].toString(), "--models", in[1].toString(), "--out", dir.resolve("z.safetensors").toString());
    assertEquals(1, nothing.exitCode());
    assertTrue(nothing.out().contains("no floating tensor is selected"), nothing.out());
    assertFalse(Files.exists(dir.resolve("x.safetensors")) || Files.exists(dir.resolve("z.safetensors")));
  }
}
