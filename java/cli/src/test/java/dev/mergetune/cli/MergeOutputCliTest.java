package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code merge}'s output options from the command line and mergekit YAML; nuslerp / multislerp from both. */
class MergeOutputCliTest {
  @TempDir Path dir;

  private Path write(Path file, Random rng, float sd) throws Exception {
    Random base = new Random(1);
    float[] w = new float[64], b = new float[16];
    for (int j = 0; j < w.length; j++) w[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    for (int j = 0; j < b.length; j++) b[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    Files.createDirectories(file.getParent());
    SafetensorsWriter.write(file, List.of(TensorSource.ofFloats("l.w", new long[] {8, 8}, w, DType.F32),
        TensorSource.ofFloats("l.b", new long[] {16}, b, DType.F32)), Map.of("format", "pt"));
    return file;
  }

  private void inputs() throws Exception {
    Random rng = new Random(2);
    write(dir.resolve("hf/model.safetensors"), rng, 0);
    Files.writeString(dir.resolve("hf/config.json"), "{\"model_type\": \"clip\"}");
    Files.writeString(dir.resolve("hf/vocab.json"), "{}");
    write(dir.resolve("a.safetensors"), rng, 0.2f);
    write(dir.resolve("b.safetensors"), rng, 0.2f);
  }

  private String p(String name) {
    return dir.resolve(name).toString();
  }

  private static void oneLineError(CliRunner.Result r, String expected) {
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains(expected), r.out());
    assertEquals(1, r.out().strip().lines().count(), r.out());
  }

  @Test
  void hashNamesTheRecordedDigestAndNoHashIsNone() throws Exception {
    inputs();
    String[] merge = {"merge", "--method", "task-arithmetic", "--base", p("hf"), "--models", p("a.safetensors"),
        "--scale", "0.4"};
    CliRunner.Result fast = CliRunner.run(cat(merge, "--hash", "xxh3-128", "--out", p("fast.safetensors")));
    assertEquals(0, fast.exitCode(), fast.out());
    CliRunner.Result dflt = CliRunner.run(cat(merge, "--out", p("default.safetensors")));
    assertEquals(0, dflt.exitCode(), dflt.out());
    CliRunner.Result none = CliRunner.run(cat(merge, "--no-hash", "--out", p("none.safetensors")));
    assertEquals(0, none.exitCode(), none.out());
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("fast.safetensors"));
        SafetensorsFile d = SafetensorsFile.open(dir.resolve("default.safetensors"));
        SafetensorsFile n = SafetensorsFile.open(dir.resolve("none.safetensors"))) {
      Path base = dir.resolve("hf/model.safetensors");
      assertEquals("xxh3-128", f.metadata().get("mergetune.input_digest"));
      assertEquals("model.safetensors xxh3-128:" + dev.mergetune.io.ContentDigest.XXH3_128.of(base),
          f.metadata().get("mergetune.base"));
      assertEquals("sha256", d.metadata().get("mergetune.input_digest"), "the default digest");
      assertEquals("model.safetensors sha256:" + dev.mergetune.merge.InputHashes.sha256(base), d.metadata().get("mergetune.base"));
      assertEquals("none", n.metadata().get("mergetune.input_digest"));
      assertEquals("model.safetensors", n.metadata().get("mergetune.base"));
      for (String t : f.tensors().keySet()) {
        assertArrayEquals(d.readFloats(t), f.readFloats(t), t);
        assertArrayEquals(d.readFloats(t), n.readFloats(t), t);
      }
    }
    CliRunner.Result alias = CliRunner.run(cat(merge, "--hash", "none", "--out", p("none2.safetensors")));
    assertEquals(0, alias.exitCode(), alias.out());
    oneLineError(CliRunner.run(cat(merge, "--hash", "md5", "--out", p("x.safetensors"))),
        "--hash: unknown digest 'md5' (sha256, xxh3-128, none)");
    oneLineError(CliRunner.run(cat(merge, "--no-hash", "--hash", "sha256", "--out", p("x.safetensors"))),
        "--no-hash and --hash sha256 contradict each other");
    assertFalse(Files.exists(dir.resolve("x.safetensors")));
  }

  private static String[] cat(String[] head, String... tail) {
    String[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }

  @Test
  void shardedHfFolderFromAFolderBaseEqualsTheSingleFile() throws Exception {
    inputs();
    CliRunner.Result one = CliRunner.run("merge", "--method", "task-arithmetic", "--base", p("hf"), "--models",
        p("a.safetensors"), p("b.safetensors"), "--scale", "0.4", "--out", p("one.safetensors"));
    assertEquals(0, one.exitCode(), one.out());
    CliRunner.Result sh = CliRunner.run("merge", "--method", "task-arithmetic", "--base", p("hf"), "--models",
        p("a.safetensors"), p("b.safetensors"), "--scale", "0.4", "--out", p("out") + "/", "--out-shard-size", "100B");
    assertEquals(0, sh.exitCode(), sh.out());
    assertTrue(sh.out().contains("copied config.json, vocab.json from"), sh.out());
    assertTrue(Files.isRegularFile(dir.resolve("out/model-00001-of-00002.safetensors")), sh.out());
    assertEquals("{\"model_type\": \"clip\"}", Files.readString(dir.resolve("out/config.json")));
    try (Checkpoint a = Checkpoints.open(dir.resolve("one.safetensors"));
        Checkpoint b = Checkpoints.open(dir.resolve("out/model.safetensors.index.json"))) {
      assertEquals(2, b.shardCount());
      for (String t : a.tensors().keySet()) assertArrayEquals(a.readFloats(t), b.readFloats(t), t);
      assertEquals("pt", b.metadata().get("format"), "the base's metadata is kept");
    }
    oneLineError(CliRunner.run("merge", "--method", "task-arithmetic", "--base", p("hf"), "--models", p("a.safetensors"),
        "--out", p("x.safetensors"), "--out-shard-size", "1MB"), "give --out a folder");
    oneLineError(CliRunner.run("merge", "--method", "task-arithmetic", "--base", p("hf"), "--models", p("a.safetensors"),
        "--out", p("x/"), "--out-shard-size", "lots"), "--out-shard-size 'lots' is not a size");
  }

  @Test
  void outDtypeFromFlagsAndMergekitYamlRoundsTheFloat32Result() throws Exception {
    inputs();
    CliRunner.Result f32 = CliRunner.run("merge", "--method", "linear", "--models", p("a.safetensors"),
        p("b.safetensors"), "--weights", "1,3", "--out", p("f32.safetensors"));
    assertEquals(0, f32.exitCode(), f32.out());
    CliRunner.Result bf = CliRunner.run("merge", "--method", "linear", "--models", p("a.safetensors"),
        p("b.safetensors"), "--weights", "1,3", "--out", p("bf.safetensors"), "--out-dtype", "bf16", "--dtype", "fp32");
    assertEquals(0, bf.exitCode(), bf.out());
    Files.writeString(dir.resolve("h.yaml"), String.join("\n", "merge_method: linear", "dtype: bfloat16",
        "out_dtype: float16", "models:", "  - {model: a.safetensors, parameters: {weight: 1}}",
        "  - {model: b.safetensors, parameters: {weight: 3}}", ""));
    CliRunner.Result h = CliRunner.run("merge", "--config", p("h.yaml"), "--out", p("h.safetensors"));
    assertEquals(0, h.exitCode(), h.out());
    assertTrue(h.out().contains("note: dtype bfloat16: mergetune computes in float32; the output is stored as F16"), h.out());
    try (SafetensorsFile a = SafetensorsFile.open(dir.resolve("f32.safetensors"));
        SafetensorsFile b = SafetensorsFile.open(dir.resolve("bf.safetensors"));
        SafetensorsFile c = SafetensorsFile.open(dir.resolve("h.safetensors"))) {
      for (String t : List.of("l.w", "l.b")) {
        assertEquals(DType.BF16, b.tensors().get(t).dtype());
        assertEquals(DType.F16, c.tensors().get(t).dtype());
        float[] want = a.readFloats(t);
        var bb = b.bytes(t).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        var cb = c.bytes(t).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int j = 0; j < want.length; j++) {
          assertEquals(HalfFloats.floatToBf16(want[j]), bb.getShort(2 * j), t + "[" + j + "]");
          assertEquals(HalfFloats.floatToF16(want[j]), cb.getShort(2 * j), t + "[" + j + "]");
        }
      }
    }
    oneLineError(CliRunner.run("merge", "--config", p("h.yaml"), "--out", p("h2.safetensors"), "--out-dtype", "fp32"),
        "and --out-dtype is given");
    oneLineError(CliRunner.run("merge", "--method", "linear", "--models", p("a.safetensors"), "--out", p("z.safetensors"),
        "--out-dtype", "fp8"), "unknown --out-dtype 'fp8' (fp32, fp16, bf16)");
  }

  @Test
  void computeDtypeAndDeviceRefusalsAreOneClearLine() throws Exception {
    inputs();
    String[] common = {"merge", "--method", "task-arithmetic", "--base", p("hf"), "--models", p("a.safetensors"),
        "--out", p("r.safetensors")};
    oneLineError(CliRunner.run(concat(common, "--dtype", "fp64")), "--dtype fp64: the merge kernels compute in float32 only");
    oneLineError(CliRunner.run(concat(common, "--dtype", "bf16")), "to store bf16 give --out-dtype bf16");
    CliRunner.Result cuda = CliRunner.run(concat(common, "--device", "cuda"));
    // here (no GPU): "no usable CUDA device here (…)"; where one is usable the merge still refuses, saying why
    oneLineError(cuda, "--device cuda: ");
    assertTrue(cuda.out().contains("no usable CUDA device") || cuda.out().contains("does not run its kernels on CUDA yet"),
        cuda.out());
    oneLineError(CliRunner.run(concat(common, "--device", "tpu")), "unknown --device 'tpu' (cpu, cuda)");
    assertFalse(Files.exists(dir.resolve("r.safetensors")));
    assertEquals(0, CliRunner.run(concat(common, "--device", "cpu")).exitCode());
  }

  @Test
  void nuslerpAndMultislerpRunFromYamlAndFlagsAlike() throws Exception {
    inputs();
    for (String method : List.of("nuslerp", "multislerp")) {
      Files.writeString(dir.resolve(method + ".yaml"), String.join("\n", "merge_method: " + method, "base_model: hf",
          "models:", "  - {model: a.safetensors, parameters: {weight: 0.3}}",
          "  - {model: b.safetensors, parameters: {weight: 0.7}}", ""));
      CliRunner.Result y = CliRunner.run("merge", "--config", p(method + ".yaml"), "--out", p(method + "-y.safetensors"));
      assertEquals(0, y.exitCode(), y.out());
      CliRunner.Result f = CliRunner.run("merge", "--method", method, "--base", p("hf/model.safetensors"), "--models",
          p("a.safetensors"), p("b.safetensors"), "--weights", "0.3,0.7", "--out", p(method + "-f.safetensors"));
      assertEquals(0, f.exitCode(), f.out());
      try (SafetensorsFile a = SafetensorsFile.open(dir.resolve(method + "-y.safetensors"));
          SafetensorsFile b = SafetensorsFile.open(dir.resolve(method + "-f.safetensors"))) {
        for (String t : List.of("l.w", "l.b")) assertArrayEquals(a.readFloats(t), b.readFloats(t), method + " " + t);
        assertEquals(method, a.metadata().get("mergetune.method"));
      }
    }
    oneLineError(CliRunner.run("merge", "--method", "nuslerp", "--models", p("a.safetensors"), p("b.safetensors"),
        "--alpha", "0.5", "--out", p("n.safetensors")), "--method nuslerp does not take --alpha");
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
