package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * {@code condu unify} and {@code condu decouple} on a state dict that is no CLIP model: two experts unify to
 * {@code merge --method emr}'s U, a decoupled expert is {@code merge --method emr --task 1}'s bit for bit, a kept
 * store is a store, and a mismatched expert is one line naming it.
 */
class ConduUnifyCliTest {
  @TempDir Path dir;

  private String write(String name, Random rng, float sd, long[] shape) throws Exception {
    Random base = new Random(1);
    float[] w = new float[30], b = new float[7];
    for (int j = 0; j < w.length; j++) w[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    for (int j = 0; j < b.length; j++) b[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    Path p = dir.resolve(name);
    SafetensorsWriter.write(p, List.of(TensorSource.ofFloats("enc.w", shape, w, DType.F32),
        TensorSource.ofFloats("enc.b", new long[] {7}, b, DType.F32)), Map.of());
    return p.toString();
  }

  private float[] read(String file, String tensor) throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(file))) {
      return f.readFloats(tensor);
    }
  }

  @Test
  void unifyDecoupleAndTheirErrors() throws Exception {
    Random rng = new Random(2);
    long[] shape = {5, 6};
    String base = write("base.safetensors", rng, 0, shape);
    String a = write("a.safetensors", rng, 0.1f, shape), b = write("b.safetensors", rng, 0.1f, shape);
    CliRunner.Result u = CliRunner.run("condu", "unify", "--base", base, "--expert", a, "--expert", b, "--store",
        dir.resolve("store").toString(), "--out", dir.resolve("u.safetensors").toString());
    assertEquals(0, u.exitCode(), u.out());
    assertTrue(u.out().contains("[a, b]"), u.out());
    CliRunner.Result e = CliRunner.run("merge", "--method", "emr", "--base", base, "--models", a, b, "--out",
        dir.resolve("emr.safetensors").toString());
    assertEquals(0, e.exitCode(), e.out());
    CliRunner.Result d = CliRunner.run("condu", "decouple", "--unified", dir.resolve("u.safetensors").toString(),
        "--task", "1", "--out", dir.resolve("b-expert.safetensors").toString());
    assertEquals(0, d.exitCode(), d.out());
    CliRunner.Result t = CliRunner.run("merge", "--method", "emr", "--task", "1", "--base", base, "--models", a, b,
        "--out", dir.resolve("emr-b.safetensors").toString());
    assertEquals(0, t.exitCode(), t.out());
    for (String n : List.of("enc.w", "enc.b")) {
      assertArrayEquals(read("emr.safetensors", n), read("u.safetensors", n), 0f, n);
      assertArrayEquals(read("emr-b.safetensors", n), read("b-expert.safetensors", n), 0f, n);
    }
    assertTrue(Files.isRegularFile(dir.resolve("store").resolve("manifest.json"))
        || Files.list(dir.resolve("store")).findAny().isPresent(), "the kept store");

    String bad = write("bad.safetensors", rng, 0.1f, new long[] {6, 5});
    CliRunner.Result r = CliRunner.run("condu", "unify", "--base", base, "--expert", a, "--expert", bad, "--out",
        dir.resolve("x.safetensors").toString());
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("bad.safetensors") && r.out().contains("enc.w"), r.out());
    assertEquals(1, r.out().strip().lines().count(), r.out());
    r = CliRunner.run("condu", "decouple", "--unified", dir.resolve("u.safetensors").toString(), "--task", "2",
        "--out", dir.resolve("x.safetensors").toString());
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("--task 2 is not one of the 2 tasks"), r.out());
  }
}
