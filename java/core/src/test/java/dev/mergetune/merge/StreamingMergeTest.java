package dev.mergetune.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.LayoutMismatchException;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming merges on tiny hand-checkable checkpoints; expected values are worked out by hand in the comments. */
class StreamingMergeTest {
  @TempDir Path dir;

  private Path ckpt(String name, float[] w, float[] h, long... ids) throws IOException {
    ByteBuffer idBytes = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    idBytes.asLongBuffer().put(ids);
    Path p = dir.resolve(name);
    SafetensorsWriter.write(p, List.of(
        TensorSource.ofFloats("w", new long[] {2, 2}, w, DType.F32),
        TensorSource.ofFloats("h", new long[] {2}, h, DType.BF16),
        TensorSource.ofBytes("ids", DType.I64, new long[] {ids.length}, idBytes)), Map.of());
    return p;
  }

  @Test
  void inputDigestsComeFromTheMergesReadsOrAreLeftOut() throws IOException {
    Path theta0 = ckpt("t0.safetensors", new float[] {1, 2, 3, 4}, new float[] {1, 1}, 7, 8);
    Path a = ckpt("a.safetensors", new float[] {2, 2, 3, 4}, new float[] {1.5f, 1}, 7, 8);
    Path hashed = dir.resolve("hashed.safetensors");
    Path plain = dir.resolve("plain.safetensors");
    TensorOp op = LinearMerge.taskArithmetic(new float[] {1}, new float[] {1});
    // a selection that copies "w": the digest must still cover the bytes the merge never reads for the kernel
    TensorSelection onlyH = new TensorSelection(List.of("h"), List.of(), false);
    List<StreamingMerge.Result> r = StreamingMerge.run(theta0, List.of(a), op, List.of(hashed), onlyH,
        StreamingMerge.Options.defaults());
    StreamingMerge.run(theta0, List.of(a), op, List.of(plain), onlyH,
        StreamingMerge.Options.defaults().withHashInputs(false));
    try (SafetensorsFile f = SafetensorsFile.open(hashed); SafetensorsFile g = SafetensorsFile.open(plain)) {
      // InputHashes reads each whole file on its own: the independent reference for the in-pass digest
      assertEquals("t0.safetensors sha256:" + InputHashes.sha256(theta0), f.metadata().get("mergetune.base"));
      assertEquals("a.safetensors sha256:" + InputHashes.sha256(a), f.metadata().get("mergetune.model.0"));
      assertEquals(f.metadata(), r.get(0).metadata());
      assertEquals("sha256", f.metadata().get(StreamingMerge.INPUT_DIGEST));
      assertEquals("t0.safetensors", g.metadata().get("mergetune.base"));
      assertEquals("a.safetensors", g.metadata().get("mergetune.model.0"));
      assertEquals("none", g.metadata().get(StreamingMerge.INPUT_DIGEST));
      assertArrayEquals(f.readFloats("h"), g.readFloats("h"));
      assertArrayEquals(f.readFloats("w"), g.readFloats("w"));
    }
  }

  @Test
  void aNamedDigestIsRecordedWithItsNameFromTheSameReads() throws IOException {
    Path theta0 = ckpt("t0.safetensors", new float[] {1, 2, 3, 4}, new float[] {1, 1}, 7, 8);
    Path a = ckpt("a.safetensors", new float[] {2, 2, 3, 4}, new float[] {1.5f, 1}, 7, 8);
    Path fast = dir.resolve("fast.safetensors");
    Path plain = dir.resolve("plain.safetensors");
    TensorOp op = LinearMerge.taskArithmetic(new float[] {1}, new float[] {1});
    TensorSelection onlyH = new TensorSelection(List.of("h"), List.of(), false);
    List<StreamingMerge.Result> r = StreamingMerge.run(theta0, List.of(a), op, List.of(fast), onlyH,
        StreamingMerge.Options.defaults().withInputDigest(dev.mergetune.io.ContentDigest.XXH3_128));
    StreamingMerge.run(theta0, List.of(a), op, List.of(plain), onlyH, StreamingMerge.Options.defaults().withHashInputs(false));
    try (SafetensorsFile f = SafetensorsFile.open(fast); SafetensorsFile g = SafetensorsFile.open(plain)) {
      // ContentDigest.of reads each whole file in 1 MiB blocks on its own (and is checked against xxhsum itself)
      assertEquals("t0.safetensors xxh3-128:" + dev.mergetune.io.ContentDigest.XXH3_128.of(theta0),
          f.metadata().get("mergetune.base"));
      assertEquals("a.safetensors xxh3-128:" + dev.mergetune.io.ContentDigest.XXH3_128.of(a),
          f.metadata().get("mergetune.model.0"));
      assertEquals("xxh3-128", f.metadata().get(StreamingMerge.INPUT_DIGEST));
      assertEquals(f.metadata(), r.get(0).metadata());
      assertArrayEquals(f.readFloats("h"), g.readFloats("h"));
      assertArrayEquals(f.readFloats("w"), g.readFloats("w"));
    }
  }

  @Test
  void progressCountsEveryTensorReadAndTheBytes() throws IOException {
    Path theta0 = ckpt("t0.safetensors", new float[] {1, 2, 3, 4}, new float[] {1, 1}, 7, 8);
    Path a = ckpt("a.safetensors", new float[] {2, 2, 3, 4}, new float[] {1.5f, 1}, 7, 8);
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    long[] steps = new long[2];
    dev.mergetune.progress.Progress recording = (name, total, unit) -> {
      seen.add(name + " " + total + " " + unit);
      return new dev.mergetune.progress.ProgressTask() {
        public void step(long n) {
          steps[0] += n;
        }

        public void stepTo(long done) {
          steps[0] = done;
        }

        public void status(String message) {
          seen.add(message);
        }

        public void close() {
          steps[1]++;
        }
      };
    };
    StreamingMerge.run(theta0, List.of(a), LinearMerge.taskArithmetic(new float[] {1}, new float[] {1}),
        List.of(dir.resolve("o.safetensors")), TensorSelection.all(), StreamingMerge.Options.defaults().withProgress(recording));
    // w and h merged (read from both inputs), ids copied (read from the base): 3 tensors
    assertEquals("merge 3 tensor", seen.get(0));
    assertEquals(3, steps[0]);
    assertEquals(1, steps[1], "the task is closed");
    assertTrue(seen.get(seen.size() - 1).endsWith("GB read"), seen.toString());
  }

  @Test
  void taskArithmeticSweepFromOneRead() throws IOException {
    Path theta0 = ckpt("t0.safetensors", new float[] {1, 2, 3, 4}, new float[] {1, 1}, 7, 8);
    Path a = ckpt("a.safetensors", new float[] {2, 2, 3, 4}, new float[] {1.5f, 1}, 7, 8);   // δa = [1,0,0,0], [.5,0]
    Path b = ckpt("b.safetensors", new float[] {1, 0, 3, 5}, new float[] {1, 3}, 7, 8);      // δb = [0,-2,0,1], [0,2]
    Path o1 = dir.resolve("out-0.5.safetensors");
    Path o2 = dir.resolve("out-1.0.safetensors");
    List<StreamingMerge.Result> results = StreamingMerge.run(theta0, List.of(a, b),
        LinearMerge.taskArithmetic(new float[] {1, 2}, new float[] {0.5f, 1f}), List.of(o1, o2));
    try (SafetensorsFile f = SafetensorsFile.open(o1)) {
      // θ0 + 0.5·(δa + 2δb) = [1,2,3,4] + 0.5·[1,-4,0,2] = [1.5, 0, 3, 5]
      assertArrayEquals(new float[] {1.5f, 0f, 3f, 5f}, f.readFloats("w"));
      // h: [1,1] + 0.5·([.5,0] + 2·[0,2]) = [1.25, 3]; stored as BF16 like the inputs
      assertEquals(DType.BF16, f.info("h").dtype());
      assertArrayEquals(new float[] {1.25f, 3f}, f.readFloats("h"));
      long[] ids = new long[2];
      f.bytes("ids").asLongBuffer().get(ids);
      assertArrayEquals(new long[] {7, 8}, ids);
      assertEquals("task_arithmetic", f.metadata().get("mergetune.method"));
      assertEquals("0.5", f.metadata().get("mergetune.param.scale"));
      assertTrue(f.metadata().get("mergetune.model.1").matches("b\\.safetensors sha256:[0-9a-f]{64}"));
    }
    try (SafetensorsFile f = SafetensorsFile.open(o2)) {
      assertArrayEquals(new float[] {2f, -2f, 3f, 6f}, f.readFloats("w"));  // θ0 + [1,-4,0,2]
    }
    assertEquals(2, results.size());
  }

  @Test
  void wiseFtAndAverage() throws IOException {
    Path zs = ckpt("zs.safetensors", new float[] {0, 0, 4, 4}, new float[] {2, 2}, 1);
    Path ft = ckpt("ft.safetensors", new float[] {2, 4, 0, 4}, new float[] {4, 0}, 1);
    Path w = dir.resolve("wise.safetensors");
    StreamingMerge.run(zs, List.of(ft), LinearMerge.wiseFt(new float[] {0.25f}), List.of(w));
    try (SafetensorsFile f = SafetensorsFile.open(w)) {
      assertArrayEquals(new float[] {0.5f, 1f, 3f, 4f}, f.readFloats("w"));  // 0.75·zs + 0.25·ft
    }
    Path avg = dir.resolve("avg.safetensors");
    StreamingMerge.run(null, List.of(zs, ft), LinearMerge.average(new float[] {1, 3}), List.of(avg));
    try (SafetensorsFile f = SafetensorsFile.open(avg)) {
      assertArrayEquals(new float[] {1.5f, 3f, 1f, 4f}, f.readFloats("w"));  // (zs + 3·ft) / 4
      assertArrayEquals(new float[] {3.5f, 0.5f}, f.readFloats("h"));
    }
  }

  @Test
  void nanNamesTheFileAndWritesNothing() throws IOException {
    Path zs = ckpt("zs.safetensors", new float[] {0, 0, 0, 0}, new float[] {1, 1}, 1);
    Path bad = ckpt("bad.safetensors", new float[] {0, 0, Float.NaN, 0}, new float[] {1, 1}, 1);
    Path out = dir.resolve("out.safetensors");
    NonFiniteException e = assertThrows(NonFiniteException.class,
        () -> StreamingMerge.run(zs, List.of(bad), LinearMerge.wiseFt(new float[] {0.5f}), List.of(out)));
    assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("'w'")
        && e.getMessage().contains("element 2"), e.getMessage());
    assertFalse(Files.exists(out));
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp") || p.getFileName().toString().contains(".tmp-")), "temporary file left behind");
    }
  }

  @Test
  void mismatchedCheckpointsAreListedNotSkipped() throws IOException {
    Path zs = ckpt("zs.safetensors", new float[] {0, 0, 0, 0}, new float[] {1, 1}, 1);
    Path other = dir.resolve("other.safetensors");
    SafetensorsWriter.write(other, List.of(TensorSource.ofFloats("w", new long[] {4}, new float[4], DType.F32)), Map.of());
    LayoutMismatchException e = assertThrows(LayoutMismatchException.class,
        () -> StreamingMerge.run(zs, List.of(other), LinearMerge.wiseFt(new float[] {0.5f}), List.of(dir.resolve("o.safetensors"))));
    assertEquals(3, e.problems().size(), e.getMessage());  // w's shape, missing h, missing ids
  }

  @Test
  void f16RoundingOfTheResultIsTheSameAsRoundingTheExactValue() throws IOException {
    Path a = dir.resolve("a.safetensors");
    Path b = dir.resolve("b.safetensors");
    float[] va = {0.1f, 1000.3f, -3.7f};
    float[] vb = {0.2f, 1000.9f, 3.7f};
    SafetensorsWriter.write(a, List.of(TensorSource.ofFloats("x", new long[] {3}, va, DType.F16)), Map.of());
    SafetensorsWriter.write(b, List.of(TensorSource.ofFloats("x", new long[] {3}, vb, DType.F16)), Map.of());
    Path out = dir.resolve("avg.safetensors");
    StreamingMerge.run(null, List.of(a, b), LinearMerge.average(new float[] {1, 1}), List.of(out));
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      float[] got = f.readFloats("x");
      for (int i = 0; i < 3; i++) {
        float x = HalfFloats.f16ToFloat(HalfFloats.floatToF16(va[i]));
        float y = HalfFloats.f16ToFloat(HalfFloats.floatToF16(vb[i]));
        float expected = HalfFloats.f16ToFloat(HalfFloats.floatToF16((float) ((x + (double) y) / 2)));
        assertEquals(expected, got[i], "element " + i);
      }
    }
  }

  @Test
  void streamingDareEqualsInMemoryDareWhateverTheTensorOrder() throws IOException {
    float[] w0 = {1, 2, 3, 4};
    Path theta0 = ckpt("t0.safetensors", w0, new float[] {1, 1}, 5);
    Path a = ckpt("a.safetensors", new float[] {2, 3, 4, 5}, new float[] {2, 2}, 5);
    Path out = dir.resolve("dare.safetensors");
    dev.mergetune.kernels.Dare.Options opt =
        dev.mergetune.kernels.Dare.Options.dropRate(0.5f, 77L, dev.mergetune.kernels.Dare.Rescale.INVERSE);
    StreamingMerge.run(theta0, List.of(a), new DareMerge(new float[] {1f}, new float[] {1f}, opt), List.of(out));
    // the same tensor 'w' merged in memory, alone: base + 2·keep·δ with δ = 1 everywhere
    org.bytedeco.pytorch.Tensor o = org.bytedeco.pytorch.Tensor.create(new float[4], 4);
    dev.mergetune.kernels.Dare.merge(
        dev.mergetune.kernels.SegmentTable.ofTensors(List.of("w"), List.of(o)),
        dev.mergetune.kernels.SegmentTable.ofTensors(List.of("w"), List.of(org.bytedeco.pytorch.Tensor.create(w0, 4))),
        List.of(dev.mergetune.kernels.SegmentTable.ofTensors(List.of("w"),
            List.of(org.bytedeco.pytorch.Tensor.create(new float[] {2, 3, 4, 5}, 4)))), new float[] {1f}, opt);
    float[] inMemory = new float[4];
    o.data_ptr_float().get(inMemory);
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      assertArrayEquals(inMemory, f.readFloats("w"));
      for (int j = 0; j < 4; j++) assertTrue(inMemory[j] == w0[j] || inMemory[j] == w0[j] + 2f, "element " + j);
      assertEquals("0.5", f.metadata().get("mergetune.param.drop_rate"));
    }
  }
}
