package dev.mergetune.condu;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.tensors.CheckpointFormatException;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;

/**
 * A committed session loaded from a {@link SessionStore} (checksums already verified): U as CPU float32 tensors, the
 * masks of every task, the rescalers and prototypes. Memory is U + masks; experts are decoupled on demand into a
 * buffer the caller owns and reuses.
 */
public final class StoredSession implements AutoCloseable {
  private final Path dir;
  private final StoreManifest manifest;
  private final List<Tensor> unifiedTensors;
  private final SegmentTable unified;
  private final TaskMasks masks;
  private final List<Prototypes> prototypes;

  private StoredSession(Path dir, StoreManifest manifest, List<Tensor> unifiedTensors, TaskMasks masks,
      List<Prototypes> prototypes) {
    this.dir = dir;
    this.manifest = manifest;
    this.unifiedTensors = unifiedTensors;
    this.unified = SegmentTable.ofTensors(manifest.names(), unifiedTensors);
    this.masks = masks;
    this.prototypes = prototypes;
  }

  static StoredSession open(Path dir, StoreManifest m) throws IOException {
    NativeRuntime.ensureTorch();
    Path uFile = dir.resolve(m.unified().file());
    List<Tensor> u = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(uFile)) {
      if (!new ArrayList<>(f.tensors().keySet()).equals(m.names())) {
        throw new CheckpointFormatException(uFile, "holds tensors " + f.tensors().keySet() + " but the manifest lists "
            + m.names());
      }
      for (int s = 0; s < m.names().size(); s++) {
        TensorInfo info = f.info(m.names().get(s));
        if (info.dtype() != DType.F32 || !Arrays.equals(info.shape(), m.shapes().get(s))) {
          throw new CheckpointFormatException(uFile, "tensor '" + info.name() + "' is " + info + " but the manifest says F32 "
              + Arrays.toString(m.shapes().get(s)));
        }
        u.add(Tensor.create(f.readFloats(info.name()), m.shapes().get(s)));
      }
    }
    int tasks = m.tasks().size();
    TaskMasks masks = new TaskMasks(DeviceKind.CPU, m.lengths(), tasks);
    List<Prototypes> protos = new ArrayList<>();
    try {
      for (int k = 0; k < tasks; k++) {
        StoreManifest.TaskEntry t = m.tasks().get(k);
        MaskFiles.read(dir.resolve(t.masks().file()), masks, k);
        protos.add(t.prototypes() == null ? null : PrototypeFiles.read(dir.resolve(t.prototypes().file())));
      }
    } catch (IOException | RuntimeException e) {
      masks.close();
      throw e;
    }
    return new StoredSession(dir, m, u, masks, protos);
  }

  /**
   * A store in the LoRA adapters' space ({@link AdapterSpace}): the adapters' rank and scaling, the seed θ0's adapters
   * were drawn from and the file holding them (checksum verified on load; read it with {@code Lora.load}).
   */
  public record Adapters(int rank, double scaling, long theta0Seed, Path theta0File) {}

  public Path dir() {
    return dir;
  }

  /** The adapter space of this store, or empty for a store of the model's own weights. */
  public Optional<Adapters> adapters() {
    StoreManifest.Adapters a = manifest.adapters();
    return a == null ? Optional.empty()
        : Optional.of(new Adapters(a.rank(), a.scaling(), a.theta0Seed(), dir.resolve(a.theta0().file())));
  }

  public long session() {
    return manifest.session();
  }

  public int tasks() {
    return manifest.tasks().size();
  }

  public List<String> taskNames() {
    return manifest.tasks().stream().map(StoreManifest.TaskEntry::name).toList();
  }

  /** λ of a task, as unify computed it (decouple applies it rounded to float32, as the kernel takes it). */
  public double rescaler(int task) {
    return manifest.tasks().get(task).rescaler();
  }

  public Optional<Prototypes> prototypes(int task) {
    return Optional.ofNullable(prototypes.get(task));
  }

  public Theta0Ref theta0() {
    return manifest.theta0();
  }

  public List<String> tensorNames() {
    return manifest.names();
  }

  public long[] shape(int segment) {
    return manifest.shapes().get(segment).clone();
  }

  /** U as a segment table over this session's tensors (valid until {@link #close}). */
  public SegmentTable unified() {
    return unified;
  }

  /** U's tensors, in {@link #tensorNames} order (owned by this session). */
  public List<Tensor> unifiedTensors() {
    return List.copyOf(unifiedTensors);
  }

  public TaskMasks masks() {
    return masks;
  }

  /** Expert {@code task} into {@code out}: out = θ0 + λ·M ⊙ U. θ0's tensors must be the model's, by name and shape. */
  public void decouple(int task, SegmentTable theta0, SegmentTable out) {
    if (task < 0 || task >= tasks()) throw new IllegalArgumentException("no task " + task + " among " + taskNames());
    SignConsistentMax.decouple(out, theta0, unified, masks, task, (float) rescaler(task));
  }

  /** Bytes of one task's stored masks (its mask file). */
  public long maskBytes(int task) {
    return manifest.tasks().get(task).masks().bytes();
  }

  /** Everything stored for one task alone: its masks plus its prototypes, if any (U and θ0 are shared). */
  public long taskBytes(int task) {
    StoreManifest.TaskEntry t = manifest.tasks().get(task);
    return t.masks().bytes() + (t.prototypes() == null ? 0 : t.prototypes().bytes());
  }

  /** What the reference implementation stores per task: one byte per element. */
  public long referenceMaskBytes() {
    long n = 0;
    for (long l : manifest.lengths()) n += l;
    return n;
  }

  /** Bytes of the stored U file (header included). */
  public long unifiedBytes() {
    return manifest.unified().bytes();
  }

  @Override
  public void close() {
    masks.close();
    for (Tensor t : unifiedTensors) t.close();
  }
}
