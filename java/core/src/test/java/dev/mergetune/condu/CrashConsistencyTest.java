package dev.mergetune.condu;

import static dev.mergetune.condu.Models.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.CheckpointFormatException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store holding session 2 (tasks a, b) is asked for session 3 (task c), and the write "crashes" (the hook throws)
 * after each of its stages in turn: every data file, then the manifest. Before the manifest the store must still
 * load session 2 and decouple it to the same bits; after it, session 3. Leftovers of a killed write (temporaries,
 * a truncated next-generation file) must not matter, and a corrupted data file must be named on load.
 */
class CrashConsistencyTest {
  private static final List<String> NAMES = List.of("a.w", "b.w", "c.b");
  private static final List<long[]> SHAPES = List.of(new long[] {5, 7}, new long[] {67}, new long[] {3});

  @TempDir Path tmp;
  private Map<String, Tensor> theta0;
  private Theta0Ref ref;
  private SplittableRandom random;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  @BeforeEach
  void twoSessions() throws IOException {
    random = new SplittableRandom(11);
    theta0 = Models.model(NAMES, SHAPES, randomValues(1.0));
    ref = Models.writeTheta0(tmp.resolve("theta0.safetensors"), theta0);
  }

  private float[][] randomValues(double scale) {
    float[][] v = new float[NAMES.size()][];
    for (int s = 0; s < v.length; s++) {
      long n = 1;
      for (long d : SHAPES.get(s)) n *= d;
      v[s] = new float[(int) n];
      for (int j = 0; j < v[s].length; j++) v[s][j] = (float) random.nextDouble(-scale, scale);
    }
    return v;
  }

  private Path sessionTwoStore(String name) throws IOException {
    Path store = tmp.resolve(name);
    SplittableRandom saved = random;
    random = new SplittableRandom(12);  // the same deltas for every copy of the store
    ConduSessions.addTask(store, ref, "a", Models.model(NAMES, SHAPES, randomValues(0.1)),
        new Prototypes(List.of("k0"), 2, new float[] {0.5f, -0.5f}));
    ConduSessions.addTask(store, ref, "b", Models.model(NAMES, SHAPES, randomValues(0.1)), null);
    random = saved;
    return store;
  }

  /** Every expert of the stored session, decoupled, as raw float bits. */
  private List<int[]> experts(StoredSession s) {
    List<int[]> out = new ArrayList<>();
    Map<String, Tensor> buffer = Models.zerosLike(theta0);
    for (int i = 0; i < s.tasks(); i++) {
      s.decouple(i, Models.table(theta0), Models.table(buffer));
      for (String n : NAMES) {
        float[] f = floats(buffer.get(n));
        int[] bits = new int[f.length];
        for (int j = 0; j < f.length; j++) bits[j] = Float.floatToRawIntBits(f[j]);
        out.add(bits);
      }
    }
    return out;
  }

  private static final class Crash extends IOException {
    Crash(String stage) {
      super("simulated crash after " + stage);
    }
  }

  @Test
  void aCrashAtEveryStageLeavesTheLastCommittedSession() throws Exception {
    List<int[]> before;
    try (StoredSession s = SessionStore.load(sessionTwoStore("reference"))) {
      before = experts(s);
    }
    // the stages of a session-3 write, from an uninterrupted one
    Map<String, Tensor> deltaC = Models.model(NAMES, SHAPES, randomValues(0.1));
    List<String> stages = new ArrayList<>();
    Path full = sessionTwoStore("full");
    ConduSessions.addTask(full, ref, "c", deltaC, null, stages::add);
    // U, three mask files, task a's prototypes, then the manifest
    assertEquals(6, stages.size(), stages.toString());
    assertEquals(SessionStore.MANIFEST, stages.get(stages.size() - 1));
    List<int[]> after;
    try (StoredSession s = SessionStore.load(full)) {
      after = experts(s);
    }

    for (int k = 0; k < stages.size(); k++) {
      Path store = sessionTwoStore("crash-" + k);
      String stop = stages.get(k);
      assertThrows(Crash.class, () -> ConduSessions.addTask(store, ref, "c", deltaC, null, stage -> {
        if (stage.equals(stop)) throw new Crash(stage);
      }));
      boolean committed = stop.equals(SessionStore.MANIFEST);
      try (StoredSession s = SessionStore.load(store)) {
        assertEquals(committed ? 3 : 2, s.session(), "crash after " + stop);
        List<int[]> got = experts(s);
        List<int[]> want = committed ? after : before;
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), got.get(i), "crash after " + stop);
        assertEquals(List.of("k0"), s.prototypes(0).orElseThrow().classNames());
      }
      // and the interrupted session can simply be run again
      if (!committed) {
        ConduSessions.addTask(store, ref, "c", deltaC, null);
        try (StoredSession s = SessionStore.load(store)) {
          List<int[]> got = experts(s);
          for (int i = 0; i < after.size(); i++) assertArrayEquals(after.get(i), got.get(i), "rerun after " + stop);
        }
      }
    }
  }

  @Test
  void leftoversOfAKilledWriteAreIgnoredThenCleanedUp() throws Exception {
    Path store = sessionTwoStore("killed");
    List<int[]> before;
    try (StoredSession s = SessionStore.load(store)) {
      before = experts(s);
    }
    // what a kill -9 in the middle of session 3 can leave: temporaries of AtomicFiles and a complete-looking but
    // truncated file of the next generation (never named by the committed manifest)
    Files.write(store.resolve("." + SessionStore.MANIFEST + ".123.tmp"), "{\"format\": \"mergetune-condu".getBytes());
    Files.write(store.resolve(".masks-000003-task000.bits.456.tmp"), new byte[] {1, 2, 3});
    Files.write(store.resolve("unified-000003.safetensors"), new byte[] {8, 0, 0});
    try (StoredSession s = SessionStore.load(store)) {
      assertEquals(2, s.session());
      List<int[]> got = experts(s);
      for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i), got.get(i));
    }
    ConduSessions.addTask(store, ref, "c", Models.model(NAMES, SHAPES, randomValues(0.1)), null);
    try (StoredSession s = SessionStore.load(store); var files = Files.list(store)) {
      assertEquals(3, s.session());
      List<String> left = files.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(List.of("condu-session.json", "masks-000003-task000.bits", "masks-000003-task001.bits",
          "masks-000003-task002.bits", "prototypes-000003-task000.safetensors", "unified-000003.safetensors"), left);
    }
  }

  @Test
  void aCorruptedDataFileIsNamed() throws Exception {
    for (String victim : List.of("masks-000002-task001.bits", "unified-000002.safetensors",
        "prototypes-000002-task000.safetensors")) {
      Path store = sessionTwoStore("corrupt-" + victim);
      Path file = store.resolve(victim);
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        long at = f.length() - 1;  // the last byte: data, never the safetensors header
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x10);
      }
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SessionStore.load(store));
      assertEquals(file, e.file());
      assertTrue(e.getMessage().contains(victim) && e.getMessage().contains("checksum"), e.getMessage());
    }
    Path store = sessionTwoStore("missing");
    Files.delete(store.resolve("masks-000002-task000.bits"));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SessionStore.load(store));
    assertTrue(e.getMessage().contains("masks-000002-task000.bits"), e.getMessage());
  }

  @Test
  void aMalformedManifestIsNamed() throws Exception {
    Path store = sessionTwoStore("manifest");
    Path manifest = store.resolve(SessionStore.MANIFEST);
    String text = Files.readString(manifest);
    for (String[] edit : new String[][] {{"uint32-le-words-per-tensor", "one-byte-per-element"},
        {"\"rescaler\" : ", "\"rescaler\" : \"x\", \"was\" : "}, {"\"name\" : \"b\"", "\"name\" : \"a\""}}) {
      String edited = text.replaceFirst(java.util.regex.Pattern.quote(edit[0]), edit[1]);
      assertTrue(!edited.equals(text), edit[0]);
      Files.writeString(manifest, edited);
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SessionStore.load(store));
      assertEquals(manifest, e.file(), e.getMessage());
    }
  }

  @Test
  void aSessionCannotBeWrittenOverAnOlderOrEqualOne() throws Exception {
    Path store = sessionTwoStore("renumber");
    try (StoredSession s = SessionStore.load(store)) {
      SessionStore.Content again = new SessionStore.Content(2, ref, s.tensorNames(), s.unifiedTensors(), s.masks(),
          s.taskNames(), new double[] {s.rescaler(0), s.rescaler(1)}, java.util.Arrays.asList(null, null));
      assertThrows(IllegalArgumentException.class, () -> SessionStore.save(store, again));
    }
  }
}
