package dev.mergetune.merge;

import dev.mergetune.clip.ClipConfigCarry;
import dev.mergetune.io.ContentDigest;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.LockstepWriter;
import dev.mergetune.tensors.StorageDTypes;
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
import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import org.bytedeco.javacpp.BytePointer;

/**
 * Merges checkpoints tensor by tensor with bounded memory, at the inputs' read rate: an I/O thread reads each
 * tensor of every input ahead of the kernel into reused direct buffers with explicit sequential reads
 * ({@link ReadAhead}; nothing is memory-mapped, so an input truncated by another process while it is read is an
 * error naming the file, never a SIGBUS), the {@link TensorOp} computes each output's values (float32 inputs are
 * handed to the kernel where they were read, other float types are widened into a scratch buffer), and a writer
 * thread streams the previous tensor to every output file meanwhile ({@link WriteBehind}). Peak memory is about
 * 2 × (inputs + outputs) × the largest tensor for safetensors inputs; a .pt input (TorchScript or torch.save, read
 * through LibTorch) is held whole in memory while the merge runs, which {@code mergetune convert} avoids.
 *
 * <p>All inputs must have the same tensors, shapes and dtypes (every difference is listed, none is skipped).
 * The floating tensors a {@link TensorSelection} picks are merged and written in the reference's dtype (F64 as
 * F32); the others, and integer tensors, are copied from the reference (the base, else the first model). A method
 * with statistics passes (global TIES) sees every merged tensor once per pass before the outputs are written. A
 * NaN/Inf in any input stops the merge, naming the file, tensor and element, and no output file is written. Each
 * output carries metadata: method, parameters, selection, inputs and their digest (SHA-256 unless
 * {@link Options#inputDigest} names another, computed from the same reads the merge makes, not in a pass of its own;
 * no digest records "none" instead), and the
 * inputs' CLIP model configuration where they record one ({@link #carriedModelConfig}). Each output is forced to
 * disk once, at the end, then renamed into place.
 */
public final class StreamingMerge {
  private StreamingMerge() {}

  /** One output file and the metadata of how it was made. */
  public record Result(Path path, Map<String, String> metadata) {}

  /**
   * How a merge runs: which digest of the inputs goes into the outputs' metadata ({@code mergetune.input_digest}
   * names it: {@link #DEFAULT_DIGEST} unless chosen; null records "none" and hashes nothing), and where its progress
   * goes (one task, in tensors read, with the bytes read as status).
   */
  public record Options(ContentDigest inputDigest, Progress progress, DType outDType, long shardBytes) {
    public static Options defaults() {
      return new Options(DEFAULT_DIGEST, Progress.installed(), null, 0);
    }

    /** The default digest when true, none when false. */
    public Options withHashInputs(boolean hash) {
      return withInputDigest(hash ? DEFAULT_DIGEST : null);
    }

    /** The inputs' digest; null hashes nothing and records "none". */
    public Options withInputDigest(ContentDigest d) {
      return new Options(d, progress, outDType, shardBytes);
    }

    public boolean hashInputs() {
      return inputDigest != null;
    }

    public Options withProgress(Progress p) {
      return new Options(inputDigest, p, outDType, shardBytes);
    }

    /**
     * The storage dtype of every floating tensor written (F32, F16 or BF16; {@link StorageDTypes}); null keeps
     * each tensor's input dtype (F64 as F32).
     */
    public Options withOutDType(DType d) {
      if (d != null && d != DType.F32 && d != DType.F16 && d != DType.BF16) {
        throw new IllegalArgumentException("outputs are stored as fp32, fp16 or bf16, not " + d);
      }
      return new Options(inputDigest, progress, d, shardBytes);
    }

    /** With bytes > 0 every output path is a folder of HF-style shards of at most that much tensor data each. */
    public Options withShardBytes(long bytes) {
      if (bytes < 0) throw new IllegalArgumentException("shard size must be positive, got " + bytes);
      return new Options(inputDigest, progress, outDType, bytes);
    }
  }

  /** Metadata key naming the digest of the recorded inputs ("sha256", "xxh3-128" or "none"). */
  public static final String INPUT_DIGEST = "mergetune.input_digest";

  /**
   * The inputs' digest unless a merge chooses another: SHA-256, what the outputs recorded before the digest could be
   * chosen, cryptographic, and the one {@code sha256sum} and the Hugging Face Hub show for the same file.
   */
  public static final ContentDigest DEFAULT_DIGEST = ContentDigest.SHA256;

  public static List<Result> run(Path base, List<Path> models, TensorOp op, List<Path> outputs) throws IOException {
    return run(base, models, op, outputs, TensorSelection.all());
  }

  public static List<Result> run(Path base, List<Path> models, TensorOp op, List<Path> outputs,
      TensorSelection selection) throws IOException {
    return run(base, models, op, outputs, selection, Options.defaults());
  }

  /**
   * Merges the floating tensors {@code selection} picks; every other tensor is copied from the reference input
   * (the base, else the first model).
   */
  public static List<Result> run(Path base, List<Path> models, TensorOp op, List<Path> outputs,
      TensorSelection selection, Options options) throws IOException {
    if (op.needsBase() && base == null) throw new IllegalArgumentException(op.method() + " needs a base checkpoint (--base)");
    if (!op.needsBase() && base != null) throw new IllegalArgumentException(op.method() + " takes no base checkpoint");
    if (models.isEmpty()) throw new IllegalArgumentException("no models to merge");
    if (outputs.size() != op.outputs()) {
      throw new IllegalArgumentException(op.method() + " writes " + op.outputs() + " outputs but " + outputs.size() + " paths were given");
    }
    NativeRuntime.ensureKernels();  // the op loads the rest of the stack if its kernels use it
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
        DType out = StorageDTypes.written(t.dtype(), options.outDType());
        layout.add(new TensorInfo(t.name(), out, t.shape(), 0, t.numel() * out.byteSize()));
      }
      InputDigests digests = new InputDigests(inputPaths, inputs, options.inputDigest());
      Map<String, String> common = new LinkedHashMap<>(keptMetadata(reference));
      common.put("mergetune.method", op.method());
      if (options.outDType() != null) common.put("mergetune.out_dtype", options.outDType().name());
      common.put(INPUT_DIGEST, digests.name());
      if (base != null) common.put("mergetune.base", digests.entry(0));
      for (int i = 0; i < models.size(); i++) common.put("mergetune.model." + i, digests.entry(i + (base != null ? 1 : 0)));
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
      new Run(inputs, inputPaths, base != null, op, layout, merged, options.progress(), options.shardBytes()).execute(outputs, metadata, digests);
      List<Result> results = new ArrayList<>();
      for (int k = 0; k < outputs.size(); k++) results.add(new Result(outputs.get(k), digests.resolved(metadata.get(k))));
      return results;
    } finally {
      for (Checkpoint c : inputs) c.close();
    }
  }

  /** One merge: the jobs the I/O thread reads, the kernel loop over them, the writer. */
  private static final class Run {
    final List<Checkpoint> inputs;
    final List<Path> paths;
    final boolean hasBase;
    final TensorOp op;
    final List<TensorInfo> layout;
    final Set<String> merged;
    final Progress progress;
    final Scratch scratch;
    final long shardBytes;

    Run(List<Checkpoint> inputs, List<Path> paths, boolean hasBase, TensorOp op, List<TensorInfo> layout,
        Set<String> merged, Progress progress, long shardBytes) {
      this.shardBytes = shardBytes;
      this.inputs = inputs;
      this.paths = paths;
      this.hasBase = hasBase;
      this.op = op;
      this.layout = layout;
      this.merged = merged;
      this.progress = progress;
      this.scratch = new Scratch(inputs.size(), op.outputs());
    }

    boolean mergedHere(TensorInfo t) {
      return merged.contains(t.name()) && t.numel() > 0;
    }

    void execute(List<Path> outputs, List<Map<String, String>> metadata, InputDigests digests) throws IOException {
      List<ReadAhead.Job> jobs = new ArrayList<>();
      for (int pass = 0; pass < op.statisticsPasses(); pass++) {
        for (TensorInfo t : layout) if (mergedHere(t)) jobs.add(new ReadAhead.Job(t.name(), true));
      }
      for (TensorInfo t : layout) {
        if (mergedHere(t)) jobs.add(new ReadAhead.Job(t.name(), true));
        else if (!merged.contains(t.name())) jobs.add(new ReadAhead.Job(t.name(), false));
      }
      long[] capacity = new long[inputs.size()];
      long total = 0;
      for (ReadAhead.Job j : jobs) {
        for (int i = 0; i < (j.allInputs() ? inputs.size() : 1); i++) {
          long b = inputs.get(i).tensors().get(j.tensor()).byteLength();
          capacity[i] = Math.max(capacity[i], b);
          total += b;
        }
      }
      long outCapacity = 0;
      for (TensorInfo t : layout) outCapacity = Math.max(outCapacity, t.byteLength());
      final long totalBytes = total;
      digests.startReading();
      try (NativeBuffers memory = new NativeBuffers();
           ProgressTask bar = progress.start("merge", jobs.size(), "tensor");
           LockstepWriter writer = LockstepWriter.open(outputs, layout, metadata, shardBytes);
           ReadAhead reads = new ReadAhead(inputs, jobs, capacity, memory, new ReadAhead.ReadListener() {
             long done;

             @Override
             public void read(ReadAhead.Job job, long bytes) {
               done += bytes;
               bar.step(1);
               bar.status(String.format(java.util.Locale.ROOT, "%.1f of %.1f GB read", done / 1e9, totalBytes / 1e9));
             }
           })) {
        for (int pass = 0; pass < op.statisticsPasses(); pass++) {
          final int p = pass;
          for (TensorInfo t : layout) {
            if (!mergedHere(t)) continue;
            ReadAhead.Slot slot = reads.take();
            withFloatInputs(slot, t, addresses -> {
              long b = hasBase ? addresses[0] : 0;
              op.observe(p, t.name(), t.numel(), b, modelsOf(addresses, hasBase));
            });
            reads.recycle(slot);
          }
          op.endPass(pass);
        }
        try (WriteBehind writes = new WriteBehind(writer, outCapacity, memory)) {
          for (int index = 0; index < layout.size(); index++) {
            TensorInfo t = layout.get(index);
            WriteBehind.Slot out = writes.acquire(index, t.byteLength());
            if (mergedHere(t)) {
              ReadAhead.Slot in = reads.take();
              withFloatInputs(in, t, addresses -> mergeInto(t, out.out, addresses));
              reads.recycle(in);
            } else if (!merged.contains(t.name())) {
              ReadAhead.Slot in = reads.take();
              copyInto(in.raw[0], inputs.get(0).tensors().get(t.name()), t.dtype(), out.out);
              reads.recycle(in);
            }
            writes.submit(out);
          }
          writes.finish();
        }
        writer.patchHeaders(digests.finish());
        writer.commit();
      }
    }

    /** A tensor copied from the reference: its bytes as they are, or converted to the written dtype. */
    private void copyInto(ByteBuffer raw, TensorInfo ref, DType written, ByteBuffer[] outs) {
      for (ByteBuffer b : outs) StorageDTypes.convert(raw, ref.dtype(), b, written, ref.numel());
    }

    /**
     * Runs {@code body} with the float32 addresses of the slot's tensor in every input (the read buffers, or widened
     * scratch copies); a NaN/Inf the kernel meets is traced to the input file holding it.
     */
    private void withFloatInputs(ReadAhead.Slot slot, TensorInfo t, java.util.function.Consumer<long[]> body) {
      if (!slot.job.tensor().equals(t.name())) {
        throw new IllegalStateException("read " + slot.job.tensor() + " where " + t.name() + " was expected");
      }
      long[] addresses = new long[inputs.size()];
      for (int i = 0; i < inputs.size(); i++) addresses[i] = floatAddress(inputs.get(i).tensors().get(t.name()), slot.raw[i], i);
      try {
        body.accept(addresses);
      } catch (NonFiniteException e) {
        throw nonFinite(slot, t.name(), e);
      }
    }

    private void mergeInto(TensorInfo out, ByteBuffer[] outBuffers, long[] addresses) {
      long n = out.numel();
      long[] outAddresses = new long[outBuffers.length];
      boolean direct = out.dtype() == DType.F32;
      for (int k = 0; k < outBuffers.length; k++) {
        ByteBuffer target = direct ? outBuffers[k] : Scratch.ensure(scratch.out, k, n * 4);
        outAddresses[k] = new BytePointer(target).address();
      }
      long base = hasBase ? addresses[0] : 0;
      op.apply(out.name(), n, base, modelsOf(addresses, hasBase), outAddresses);
      if (!direct) {
        for (int k = 0; k < outBuffers.length; k++) narrow(Scratch.ensure(scratch.out, k, n * 4), outBuffers[k], out.dtype(), n);
      }
    }

    /** Address of the tensor as float32: the read buffer itself for F32, else a widened scratch copy. */
    private long floatAddress(TensorInfo info, ByteBuffer raw, int slot) {
      long address = new BytePointer(raw).address();
      if (info.dtype() == DType.F32 && (address & 3) == 0) return address;
      long n = info.numel();
      ByteBuffer dst = Scratch.ensure(scratch.in, slot, n * 4);
      var floats = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      ByteBuffer src = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      switch (info.dtype()) {
        case F32 -> floats.put(src.asFloatBuffer());
        case F64 -> {
          var d = src.asDoubleBuffer();
          for (int j = 0; j < n; j++) floats.put(j, (float) d.get(j));
        }
        case F16 -> {
          var s = src.asShortBuffer();
          for (int j = 0; j < n; j++) floats.put(j, HalfFloats.f16ToFloat(s.get(j)));
        }
        case BF16 -> {
          var s = src.asShortBuffer();
          for (int j = 0; j < n; j++) floats.put(j, HalfFloats.bf16ToFloat(s.get(j)));
        }
        default -> throw new IllegalStateException("not a floating tensor: " + info);
      }
      return new BytePointer(dst).address();
    }

    /** Names the input file holding the first non-finite value of the element the kernel stopped at. */
    private NonFiniteException nonFinite(ReadAhead.Slot slot, String tensor, NonFiniteException e) {
      long element = e.element();
      for (int i = 0; i < inputs.size(); i++) {
        float v = valueAt(slot.raw[i], inputs.get(i).tensors().get(tensor).dtype(), (int) element);
        if (!Float.isFinite(v)) {
          return new NonFiniteException(paths.get(i).toString(), tensor, element,
              paths.get(i) + ": tensor '" + tensor + "' holds " + v + " at element " + element + "; nothing was written");
        }
      }
      return new NonFiniteException("result", tensor, element,
          "tensor '" + tensor + "' overflowed to a non-finite value at element " + element + "; nothing was written");
    }
  }

  /**
   * The base's (the reference input's) own {@code __metadata__}, kept in every output: every key except those
   * under {@code mergetune.}, which describe how the input itself was made and are replaced by this merge's, and a
   * shard index's {@code total_size}, which describes the input's files.
   */
  static Map<String, String> keptMetadata(Checkpoint reference) {
    Map<String, String> kept = new LinkedHashMap<>();
    reference.metadata().forEach((k, v) -> {
      if (k.startsWith("mergetune.")) return;
      if (k.equals("total_size") && reference.path().getFileName().toString().endsWith(".json")) return;
      kept.put(k, v);
    });
    return kept;
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

  private static long[] modelsOf(long[] addresses, boolean hasBase) {
    long[] models = new long[hasBase ? addresses.length - 1 : addresses.length];
    System.arraycopy(addresses, hasBase ? 1 : 0, models, 0, models.length);
    return models;
  }

  private static void narrow(ByteBuffer floats, ByteBuffer out, DType dtype, long n) {
    var src = floats.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    var dst = out.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
    for (int j = 0; j < n; j++) {
      float v = src.get(j);
      dst.put(j, dtype == DType.F16 ? HalfFloats.floatToF16(v) : HalfFloats.floatToBf16(v));
    }
  }

  private static float valueAt(ByteBuffer raw, DType dtype, int j) {
    ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    return switch (dtype) {
      case F32 -> b.getFloat(j * 4);
      case F64 -> (float) b.getDouble(j * 8);
      case F16 -> HalfFloats.f16ToFloat(b.getShort(j * 2));
      case BF16 -> HalfFloats.bf16ToFloat(b.getShort(j * 2));
      default -> 0f;
    };
  }
}
