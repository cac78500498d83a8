package dev.mergetune.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.ShardPlan;
import dev.mergetune.tensors.StorageDTypes;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output conventions of the streaming merge: HF shards equal the single file tensor by tensor, the index is
 * complete, the base's metadata is kept, --out-dtype rounds the fp32 result once, folders get the base's side
 * files, stale HF files go, and a failed merge leaves nothing.
 */
class MergeOutputsTest {
  @TempDir Path dir;

  private static final String[] NAMES = {"a.w", "a.b", "b.w", "b.b", "copied.w", "big.w"};
  private static final int[] SIZES = {40, 8, 30, 6, 20, 120};

  private Path write(Path file, Random rng, float nanAt, Map<String, String> metadata) throws Exception {
    List<TensorSource> ts = new ArrayList<>();
    for (int s = 0; s < NAMES.length; s++) {
      float[] v = new float[SIZES[s]];
      for (int j = 0; j < v.length; j++) v[j] = (float) rng.nextGaussian();
      if (s == 0 && nanAt >= 0) v[(int) nanAt] = Float.NaN;
      ts.add(TensorSource.ofFloats(NAMES[s], new long[] {v.length}, v, s == 3 ? DType.BF16 : DType.F32));
    }
    ByteBuffer ids = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1).putLong(8, 2).putLong(16, 3);
    ts.add(TensorSource.ofBytes("ids", DType.I64, new long[] {3}, ids));
    Files.createDirectories(file.getParent());
    SafetensorsWriter.write(file, ts, metadata);
    return file;
  }

  private List<Path> inputs() throws Exception {
    Random rng = new Random(3);
    Path base = write(dir.resolve("hf/model.safetensors"), rng, -1,
        Map.of("format", "pt", "custom", "kept", "mergetune.method", "an earlier merge"));
    Files.writeString(dir.resolve("hf/config.json"), "{\"architectures\": [\"CLIPModel\"]}");
    Files.writeString(dir.resolve("hf/tokenizer.json"), "{}");
    return List.of(base, write(dir.resolve("m0.safetensors"), rng, -1, Map.of()),
        write(dir.resolve("m1.safetensors"), rng, -1, Map.of()));
  }

  private static final TensorSelection SELECTION = new TensorSelection(List.of(), List.of("copied.*"), false);

  private static TensorOp op() {
    return LinearMerge.taskArithmetic(new float[] {1f, 0.5f}, new float[] {0.3f});
  }

  private static StreamingMerge.Options options() {
    return StreamingMerge.Options.defaults().withHashInputs(false);
  }

  private static byte[] bytes(Checkpoint c, String name) {
    ByteBuffer b = c.bytes(name);
    try {
      byte[] a = new byte[b.remaining()];
      b.duplicate().get(a);
      return a;
    } finally {
      c.release(b);
    }
  }

  @Test
  void shardedOutputEqualsTheSingleFileTensorByTensor() throws Exception {
    List<Path> in = inputs();
    Path single = dir.resolve("single.safetensors");
    StreamingMerge.run(in.get(0), in.subList(1, 3), op(), List.of(single), SELECTION, options());
    Path folder = dir.resolve("sharded");
    StreamingMerge.run(in.get(0), in.subList(1, 3), op(), List.of(folder), SELECTION, options().withShardBytes(200));

    JsonNode index = new ObjectMapper().readTree(folder.resolve(ShardPlan.INDEX).toFile());
    try (Checkpoint s = Checkpoints.open(single); Checkpoint sh = Checkpoints.open(folder.resolve(ShardPlan.INDEX))) {
      assertEquals(s.tensors().keySet(), sh.tensors().keySet());
      long total = 0;
      for (TensorInfo t : s.tensors().values()) {
        assertArrayEquals(bytes(s, t.name()), bytes(sh, t.name()), t.name());
        assertEquals(t.dtype(), sh.tensors().get(t.name()).dtype());
        total += t.byteLength();
      }
      assertEquals(total, index.get("metadata").get("total_size").asLong());
      assertTrue(sh.shardCount() >= 3, "200-byte shards of " + total + " bytes: " + sh.shardCount());
      // every shard carries the full metadata, the base's own keys and ours, and no more than 200 bytes of data
      // unless it holds one tensor larger than that (big.w, 480 bytes)
      List<String> names = new ArrayList<>();
      index.get("weight_map").fieldNames().forEachRemaining(names::add);
      assertEquals(new ArrayList<>(new TreeSet<>(names)), names, "weight_map sorted");
      for (String shard : new TreeSet<>(index.get("weight_map").findValuesAsText(""))) assertTrue(ShardPlan.isShardName(shard));
      try (var files = Files.list(folder)) {
        List<Path> shards = files.filter(p -> ShardPlan.isShardName(p.getFileName().toString())).sorted().toList();
        assertEquals(sh.shardCount(), shards.size());
        for (Path p : shards) {
          try (SafetensorsFile f = SafetensorsFile.open(p)) {
            long data = f.tensors().values().stream().mapToLong(TensorInfo::byteLength).sum();
            assertTrue(data <= 200 || f.tensors().size() == 1, p + " holds " + data + " bytes");
            assertEquals("pt", f.metadata().get("format"));
            assertEquals("kept", f.metadata().get("custom"));
            assertEquals("task_arithmetic", f.metadata().get("mergetune.method"));
            assertEquals(new ArrayList<>(new TreeSet<>(f.metadata().keySet())), new ArrayList<>(f.metadata().keySet()));
          }
        }
      }
      try (var files = Files.list(folder)) {
        assertEquals(sh.shardCount() + 1, files.count(), "shards and the index only: no temporary left");
      }
      assertEquals("kept", s.metadata().get("custom"));
      assertEquals("task_arithmetic", sh.metadata().get("mergetune.method"));
    }
  }

  @Test
  void outDtypeRoundsTheFloat32ResultOnceAndCopiesConverted() throws Exception {
    List<Path> in = inputs();
    Path f32 = dir.resolve("f32.safetensors");
    StreamingMerge.run(in.get(0), in.subList(1, 3), op(), List.of(f32), SELECTION, options().withOutDType(DType.F32));
    for (DType d : new DType[] {DType.BF16, DType.F16}) {
      Path out = dir.resolve(d + ".safetensors");
      StreamingMerge.run(in.get(0), in.subList(1, 3), op(), List.of(out), SELECTION, options().withOutDType(d));
      try (SafetensorsFile a = SafetensorsFile.open(f32); SafetensorsFile b = SafetensorsFile.open(out);
          SafetensorsFile base = SafetensorsFile.open(in.get(0))) {
        assertEquals(d.name(), b.metadata().get("mergetune.out_dtype"));
        for (String name : NAMES) {
          assertEquals(d, b.tensors().get(name).dtype(), name);
          float[] want = a.readFloats(name);
          ByteBuffer got = b.bytes(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
          for (int j = 0; j < want.length; j++) {
            short r = d == DType.F16 ? HalfFloats.floatToF16(want[j]) : HalfFloats.floatToBf16(want[j]);
            assertEquals(r, got.getShort(2 * j), name + "[" + j + "]");
          }
        }
        assertEquals(DType.I64, b.tensors().get("ids").dtype());
        assertArrayEquals(base.readFloats("copied.w"), a.readFloats("copied.w"));
      }
    }
    // the fp32 output of the BF16 input tensor is stored as F32 when asked, exactly its merged fp32 value
    try (SafetensorsFile a = SafetensorsFile.open(f32)) {
      assertEquals(DType.F32, a.tensors().get("b.b").dtype());
    }
  }

  @Test
  void folderOutputsGetTheBaseSideFilesAndLoseStaleWeights() throws Exception {
    List<Path> in = inputs();
    Path folder = dir.resolve("out");
    List<MergeOutputs> sharded = List.of(MergeOutputs.of(folder + "/", 100));
    StreamingMerge.run(in.get(0), in.subList(1, 3), op(), MergeOutputs.written(sharded), SELECTION, options().withShardBytes(100));
    List<String> lines = MergeOutputs.finish(sharded, in.get(0), 100);
    assertEquals(1, lines.size(), lines.toString());
    assertEquals(Files.readString(dir.resolve("hf/config.json")), Files.readString(folder.resolve("config.json")));
    assertTrue(Files.isRegularFile(folder.resolve("tokenizer.json")));
    // a second, unsharded write into the same folder: model.safetensors, and the earlier shards and index are gone
    List<MergeOutputs> one = List.of(MergeOutputs.of(folder.toString(), 0));
    assertEquals(folder.resolve(ShardPlan.SINGLE), one.get(0).written());
    StreamingMerge.run(in.get(0), in.subList(1, 3), op(), MergeOutputs.written(one), SELECTION, options());
    MergeOutputs.finish(one, in.get(0), 0);
    try (var files = Files.list(folder)) {
      assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json"),
          files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
    }
    assertThrows(IllegalArgumentException.class, () -> MergeOutputs.of(dir.resolve("x.safetensors").toString(), 100));
  }

  @Test
  void aFailedShardedMergeLeavesNoFile() throws Exception {
    List<Path> in = inputs();
    Path bad = write(dir.resolve("bad.safetensors"), new Random(9), 5, Map.of());
    Path folder = dir.resolve("failed");
    assertThrows(RuntimeException.class, () -> StreamingMerge.run(in.get(0), List.of(in.get(1), bad), op(),
        List.of(folder), SELECTION, options().withShardBytes(100)));
    try (var files = Files.list(folder)) {
      assertFalse(files.findAny().isPresent(), "nothing half-written");
    }
  }

  @Test
  void shardPlanFollowsHuggingFaceRuleAndSizesParse() {
    List<TensorInfo> layout = new ArrayList<>();
    long[] bytes = {40, 40, 30, 100, 10, 10};
    for (int i = 0; i < bytes.length; i++) layout.add(new TensorInfo("t" + i, DType.U8, new long[] {bytes[i]}, 0, bytes[i]));
    ShardPlan p = ShardPlan.of(layout, 80);
    assertArrayEquals(new int[] {0, 0, 1, 2, 3, 3}, p.shardOf());
    assertEquals("model-00002-of-00004.safetensors", p.fileName(1));
    assertEquals(5_000_000_000L, ShardPlan.parseSize("5GB", "--out-shard-size"));
    assertEquals(500_000_000L, ShardPlan.parseSize("500MB", "--out-shard-size"));
    assertEquals(2L << 30, ShardPlan.parseSize("2GiB", "--out-shard-size"));
    assertEquals(1234, ShardPlan.parseSize("1234", "--out-shard-size"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardPlan.parseSize("5 gigs", "--out-shard-size"));
    assertTrue(e.getMessage().startsWith("--out-shard-size '5 gigs'"), e.getMessage());
    assertEquals(DType.BF16, StorageDTypes.require("bfloat16", "x"));
  }
}
