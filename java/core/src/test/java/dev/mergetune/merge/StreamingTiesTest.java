package dev.mergetune.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.kernels.Ties;
import dev.mergetune.kernels.reference.TiesReference;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TIES through the streaming executor: the global trim's statistics passes see the tensors one at a time, yet the
 * result must equal TiesReference over the whole concatenated parameter set.
 */
class StreamingTiesTest {
  @TempDir Path dir;

  private static final String[] NAMES = {"visual.conv1.weight", "visual.ln_pre.weight", "text.proj", "logit_scale"};
  private static final int[] LENGTHS = {600, 7, 2049, 1};

  /** Writes flat values as the four tensors above plus an integer tensor that is passed through. */
  private Path write(String file, float[] flat) throws IOException {
    List<TensorSource> tensors = new ArrayList<>();
    int at = 0;
    for (int s = 0; s < NAMES.length; s++) {
      tensors.add(TensorSource.ofFloats(NAMES[s], new long[] {LENGTHS[s]}, java.util.Arrays.copyOfRange(flat, at, at + LENGTHS[s]), DType.F32));
      at += LENGTHS[s];
    }
    ByteBuffer ids = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    ids.asLongBuffer().put(new long[] {3, 77});
    tensors.add(TensorSource.ofBytes("context_length", DType.I64, new long[] {2}, ids));
    Path p = dir.resolve(file);
    SafetensorsWriter.write(p, tensors, Map.of());
    return p;
  }

  private static float[] readFlat(Path p, String... names) {
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      List<Float> out = new ArrayList<>();
      for (String n : names) for (float v : f.readFloats(n)) out.add(v);
      float[] a = new float[out.size()];
      for (int i = 0; i < a.length; i++) a[i] = out.get(i);
      return a;
    }
  }

  private static int total() {
    int n = 0;
    for (int len : LENGTHS) n += len;
    return n;
  }

  private float[] base;
  private float[][] models;

  private List<Path> inputs(long seed) throws IOException {
    SplittableRandom rng = new SplittableRandom(seed);
    int n = total();
    base = new float[n];
    models = new float[3][n];
    for (int j = 0; j < n; j++) {
      base[j] = (float) rng.nextGaussian();
      for (int i = 0; i < 3; i++) {
        int pick = rng.nextInt(12);
        float d = pick == 0 ? 0f : pick == 1 ? 0.015625f : (float) (0.01 * rng.nextGaussian());
        models[i][j] = base[j] + d;
      }
    }
    List<Path> paths = new ArrayList<>();
    paths.add(write("base.safetensors", base));
    for (int i = 0; i < 3; i++) paths.add(write("m" + i + ".safetensors", models[i]));
    return paths;
  }

  @Test
  void everyPresetEqualsTheReferenceOverTheWholeSetWithALambdaSweep() throws IOException {
    List<Path> in = inputs(3);
    float[] w = {1f, 2f, 0.5f};
    for (Ties.Options preset : List.of(Ties.Options.paper(), Ties.Options.fusionbench(), Ties.Options.mergekit(),
        Ties.Options.mergekit().withScope(Ties.Scope.GLOBAL), Ties.Options.paper().withScope(Ties.Scope.PER_TENSOR))) {
      Path o1 = dir.resolve("out-a.safetensors");
      Path o2 = dir.resolve("out-b.safetensors");
      StreamingMerge.run(in.get(0), in.subList(1, 4), new TiesMerge(w, new float[] {0.5f, 1.5f}, preset), List.of(o1, o2));
      for (float lambda : new float[] {0.5f, 1.5f}) {
        Path out = lambda == 0.5f ? o1 : o2;
        double[] want = TiesReference.merge(base, models, w, LENGTHS, preset.withLambda(lambda));
        float[] got = readFlat(out, NAMES);
        for (int j = 0; j < got.length; j++) {
          double scale = Math.abs(base[j]) + lambda * 0.1;
          assertTrue(Math.abs(got[j] - want[j]) <= 2e-7 * scale,
              preset + " λ " + lambda + " element " + j + ": " + got[j] + " vs " + want[j]);
        }
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
          assertEquals("ties", f.metadata().get("mergetune.method"));
          assertEquals(preset.preset(), f.metadata().get("mergetune.param.preset"));
          assertEquals(Float.toString(lambda), f.metadata().get("mergetune.param.lambda"));
          long[] ids = new long[2];
          f.bytes("context_length").asLongBuffer().get(ids);
          assertArrayEquals(new long[] {3, 77}, ids);
        }
      }
    }
  }

  @Test
  void excludedTensorsAreCopiedAndLeftOutOfTheGlobalTrim() throws IOException {
    List<Path> in = inputs(5);
    float[] w = {1f, 1f, 1f};
    Path out = dir.resolve("vis.safetensors");
    TensorSelection visualOnly = new TensorSelection(List.of("visual.**"), List.of("**.ln_*.*"), false);
    StreamingMerge.run(in.get(0), in.subList(1, 4), new TiesMerge(w, new float[0], Ties.Options.paper()), List.of(out),
        visualOnly);
    // Only visual.conv1.weight is merged (ln_pre is excluded): the reference over that tensor alone.
    float[] b0 = java.util.Arrays.copyOfRange(base, 0, 600);
    float[][] m0 = new float[3][];
    for (int i = 0; i < 3; i++) m0[i] = java.util.Arrays.copyOfRange(models[i], 0, 600);
    double[] want = TiesReference.merge(b0, m0, w, new int[] {600}, Ties.Options.paper());
    float[] got = readFlat(out, "visual.conv1.weight");
    for (int j = 0; j < 600; j++) assertEquals(want[j], got[j], 2e-7 * (Math.abs(b0[j]) + 0.1));
    int at = 600;
    assertArrayEquals(java.util.Arrays.copyOfRange(base, at, at + 7), readFlat(out, "visual.ln_pre.weight"));
    assertArrayEquals(java.util.Arrays.copyOfRange(base, 607, 607 + 2049), readFlat(out, "text.proj"));
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      assertEquals("1", f.metadata().get("mergetune.merged_tensors"));
      assertEquals("visual.**", f.metadata().get("mergetune.include"));
    }
  }

  @Test
  void aNanStopsTheStatisticsPassNamingFileAndTensorAndWritesNothing() throws IOException {
    List<Path> in = inputs(9);
    models[1][600 + 7 + 5] = Float.NaN;  // text.proj element 5 of model 1
    Path bad = write("m1.safetensors", models[1]);
    Path out = dir.resolve("never.safetensors");
    NonFiniteException e = assertThrows(NonFiniteException.class, () -> StreamingMerge.run(in.get(0),
        List.of(in.get(1), bad, in.get(3)), new TiesMerge(new float[] {1, 1, 1}, new float[0], Ties.Options.paper()),
        List.of(out)));
    assertTrue(e.getMessage().contains("m1.safetensors") && e.getMessage().contains("'text.proj'")
        && e.getMessage().contains("element 5"), e.getMessage());
    assertFalse(Files.exists(out));
  }
}
