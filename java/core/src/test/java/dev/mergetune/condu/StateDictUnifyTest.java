package dev.mergetune.condu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.merge.EmrMerge;
import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.merge.UnifiedExpert;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code condu unify} on a state dict that is no CLIP model (an integer buffer among its tensors): its files equal the
 * session store's unify of the same deltas bit for bit and the double session loop ({@link SessionLoopReference});
 * with two experts it equals {@code merge --method emr}; a decoupled expert equals the store's decouple bit for bit
 * and θ0 + λ_k·M_k⊙U; {@code merge --method emr}'s files decouple to its own {@code --task} output bit for bit; bad
 * inputs are one line naming the file and tensor.
 */
class StateDictUnifyTest {
  @TempDir Path dir;

  static final List<String> NAMES = List.of("enc.layer0.w", "enc.layer0.b", "head.w");
  static final List<long[]> SHAPES = List.of(new long[] {6, 9}, new long[] {40}, new long[] {3, 5});

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  float[][] base;
  List<float[][]> experts = new ArrayList<>();
  List<Path> paths = new ArrayList<>();

  private Path write(String file, float[][] v, boolean extraShape, boolean drop) throws Exception {
    List<TensorSource> ts = new ArrayList<>();
    for (int s = 0; s < NAMES.size(); s++) {
      if (drop && s == 2) continue;
      long[] shape = extraShape && s == 0 ? new long[] {9, 6} : SHAPES.get(s);
      ts.add(TensorSource.ofFloats(NAMES.get(s), shape, v[s], DType.F32));
    }
    ByteBuffer ids = ByteBuffer.allocate(4 * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long k = 0; k < 4; k++) ids.putLong(k);
    ids.flip();
    ts.add(TensorSource.ofBytes("position_ids", DType.I64, new long[] {4}, ids));
    Path p = dir.resolve(file);
    SafetensorsWriter.write(p, ts, Map.of());
    return p;
  }

  private void inputs(int t) throws Exception {
    Random rng = new Random(12);
    base = new float[NAMES.size()][];
    for (int s = 0; s < NAMES.size(); s++) {
      base[s] = new float[(int) numel(SHAPES.get(s))];
      for (int j = 0; j < base[s].length; j++) base[s][j] = (float) rng.nextGaussian();
    }
    write("base.safetensors", base, false, false);
    for (int i = 0; i < t; i++) {
      float[][] e = new float[NAMES.size()][];
      for (int s = 0; s < NAMES.size(); s++) {
        e[s] = new float[base[s].length];
        for (int j = 0; j < e[s].length; j++) e[s][j] = j % 13 == 4 ? base[s][j] : base[s][j] + (float) (0.1 * rng.nextGaussian());
      }
      experts.add(e);
      paths.add(write("e" + i + ".safetensors", e, false, false));
    }
  }

  private static int[] maskRow(SafetensorsFile m, String name, int task) {
    long[] shape = m.info(name).shape();
    ByteBuffer b = m.bytes(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int[] w = new int[(int) shape[1]];
    for (int j = 0; j < w.length; j++) w[j] = b.getInt((int) ((task * shape[1] + j) * 4));
    return w;
  }

  @Test
  void equalsTheStoresUnifyAndTheDoubleLoopAndDecouples() throws Exception {
    inputs(3);
    List<String> tasks = List.of("a", "b", "c");
    Path out = dir.resolve("u.safetensors");
    StateDictUnify.run(dir.resolve("base.safetensors"), paths, tasks, dir.resolve("kept"), out);

    // the store's own unify of the same deltas, formed here (x − θ0 in float), and the double loop
    Theta0Ref ref = Theta0Ref.of(dir.resolve("base.safetensors"));
    Path store = dir.resolve("direct");
    SessionLoopReference loop = new SessionLoopReference();
    for (int i = 0; i < 3; i++) {
      float[][] d = new float[NAMES.size()][];
      double[][] dd = new double[NAMES.size()][];
      for (int s = 0; s < NAMES.size(); s++) {
        d[s] = new float[base[s].length];
        dd[s] = new double[base[s].length];
        for (int j = 0; j < d[s].length; j++) {
          d[s][j] = experts.get(i)[s][j] - base[s][j];
          dd[s][j] = d[s][j];
        }
      }
      ConduSessions.addTask(store, ref, tasks.get(i), Models.model(NAMES, SHAPES, d), null);
      loop.addTask(dd);
    }
    JsonNode json = new ObjectMapper().readTree(dir.resolve("u.emr.json").toFile());
    assertEquals("condu", json.get("method").asText());
    assertEquals(ref.sha256(), json.get("base_sha256").asText());
    int nearTies = 0;
    try (StoredSession s = SessionStore.load(store); SafetensorsFile u = SafetensorsFile.open(out);
        SafetensorsFile m = SafetensorsFile.open(dir.resolve("u.masks.safetensors"))) {
      assertEquals(NAMES, new ArrayList<>(u.tensors().keySet()));  // floating tensors only: position_ids is θ0's
      for (int seg = 0; seg < NAMES.size(); seg++) {
        float[] got = u.readFloats(NAMES.get(seg));
        assertArrayEquals(Models.floats(s.unifiedTensors().get(seg)), got, 0f, NAMES.get(seg));
        for (int i = 0; i < 3; i++) assertArrayEquals(s.masks().words(i, seg), maskRow(m, NAMES.get(seg), i));
        for (int j = 0; j < got.length; j++) {
          if (loop.sums[seg][j] != 0 && Math.abs(loop.sums[seg][j]) < 1e-5) {  // an exact 0 elects −1 in both
            nearTies++;
            continue;
          }
          assertEquals(loop.unified[seg][j], got[j], 1e-6, NAMES.get(seg) + "[" + j + "]");
          for (int i = 0; i < 3; i++) assertEquals(loop.masks.get(i)[seg][j], s.masks().get(i, seg, j));
        }
      }
      for (int i = 0; i < 3; i++) {
        assertEquals(s.rescaler(i), json.get("rescalers").get(i).asDouble(), 0.0);
        assertEquals(loop.rescalers.get(i), s.rescaler(i), 1e-6 * loop.rescalers.get(i));
      }

      // decouple task 1: the store's decouple bit for bit, and the formula
      Path e1 = UnifiedExpert.write(out, 1, null, dir.resolve("e1.safetensors"));
      Map<String, Tensor> theta0 = Models.model(NAMES, SHAPES, base);
      Map<String, Tensor> expert = Models.zerosLike(theta0);
      s.decouple(1, Models.table(theta0), Models.table(expert));
      float lambda = (float) s.rescaler(1);
      try (SafetensorsFile f = SafetensorsFile.open(e1)) {
        for (int seg = 0; seg < NAMES.size(); seg++) {
          float[] got = f.readFloats(NAMES.get(seg));
          assertArrayEquals(Models.floats(expert.get(NAMES.get(seg))), got, 0f);
          float[] uu = u.readFloats(NAMES.get(seg));
          for (int j = 0; j < got.length; j++) {
            double want = base[seg][j] + (s.masks().get(1, seg, j) ? (double) lambda * uu[j] : 0);
            assertEquals(want, got[j], 1e-6 * (Math.abs(want) + 1), NAMES.get(seg) + "[" + j + "]");
          }
        }
        assertEquals(3L, f.bytes("position_ids").order(ByteOrder.LITTLE_ENDIAN).getLong(24));
        assertEquals("b", f.metadata().get("mergetune.task"));
      }
    }
    assertTrue(nearTies <= 3, nearTies + " near ties");
  }

  @Test
  void twoExpertsEqualEmrAndEmrFilesDecoupleToItsTaskOutput() throws Exception {
    inputs(2);
    Path base = dir.resolve("base.safetensors");
    StateDictUnify.run(base, paths, List.of("a", "b"), null, dir.resolve("condu.safetensors"));
    EmrMerge emr = new EmrMerge(2, null);
    StreamingMerge.run(base, paths, emr, List.of(dir.resolve("emr.safetensors")));
    emr.writeSideFiles(dir.resolve("emr.safetensors"), base, paths);
    try (SafetensorsFile c = SafetensorsFile.open(dir.resolve("condu.safetensors"));
        SafetensorsFile e = SafetensorsFile.open(dir.resolve("emr.safetensors"));
        SafetensorsFile cm = SafetensorsFile.open(dir.resolve("condu.masks.safetensors"));
        SafetensorsFile em = SafetensorsFile.open(dir.resolve("emr.masks.safetensors"))) {
      for (String n : NAMES) {
        assertArrayEquals(e.readFloats(n), c.readFloats(n), 0f, n);
        for (int i = 0; i < 2; i++) assertArrayEquals(maskRow(em, n, i), maskRow(cm, n, i), n);
      }
    }
    JsonNode cj = new ObjectMapper().readTree(dir.resolve("condu.emr.json").toFile());
    JsonNode ej = new ObjectMapper().readTree(dir.resolve("emr.emr.json").toFile());
    for (int i = 0; i < 2; i++) {
      assertEquals(ej.get("rescalers").get(i).asDouble(), cj.get("rescalers").get(i).asDouble(), 1e-12, "λ " + i);
    }
    assertEquals(base.toString(), ej.get("base").asText());
    // one format: emr's files decouple to exactly what merge --method emr --task 1 writes
    StreamingMerge.run(base, paths, new EmrMerge(2, 1), List.of(dir.resolve("emr-task1.safetensors")));
    UnifiedExpert.write(dir.resolve("emr.safetensors"), 1, null, dir.resolve("emr-decoupled1.safetensors"));
    try (SafetensorsFile a = SafetensorsFile.open(dir.resolve("emr-task1.safetensors"));
        SafetensorsFile b = SafetensorsFile.open(dir.resolve("emr-decoupled1.safetensors"))) {
      for (String n : NAMES) assertArrayEquals(a.readFloats(n), b.readFloats(n), 0f, n);
    }
  }

  @Test
  void badInputsAreOneClearLine() throws Exception {
    inputs(1);
    Path base = dir.resolve("base.safetensors");
    Path wrongShape = write("shape.safetensors", experts.get(0), true, false);
    Path missing = write("missing.safetensors", experts.get(0), false, true);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StateDictUnify.run(base, List.of(paths.get(0), wrongShape), List.of("a", "b"), null, dir.resolve("x.safetensors")));
    assertTrue(e.getMessage().contains("shape.safetensors") && e.getMessage().contains("enc.layer0.w"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> StateDictUnify.run(base, List.of(missing), List.of("a"), null, dir.resolve("x.safetensors")));
    assertTrue(e.getMessage().contains("missing.safetensors") && e.getMessage().contains("head.w"), e.getMessage());
    StateDictUnify.run(base, paths, List.of("a"), null, dir.resolve("u.safetensors"));
    e = assertThrows(IllegalArgumentException.class,
        () -> UnifiedExpert.write(dir.resolve("u.safetensors"), 1, null, dir.resolve("o.safetensors")));
    assertEquals("--task 1 is not one of the 1 tasks (0..0) of " + dir.resolve("u.emr.json"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> UnifiedExpert.write(dir.resolve("u.safetensors"), 0, wrongShape, dir.resolve("o.safetensors")));
    assertTrue(e.getMessage().contains("not the θ0 of"), e.getMessage());
  }

  private static long numel(long[] s) {
    long n = 1;
    for (long d : s) n *= d;
    return n;
  }
}
