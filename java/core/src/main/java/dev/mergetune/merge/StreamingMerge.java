package dev.mergetune.merge;

import dev.mergetune.clip.ClipConfigCarry;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.LockstepWriter;
import dev.mergetune.tensors.ParameterLayout;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;

/**
 * Merges checkpoints tensor by tensor with bounded memory: for each tensor, every input's bytes are memory-mapped
 * (float32 ones are handed to the kernel where they lie, other float types are widened into a scratch buffer), the
 * {@link TensorOp} writes each output's values, and the writer streams them to every output file before the next
 * tensor is touched. Peak memory is about (inputs + outputs) × the largest tensor, not × the model, for safetensors
 * inputs; a .pt input (TorchScript or torch.save, read through LibTorch) is held whole in memory while the merge
 * runs, which {@code mergetune convert} avoids.
 *
 * <p>All inputs must have the same tensors, shapes and dtypes (every difference is listed, none is skipped).
 * The floating tensors a {@link TensorSelection} picks are merged and written in the reference's dtype (F64 as
 * F32); the others, and integer tensors, are copied from the reference (the base, else the first model). A method
 * with statistics passes (global TIES) sees every merged tensor once per pass, one tensor mapped at a time, before
 * the outputs are written. A NaN/Inf in any input stops the merge, naming the file, tensor and element, and no
 * output file is written. Each output carries metadata: method, parameters, selection, inputs and their SHA-256, and
 * the inputs' CLIP model configuration where they record one ({@link #carriedModelConfig}).
 */
public final class StreamingMerge {
  private StreamingMerge() {}

  /** One output file and the metadata of how it was made. */
  public record Result(Path path, Map<String, String> metadata) {}

  public static List<Result> run(Path base, List<Path> models, TensorOp op, List<Path> outputs) throws IOException {
    return run(base, models, op, outputs, TensorSelection.all());
  }

  /**
   * Merges the floating tensors {@code selection} picks; every other tensor is copied from the reference input
   * (the base, else the first model).
   */
  public static List<Result> run(Path base, List<Path> models, TensorOp op, List<Path> outputs,
      TensorSelection selection) throws IOException {
    if (op.needsBase() && base == null) throw new IllegalArgumentException(op.method() + " needs a base checkpoint (--base)");
    if (!op.needsBase() && base != null) throw new IllegalArgumentException(op.method() + " takes no base checkpoint");
    if (models.isEmpty()) throw new IllegalArgumentException("no models to merge");
    if (outputs.size() != op.outputs()) {
      throw new IllegalArgumentException(op.method() + " writes " + op.outputs() + " outputs but " + outputs.size() + " paths were given");
    }
    NativeRuntime.ensureLoaded();
    List<Path> inputPaths = new ArrayList<>();
    if (base != null) inputPaths.add(base);
    inputPaths.addAll(models);
    List<Checkpoint> inputs = new ArrayList<>();
    try {
      for (Path p : inputPaths) inputs.add(Checkpoints.open(p));
      Checkpoint reference = inputs.get(0);
      Map<String, ParameterLayout> others = new LinkedHashMap<>();
      for (int i = 1; i < inputs.size(); i++) others.put(inputPaths.get(i).toString(), ParameterLayout.of(inputs.get(i)));
      ParameterLayout.requireCompatible(inputPaths.get(0).toString(), ParameterLayout.of(reference), others);

      List<TensorInfo> layout = new ArrayList<>();
      for (TensorInfo t : reference.tensors().values()) {
        DType out = t.dtype() == DType.F64 ? DType.F32 : t.dtype();
        layout.add(new TensorInfo(t.name(), out, t.shape(), 0, t.numel() * out.byteSize()));
      }
      Map<String, String> common = new LinkedHashMap<>();
      common.put("mergetune.method", op.method());
      if (base != null) common.put("mergetune.base", base.getFileName() + " sha256:" + InputHashes.sha256(base));
      for (int i = 0; i < models.size(); i++) {
        common.put("mergetune.model." + i, models.get(i).getFileName() + " sha256:" + InputHashes.sha256(models.get(i)));
      }
      common.putAll(carriedModelConfig(inputPaths, inputs));
      Set<String> merged = selection.merged(reference);
      if (merged.isEmpty()) throw new IllegalArgumentException("no floating tensor is selected for merging " + selection);
      common.putAll(selection.metadata(merged.size()));
      List<Map<String, String>> metadata = new ArrayList<>();
      for (int k = 0; k < outputs.size(); k++) {
        Map<String, String> m = new LinkedHashMap<>(common);
        op.parameters(k).forEach((key, v) -> m.put("mergetune.param." + key, v));
        metadata.add(m);
      }
      Scratch scratch = new Scratch(inputs.size(), outputs.size());
      for (int pass = 0; pass < op.statisticsPasses(); pass++) {
        final int p = pass;
        for (TensorInfo t : layout) {
          if (!merged.contains(t.name()) || t.numel() == 0) continue;
          withFloatInputs(inputs, inputPaths, t.name(), t.numel(), scratch, addresses -> {
            long b = base != null ? addresses[0] : 0;
            op.observe(p, t.name(), t.numel(), b, modelsOf(addresses, base != null));
          });
        }
        op.endPass(pass);
      }
      LockstepWriter.write(outputs, layout, metadata, (index, out, buffers) ->
          mergeOne(inputs, inputPaths, base != null, op, out, buffers, scratch, merged.contains(out.name())));
      List<Result> results = new ArrayList<>();
      for (int k = 0; k < outputs.size(); k++) results.add(new Result(outputs.get(k), metadata.get(k)));
      return results;
    } finally {
      for (Checkpoint c : inputs) c.close();
    }
  }

  /**
   * The hook that keeps a merged CLIP model loadable: the model configuration the inputs record (heads,
   * activation, …; {@link ClipConfigCarry#carried}), refused when the inputs record different ones.
   */
  private static Map<String, String> carriedModelConfig(List<Path> paths, List<Checkpoint> inputs) {
    return ClipConfigCarry.carried(paths, inputs);
  }

  /** Reusable direct buffers: one float scratch per input (non-F32 inputs) and per output. */
  private static final class Scratch {
    final ByteBuffer[] in;
    final ByteBuffer[] out;

    Scratch(int inputs, int outputs) {
      in = new ByteBuffer[inputs];
      out = new ByteBuffer[outputs];
    }

    static ByteBuffer ensure(ByteBuffer[] pool, int i, long bytes) {
      if (pool[i] == null || pool[i].capacity() < bytes) {
        pool[i] = ByteBuffer.allocateDirect((int) Math.max(bytes, 1L << 16)).order(ByteOrder.LITTLE_ENDIAN);
      }
      return pool[i];
    }
  }

  private static void mergeOne(List<Checkpoint> inputs, List<Path> paths, boolean hasBase, TensorOp op,
      TensorInfo out, ByteBuffer[] outBuffers, Scratch scratch, boolean merge) {
    String name = out.name();
    TensorInfo ref = inputs.get(0).tensors().get(name);
    if (!merge && ref.dtype() == DType.F64) {  // copied, but written as F32 like every floating output
      float[] values = inputs.get(0).readFloats(name);
      for (ByteBuffer b : outBuffers) b.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
      return;
    }
    if (!merge) {
      ByteBuffer src = inputs.get(0).bytes(name);
      for (ByteBuffer b : outBuffers) b.put(src.duplicate());
      inputs.get(0).release(src);
      return;
    }
    long n = ref.numel();
    if (n == 0) return;
    withFloatInputs(inputs, paths, name, n, scratch,
        addresses -> mergeMapped(inputs, paths, hasBase, op, out, outBuffers, scratch, n, addresses));
  }

  /**
   * Runs {@code body} with the float32 addresses of tensor {@code name} in every input (mappings or widened
   * scratch copies), released right after; a NaN/Inf the kernel meets is traced to the input file holding it.
   */
  private static void withFloatInputs(List<Checkpoint> inputs, List<Path> paths, String name, long n,
      Scratch scratch, java.util.function.Consumer<long[]> body) {
    ByteBuffer[] mappings = new ByteBuffer[inputs.size()];  // must outlive the kernel call, then are released at once
    try {
      long[] addresses = new long[inputs.size()];
      for (int i = 0; i < inputs.size(); i++) {
        addresses[i] = floatAddress(inputs.get(i), name, n, scratch, i, mappings);
      }
      body.accept(addresses);
    } catch (NonFiniteException e) {
      throw nonFinite(inputs, paths, name, e);
    } finally {
      for (int i = 0; i < mappings.length; i++) if (mappings[i] != null) inputs.get(i).release(mappings[i]);
    }
  }

  private static long[] modelsOf(long[] addresses, boolean hasBase) {
    long[] models = new long[hasBase ? addresses.length - 1 : addresses.length];
    System.arraycopy(addresses, hasBase ? 1 : 0, models, 0, models.length);
    return models;
  }

  private static void mergeMapped(List<Checkpoint> inputs, List<Path> paths, boolean hasBase, TensorOp op,
      TensorInfo out, ByteBuffer[] outBuffers, Scratch scratch, long n, long[] addresses) {
    String name = out.name();
    long[] outAddresses = new long[outBuffers.length];
    boolean direct = out.dtype() == DType.F32;
    for (int k = 0; k < outBuffers.length; k++) {
      ByteBuffer target = direct ? outBuffers[k] : Scratch.ensure(scratch.out, k, n * 4);
      outAddresses[k] = new BytePointer(target).address();
    }
    long base = hasBase ? addresses[0] : 0;
    op.apply(name, n, base, modelsOf(addresses, hasBase), outAddresses);
    if (!direct) {
      for (int k = 0; k < outBuffers.length; k++) narrow(Scratch.ensure(scratch.out, k, n * 4), outBuffers[k], out.dtype(), n);
    }
  }

  /** Address of tensor `name` as float32: the mapping itself for aligned F32, else a widened scratch copy. */
  private static long floatAddress(Checkpoint ckpt, String name, long n, Scratch scratch, int slot,
      ByteBuffer[] mappings) {
    TensorInfo info = ckpt.tensors().get(name);
    ByteBuffer mapped = ckpt.bytes(name);
    mappings[slot] = mapped;
    long address = new BytePointer(mapped).address();
    if (info.dtype() == DType.F32 && (address & 3) == 0) return address;
    ByteBuffer dst = Scratch.ensure(scratch.in, slot, n * 4);
    var floats = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    switch (info.dtype()) {
      case F32 -> floats.put(mapped.asFloatBuffer());
      case F64 -> {
        var d = mapped.asDoubleBuffer();
        for (int j = 0; j < n; j++) floats.put(j, (float) d.get(j));
      }
      case F16 -> {
        var s = mapped.asShortBuffer();
        for (int j = 0; j < n; j++) floats.put(j, HalfFloats.f16ToFloat(s.get(j)));
      }
      case BF16 -> {
        var s = mapped.asShortBuffer();
        for (int j = 0; j < n; j++) floats.put(j, HalfFloats.bf16ToFloat(s.get(j)));
      }
      default -> throw new IllegalStateException("not a floating tensor: " + info);
    }
    return new BytePointer(dst).address();
  }

  private static void narrow(ByteBuffer floats, ByteBuffer out, DType dtype, long n) {
    var src = floats.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    var dst = out.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
    for (int j = 0; j < n; j++) {
      float v = src.get(j);
      dst.put(j, dtype == DType.F16 ? HalfFloats.floatToF16(v) : HalfFloats.floatToBf16(v));
    }
  }

  /** Names the input file holding the first non-finite value of the element the kernel stopped at. */
  private static NonFiniteException nonFinite(List<Checkpoint> inputs, List<Path> paths, String tensor,
      NonFiniteException e) {
    long element = e.element();
    for (int i = 0; i < inputs.size(); i++) {
      float v = valueAt(inputs.get(i), tensor, element);
      if (!Float.isFinite(v)) {
        return new NonFiniteException(paths.get(i).toString(), tensor, element,
            paths.get(i) + ": tensor '" + tensor + "' holds " + v + " at element " + element + "; nothing was written");
      }
    }
    return new NonFiniteException("result", tensor, element,
        "tensor '" + tensor + "' overflowed to a non-finite value at element " + element + "; nothing was written");
  }

  private static float valueAt(Checkpoint ckpt, String tensor, long element) {
    ByteBuffer b = ckpt.bytes(tensor);
    int j = (int) element;
    try {
      return switch (ckpt.tensors().get(tensor).dtype()) {
        case F32 -> b.getFloat(j * 4);
        case F64 -> (float) b.getDouble(j * 8);
        case F16 -> HalfFloats.f16ToFloat(b.getShort(j * 2));
        case BF16 -> HalfFloats.bf16ToFloat(b.getShort(j * 2));
        default -> 0f;
      };
    } finally {
      ckpt.release(b);
    }
  }
}
