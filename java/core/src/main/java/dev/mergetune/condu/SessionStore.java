package dev.mergetune.condu;

import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.tensors.AtomicFiles;
import dev.mergetune.tensors.CheckpointFormatException;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * A ConDU session store: one directory holding, after session t, U, every task's bit-packed masks, rescalers and
 * optional prototypes, and a reference to θ0 (path + SHA-256).
 *
 * <p>Layout ({@code TTTTTT} = session, 6 digits; {@code KKK} = task index):
 *
 * <ul>
 *   <li>{@code unified-TTTTTT.safetensors}: U, float32, tensor names and shapes as the model's;
 *   <li>{@code masks-TTTTTT-taskKKK.bits}: task K's masks, headerless packed uint32 words ({@link MaskFiles});
 *   <li>{@code prototypes-TTTTTT-taskKKK.safetensors}: task K's prototypes, tensor {@code prototypes} [C, D], the
 *       class names as a JSON array in the metadata key {@code classes};
 *   <li>{@code theta0-adapters.safetensors}: in the LoRA adapters' space only ({@link AdapterSpace}), θ0's own
 *       adapters, written with the first session and never rewritten (U and the masks are then over the adapter
 *       tensors);
 *   <li>{@code condu-session.json}: the manifest ({@link StoreManifest}), written last.
 * </ul>
 *
 * Crash consistency: each data file is written to a temporary file, forced and renamed (AtomicFiles) under a name
 * tagged with its session, so no file a committed manifest names is ever rewritten; the directory is synced, then
 * the manifest is replaced atomically (the commit point) and synced; only then are files of older sessions and
 * stale temporaries deleted. A run killed at any point leaves the last committed manifest naming complete files.
 * One writer per store at a time (a second writer would delete the first one's temporaries).
 */
public final class SessionStore {
  public static final String MANIFEST = "condu-session.json";
  private static final Pattern OURS = Pattern.compile(
      "(unified-\\d{6}\\.safetensors|masks-\\d{6}-task\\d{3,}\\.bits|prototypes-\\d{6}-task\\d{3,}\\.safetensors)");
  private static final Pattern STALE_TEMP = Pattern.compile(
      "\\.(unified-|masks-|prototypes-|condu-session\\.json).*\\.tmp(-\\d+-[0-9a-z]+)?");

  /**
   * Everything one session stores. {@code unified} are CPU float32 contiguous tensors in {@code names} order;
   * {@code prototypes} has one entry per task, null where a task has none.
   */
  public record Content(long session, Theta0Ref theta0, List<String> names, List<Tensor> unified, TaskMasks masks,
      List<String> taskNames, double[] rescalers, List<Prototypes> prototypes, AdapterSpace adapters) {
    /** A session over the model's own weights (no adapter space). */
    public Content(long session, Theta0Ref theta0, List<String> names, List<Tensor> unified, TaskMasks masks,
        List<String> taskNames, double[] rescalers, List<Prototypes> prototypes) {
      this(session, theta0, names, unified, masks, taskNames, rescalers, prototypes, null);
    }
  }

  /** Test seam: told after each step of a save (each data file's name, then the manifest's); may throw. */
  interface WriteHook {
    void reached(String stage) throws IOException;
  }

  private SessionStore() {}

  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve(MANIFEST));
  }

  /** Writes a session; it must be newer than the session the store holds. */
  public static void save(Path dir, Content c) throws IOException {
    save(dir, c, stage -> {});
  }

  static void save(Path dir, Content c, WriteHook hook) throws IOException {
    validate(c);
    Files.createDirectories(dir);
    StoreManifest.Adapters committedAdapters = null;
    if (exists(dir)) {
      StoreManifest committedManifest = StoreManifest.read(dir.resolve(MANIFEST));
      long committed = committedManifest.session();
      // files are tagged with the session: rewriting session ≤ committed could replace files the manifest names
      if (c.session() <= committed) {
        throw new IllegalArgumentException("store " + dir + " already holds session " + committed
            + "; session " + c.session() + " cannot be written over it");
      }
      committedAdapters = committedManifest.adapters();
      if ((committedAdapters == null) != (c.adapters() == null)) {
        throw new IllegalArgumentException("store " + dir + " unifies " + (committedAdapters == null
            ? "the model's weights" : "LoRA adapters (--lora-space adapters)") + "; this session is "
            + (c.adapters() == null ? "over the model's weights" : "in the adapters' space"));
      }
    }
    String tag = String.format("%06d", c.session());
    List<long[]> shapes = new ArrayList<>();
    List<TensorSource> sources = new ArrayList<>();
    for (int s = 0; s < c.names().size(); s++) {
      Tensor t = c.unified().get(s);
      long[] shape = t.sizes().vec().get();
      shapes.add(shape);
      String name = c.names().get(s);
      checkFloat32(t, name);
      // copied out one tensor at a time, when the writer reaches it, so U is not held twice
      sources.add(TensorSource.of(name, DType.F32, shape, ch -> {
        float[] values = floats(t);
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        while (b.hasRemaining()) ch.write(b);
      }));
    }
    StoreManifest.FileEntry unified = writeFile(dir, "unified-" + tag + ".safetensors",
        p -> SafetensorsWriter.write(p, sources, Map.of("format", StoreManifest.FORMAT)), hook);
    StoreManifest.Adapters adapters = null;
    if (c.adapters() != null) {
      AdapterSpace a = c.adapters();
      if (committedAdapters != null) {  // θ0's adapters were stored with the first session and stay as they are
        if (committedAdapters.rank() != a.rank() || committedAdapters.scaling() != a.scaling()) {
          throw new IllegalArgumentException("store " + dir + " holds adapters of rank " + committedAdapters.rank()
              + ", scaling " + committedAdapters.scaling() + "; this session's are rank " + a.rank() + ", scaling "
              + a.scaling());
        }
        adapters = committedAdapters;
      } else {
        StoreManifest.FileEntry theta0Adapters = writeFile(dir, AdapterSpace.THETA0_FILE,
            p -> dev.mergetune.adapt.Lora.writeAdapters(p, a.theta0(), a.rank(), a.scaling()), hook);
        adapters = new StoreManifest.Adapters(a.rank(), a.scaling(), a.theta0Seed(), theta0Adapters);
      }
    }
    List<StoreManifest.TaskEntry> tasks = new ArrayList<>();
    for (int k = 0; k < c.taskNames().size(); k++) {
      int task = k;
      String suffix = String.format("-%s-task%03d", tag, k);
      StoreManifest.FileEntry masks = writeFile(dir, "masks" + suffix + ".bits",
          p -> MaskFiles.write(p, c.masks(), task), hook);
      Prototypes proto = c.prototypes().get(k);
      StoreManifest.FileEntry protoFile = proto == null ? null
          : writeFile(dir, "prototypes" + suffix + ".safetensors", p -> PrototypeFiles.write(p, proto), hook);
      tasks.add(new StoreManifest.TaskEntry(c.taskNames().get(k), c.rescalers()[k], masks, protoFile));
    }
    DirectorySync.force(dir);  // the data files' names are durable before the manifest names them
    StoreManifest manifest = new StoreManifest(c.session(), c.theta0(), c.names(), shapes, unified, tasks, adapters);
    byte[] json = manifest.toJson();
    AtomicFiles.write(dir.resolve(MANIFEST), json);
    DirectorySync.force(dir);
    hook.reached(MANIFEST);
    deleteUnreferenced(dir, manifest);
  }

  /** What the committed session holds, as its manifest says: no data file is read or verified. */
  public record Summary(long session, Theta0Ref theta0, List<String> taskNames) {
    public Summary {
      taskNames = List.copyOf(taskNames);
    }
  }

  /** The committed session's {@link Summary} (cheap: for checks and messages, not for using the data). */
  public static Summary summary(Path dir) throws IOException {
    Path manifestFile = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifestFile)) throw new CheckpointFormatException(manifestFile, "no session stored here");
    StoreManifest m = StoreManifest.read(manifestFile);
    return new Summary(m.session(), m.theta0(), m.tasks().stream().map(StoreManifest.TaskEntry::name).toList());
  }

  /** Loads the committed session, verifying every data file's checksum; θ0 itself is verified on request. */
  public static StoredSession load(Path dir) throws IOException {
    Path manifestFile = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifestFile)) throw new CheckpointFormatException(manifestFile, "no session stored here");
    StoreManifest m = StoreManifest.read(manifestFile);
    for (StoreManifest.FileEntry f : m.files()) verify(dir, f);
    return StoredSession.open(dir, m);
  }

  private static void verify(Path dir, StoreManifest.FileEntry f) throws IOException {
    Path p = dir.resolve(f.file());
    if (!Files.isRegularFile(p)) throw new CheckpointFormatException(p, "missing (named by " + MANIFEST + ")");
    long size = Files.size(p);
    if (size != f.bytes()) {
      throw new CheckpointFormatException(p, "is " + size + " bytes but " + MANIFEST + " says " + f.bytes());
    }
    String actual = dev.mergetune.merge.InputHashes.sha256(p);
    if (!actual.equals(f.sha256())) {
      throw new CheckpointFormatException(p, "checksum mismatch: SHA-256 " + actual + ", " + MANIFEST + " says "
          + f.sha256() + " (the file is corrupted)");
    }
  }

  private interface FileWriter {
    void write(Path target) throws IOException;
  }

  private static StoreManifest.FileEntry writeFile(Path dir, String name, FileWriter writer, WriteHook hook)
      throws IOException {
    Path p = dir.resolve(name);
    writer.write(p);  // atomic: temporary file, force, rename
    StoreManifest.FileEntry entry = new StoreManifest.FileEntry(name, Files.size(p), dev.mergetune.merge.InputHashes.sha256(p));
    hook.reached(name);
    return entry;
  }

  private static void deleteUnreferenced(Path dir, StoreManifest manifest) throws IOException {
    Set<String> keep = new HashSet<>();
    for (StoreManifest.FileEntry f : manifest.files()) keep.add(f.file());
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String n = p.getFileName().toString();
        boolean old = OURS.matcher(n).matches() && !keep.contains(n);
        if (old || STALE_TEMP.matcher(n).matches()) Files.deleteIfExists(p);
      }
    }
  }

  private static void validate(Content c) {
    int tasks = c.taskNames().size();
    if (tasks < 1) throw new IllegalArgumentException("a session holds at least one task");
    if (c.session() < 1) throw new IllegalArgumentException("sessions are numbered from 1, got " + c.session());
    if (c.names().size() != c.unified().size()) {
      throw new IllegalArgumentException(c.names().size() + " names for " + c.unified().size() + " tensors of U");
    }
    if (c.masks().tasks() != tasks || c.rescalers().length != tasks || c.prototypes().size() != tasks) {
      throw new IllegalArgumentException("session of " + tasks + " tasks has masks for " + c.masks().tasks() + ", "
          + c.rescalers().length + " rescalers and " + c.prototypes().size() + " prototype entries");
    }
    if (new HashSet<>(c.taskNames()).size() != tasks) {
      throw new IllegalArgumentException("task names repeat: " + c.taskNames());
    }
    if (new HashSet<>(c.names()).size() != c.names().size()) throw new IllegalArgumentException("tensor names repeat");
    long[] lengths = new long[c.names().size()];
    for (int s = 0; s < lengths.length; s++) lengths[s] = c.unified().get(s).numel();
    if (!Arrays.equals(lengths, c.masks().lengths())) {
      throw new IllegalArgumentException("masks were made for a different tensor layout than U");
    }
    for (double l : c.rescalers()) {
      if (!Double.isFinite(l)) throw new IllegalArgumentException("rescaler " + l + " is not finite");
    }
  }

  private static void checkFloat32(Tensor t, String name) {
    if (t.scalar_type().value != org.bytedeco.pytorch.global.torch.ScalarType.Float.value || !t.is_contiguous()
        || !t.device().is_cpu()) {
      throw new IllegalArgumentException("tensor '" + name + "' of U must be a contiguous CPU float32 tensor");
    }
  }

  private static float[] floats(Tensor t) {
    float[] out = new float[Math.toIntExact(t.numel())];
    if (out.length > 0) new FloatPointer(t.data_ptr_float()).capacity(out.length).get(out);
    return out;
  }
}
