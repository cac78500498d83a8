package dev.mergetune.kernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A parameter set as the kernels see it: named fp32 segments, each a base address and an element count, all on one
 * device. One kernel call covers a whole table (a state dict), as PyTorch's multi-tensor apply does.
 *
 * <p>Built from LibTorch tensors (checked: defined, float32, contiguous, one device; the table holds the tensors
 * so their memory outlives it) or from raw addresses owned by the caller (trainers that are not ours).
 *
 * <p>Ownership: a table built from tensors holds references to them (they stay reachable while the table is) but
 * allocates nothing; a table over raw addresses holds only the numbers, and the caller keeps that memory alive and
 * frees it. Immutable and thread-safe; two threads may pass the same table as an input at once, never as an output.
 */
public final class SegmentTable {
  private final DeviceKind device;
  private final int deviceIndex;
  private final String[] names;
  private final long[][] shapes;
  private final long[] lengths;
  private final long[] addresses;
  private final List<Object> keepAlive;

  private SegmentTable(
      DeviceKind device, int deviceIndex, String[] names, long[][] shapes, long[] lengths, long[] addresses,
      List<Object> keepAlive) {
    this.device = device;
    this.deviceIndex = deviceIndex;
    this.names = names;
    this.shapes = shapes;
    this.lengths = lengths;
    this.addresses = addresses;
    this.keepAlive = keepAlive;
  }

  /** A table over tensors in the map's iteration order (use a LinkedHashMap or TreeMap). */
  public static SegmentTable ofTensors(Map<String, Tensor> tensors) {
    return ofTensors(new ArrayList<>(tensors.keySet()), new ArrayList<>(tensors.values()));
  }

  public static SegmentTable ofTensors(List<String> names, List<Tensor> tensors) {
    Objects.requireNonNull(names, "names");
    Objects.requireNonNull(tensors, "tensors");
    if (names.size() != tensors.size()) {
      throw new IllegalArgumentException(
          "segment table: " + names.size() + " names for " + tensors.size() + " tensors");
    }
    NativeRuntime.ensureTorch();
    int n = tensors.size();
    String[] nameArray = new String[n];
    long[][] shapes = new long[n][];
    long[] lengths = new long[n];
    long[] addresses = new long[n];
    DeviceKind device = DeviceKind.CPU;
    int deviceIndex = -1;
    for (int i = 0; i < n; i++) {
      String name = Objects.requireNonNull(names.get(i), "name of tensor " + i);
      Tensor t = tensors.get(i);
      if (t == null || t.isNull() || !t.defined()) {
        throw new IllegalArgumentException("tensor '" + name + "' is null or undefined");
      }
      if (t.scalar_type().value != ScalarType.Float.value) {  // JavaCPP enums are not interned: compare values
        throw new IllegalArgumentException(
            "tensor '" + name + "' has dtype " + t.scalar_type() + "; the kernels take float32 (convert it first)");
      }
      if (!t.is_contiguous()) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' is not contiguous; pass t.contiguous() (and keep that tensor alive)");
      }
      boolean cuda = t.device().is_cuda();
      DeviceKind kind = cuda ? DeviceKind.CUDA : DeviceKind.CPU;
      int index = cuda ? t.device().index() : -1;
      if (!cuda && !t.device().is_cpu()) {
        throw new IllegalArgumentException("tensor '" + name + "' is on " + t.device().str().getString()
            + "; only CPU and CUDA tensors are supported");
      }
      if (i == 0) {
        device = kind;
        deviceIndex = index;
      } else if (kind != device || index != deviceIndex) {
        throw new IllegalArgumentException("tensor '" + name + "' is on " + describe(kind, index)
            + " but '" + nameArray[0] + "' is on " + describe(device, deviceIndex) + "; a table lives on one device");
      }
      nameArray[i] = name;
      shapes[i] = t.sizes().vec().get();
      lengths[i] = t.numel();
      addresses[i] = lengths[i] == 0 ? 0 : t.data_ptr().address();
    }
    return new SegmentTable(device, deviceIndex, nameArray, shapes, lengths, addresses, List.copyOf(tensors));
  }

  /**
   * A table over memory the caller owns and keeps alive for the duration of every call that uses the table.
   *
   * @param device CPU for host memory, CUDA for device memory of the current CUDA device
   * @param names one name per segment (used in error messages); {@code null} names them "segment i"
   */
  public static SegmentTable ofAddresses(DeviceKind device, String[] names, long[] addresses, long[] lengths) {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(addresses, "addresses");
    Objects.requireNonNull(lengths, "lengths");
    if (addresses.length != lengths.length) {
      throw new IllegalArgumentException(
          "segment table: " + addresses.length + " addresses for " + lengths.length + " lengths");
    }
    if (names != null && names.length != lengths.length) {
      throw new IllegalArgumentException("segment table: " + names.length + " names for " + lengths.length + " segments");
    }
    int n = lengths.length;
    String[] nameArray = new String[n];
    long[][] shapes = new long[n][];
    for (int i = 0; i < n; i++) {
      nameArray[i] = names == null ? "segment " + i : Objects.requireNonNull(names[i], "name of segment " + i);
      if (lengths[i] < 0) throw new IllegalArgumentException("segment '" + nameArray[i] + "' has negative length " + lengths[i]);
      if (lengths[i] > 0 && addresses[i] == 0) {
        throw new IllegalArgumentException("segment '" + nameArray[i] + "' has a null address and " + lengths[i] + " elements");
      }
      shapes[i] = new long[] {lengths[i]};
    }
    return new SegmentTable(device, device == DeviceKind.CUDA ? 0 : -1, nameArray, shapes, lengths.clone(),
        addresses.clone(), List.of());
  }

  public int size() {
    return lengths.length;
  }

  public DeviceKind device() {
    return device;
  }

  /** CUDA device index, or -1 on the CPU. */
  public int deviceIndex() {
    return deviceIndex;
  }

  public String name(int segment) {
    return names[segment];
  }

  public long length(int segment) {
    return lengths[segment];
  }

  public long[] shape(int segment) {
    return shapes[segment].clone();
  }

  public long totalElements() {
    long total = 0;
    for (long n : lengths) total += n;
    return total;
  }

  /** Element count of every segment, in order. */
  public long[] lengths() {
    return lengths.clone();
  }

  long[] lengthsArray() {
    return lengths;
  }

  long[] addressesArray() {
    return addresses;
  }

  /** True when the table was built from tensors (so the current CUDA stream is LibTorch's). */
  boolean tensorBacked() {
    return !keepAlive.isEmpty();
  }

  /**
   * Fails unless this table has the same segments as {@code reference}: count, names, shapes and lengths. Never
   * skips a mismatched tensor: a merge over misaligned tables would silently mix unrelated weights.
   */
  void requireSameLayout(SegmentTable reference, String role, String referenceRole) {
    if (device != reference.device || deviceIndex != reference.deviceIndex) {
      throw new IllegalArgumentException(role + " is on " + describe(device, deviceIndex) + " but " + referenceRole
          + " is on " + describe(reference.device, reference.deviceIndex));
    }
    if (size() != reference.size()) {
      throw new IllegalArgumentException(
          role + " has " + size() + " tensors but " + referenceRole + " has " + reference.size());
    }
    for (int i = 0; i < size(); i++) {
      if (!names[i].equals(reference.names[i])) {
        throw new IllegalArgumentException(role + ": tensor " + i + " is '" + names[i] + "' but " + referenceRole
            + " has '" + reference.names[i] + "' there (align tables by name first)");
      }
      if (lengths[i] != reference.lengths[i] || !Arrays.equals(shapes[i], reference.shapes[i])) {
        throw new IllegalArgumentException(role + ": tensor '" + names[i] + "' has shape " + Arrays.toString(shapes[i])
            + " but " + referenceRole + " has " + Arrays.toString(reference.shapes[i]));
      }
    }
  }

  private static String describe(DeviceKind kind, int index) {
    return kind == DeviceKind.CUDA ? "cuda:" + index : "cpu";
  }
}
