package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.merge.svd.IsoMerge;
import dev.mergetune.merge.svd.TsvMerge;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code merge --method tsv-m | iso-c | iso-cts}: the flags give the library's merge bit for bit (its accuracy is
 * SpectralMergeTest's), a sweep of scales equals single runs, and misplaced options are one clear line.
 */
class MergeSpectralCliTest {
  @TempDir Path dir;

  static final Map<String, long[]> SHAPES = Map.of("attn.w", new long[] {8, 12}, "ln.b", new long[] {12});

  private Path write(String name, Random rng, float sd) throws Exception {
    Random base = new Random(1);
    float[] w = new float[96], b = new float[12];
    for (int j = 0; j < w.length; j++) w[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    for (int j = 0; j < b.length; j++) b[j] = (float) (base.nextGaussian() + sd * rng.nextGaussian());
    Path p = dir.resolve(name);
    SafetensorsWriter.write(p, List.of(TensorSource.ofFloats("attn.w", SHAPES.get("attn.w"), w, DType.F32),
        TensorSource.ofFloats("ln.b", SHAPES.get("ln.b"), b, DType.F32)), Map.of());
    return p;
  }

  private float[] read(Path file, String tensor) throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      return f.readFloats(tensor);
    }
  }

  @Test
  void flagsGiveTheLibrarysMergeAndSweepsEqualSingleRuns() throws Exception {
    Random rng = new Random(3);
    Path base = write("base.safetensors", rng, 0);
    List<Path> models = List.of(write("a.safetensors", rng, 0.1f), write("b.safetensors", rng, 0.1f));
    String[] in = {"--base", base.toString(), "--models", models.get(0).toString(), models.get(1).toString()};
    CliRunner.Result tsv = CliRunner.run(cat(new String[] {"merge", "--method", "tsv-m", "--weights", "1,0.5",
        "--scale", "0.5,1.0"}, in, "--out", dir.resolve("tsv-{}.safetensors").toString()));
    assertEquals(0, tsv.exitCode(), tsv.out());
    CliRunner.Result cts = CliRunner.run(cat(new String[] {"merge", "--method", "iso-cts", "--common-space-fraction",
        "0.5"}, in, "--out", dir.resolve("cts.safetensors").toString()));
    assertEquals(0, cts.exitCode(), cts.out());
    CliRunner.Result isoc = CliRunner.run(cat(new String[] {"merge", "--method", "iso-c", "--svd-exclude", "attn.*"},
        in, "--out", dir.resolve("isoc.safetensors").toString()));
    assertEquals(0, isoc.exitCode(), isoc.out());

    for (float alpha : new float[] {0.5f, 1.0f}) {
      Path lib = dir.resolve("lib-tsv-" + alpha + ".safetensors");
      StreamingMerge.run(base, models, new TsvMerge(SHAPES, 2, new float[] {1f, 0.5f}, new float[] {alpha}, List.of()),
          List.of(lib));
      for (String t : SHAPES.keySet()) {
        assertArrayEquals(read(lib, t), read(dir.resolve("tsv-" + alpha + ".safetensors"), t), 0f, t);
      }
    }
    Path lib = dir.resolve("lib-cts.safetensors");
    StreamingMerge.run(base, models, new IsoMerge(SHAPES, 0.5, new float[] {1f}, List.of()), List.of(lib));
    for (String t : SHAPES.keySet()) assertArrayEquals(read(lib, t), read(dir.resolve("cts.safetensors"), t), 0f, t);
    // iso-c with the matrix excluded: the plain rule, θ0 + (τ_a + τ_b)/2
    float[] b = read(base, "attn.w"), x = read(models.get(0), "attn.w"), y = read(models.get(1), "attn.w");
    float[] got = read(dir.resolve("isoc.safetensors"), "attn.w");
    for (int j = 0; j < got.length; j++) assertEquals(b[j] + ((x[j] - b[j]) + (y[j] - b[j])) / 2f, got[j], 1e-6f);
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("cts.safetensors"))) {
      assertEquals("iso-cts", f.metadata().get("mergetune.method"));
      assertEquals("0.5", f.metadata().get("mergetune.param.common_space_fraction"));
    }
  }

  @Test
  void misplacedOptionsAreOneClearLine() throws Exception {
    Random rng = new Random(4);
    Path base = write("base.safetensors", rng, 0);
    Path a = write("a.safetensors", rng, 0.1f);
    String out = dir.resolve("o.safetensors").toString();
    CliRunner.Result r = CliRunner.run("merge", "--method", "tsv-m", "--common-space-fraction", "0.5", "--base",
        base.toString(), "--models", a.toString(), "--out", out);
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("--method tsv-m does not take --common-space-fraction"), r.out());
    r = CliRunner.run("merge", "--method", "iso-c", "--models", a.toString(), "--out", out);
    assertTrue(r.out().contains("--method iso-c needs --base"), r.out());
    r = CliRunner.run("merge", "--method", "ties", "--svd-exclude", "x", "--base", base.toString(), "--models",
        a.toString(), "--out", out);
    assertTrue(r.out().contains("--svd-exclude belongs to --method tsv-m, iso-c and iso-cts"), r.out());
    r = CliRunner.run("merge", "--method", "iso-cts", "--common-space-fraction", "2", "--base", base.toString(),
        "--models", a.toString(), "--out", out);
    assertTrue(r.out().contains("--common-space-fraction must lie in [0, 1], got 2.0"), r.out());
    Path y = dir.resolve("c.yaml");
    java.nio.file.Files.writeString(y, "method: tsv-m\nbase: base.safetensors\nmodels: [a.safetensors]\nout: o.safetensors\n");
    r = CliRunner.run("merge", "--config", y.toString());
    assertTrue(r.out().contains("method tsv-m is not in the flat --config format: use the flags, or a mergekit-format YAML with merge_method: tsv_m"), r.out());
  }

  private static String[] cat(String[] head, String[] mid, String... tail) {
    String[] a = new String[head.length + mid.length + tail.length];
    System.arraycopy(head, 0, a, 0, head.length);
    System.arraycopy(mid, 0, a, head.length, mid.length);
    System.arraycopy(tail, 0, a, head.length + mid.length, tail.length);
    return a;
  }
}
