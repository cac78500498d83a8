package dev.mergetune.tensors;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A PyTorch checkpoint read through LibTorch: a TorchScript archive (its parameters and buffers, as
 * {@code state_dict()} gives them) or a {@code torch.save} zip file holding a dict of tensors
 * ({@link TorchArchives} tells which from the zip's entry names). Key names are kept exactly as stored.
 *
 * <p>Unlike safetensors, this format is loaded whole into memory when opened: the streaming, bounded-memory merge
 * applies to safetensors inputs, and {@code mergetune convert model.pt model.safetensors} turns a .pt into one.
 * Each tensor is held as a contiguous CPU tensor until {@link #close}; {@link #bytes} is a read-only
 * little-endian view over its memory (no copy), {@link #release} does nothing, and the views must not be used after
 * {@link #close}, which frees the tensors. {@link TensorInfo#fileOffset()} is 0: the tensors have no place in the
 * file that a reader could use.
 */
public final class TorchCheckpoint implements Checkpoint {
  private final Path path;
  private final Map<String, Tensor> tensors;
  private final Map<String, TensorInfo> infos;
  private final Set<String> parameterNames;
  private final Map<String, String> metadata;
  private boolean closed;

  private TorchCheckpoint(Path path, Map<String, Tensor> tensors, Map<String, TensorInfo> infos,
      Set<String> parameterNames, Map<String, String> metadata) {
    this.path = path;
    this.tensors = tensors;
    this.infos = Collections.unmodifiableMap(infos);
    this.parameterNames = parameterNames == null ? null : Collections.unmodifiableSet(new LinkedHashSet<>(parameterNames));
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /** Opens a TorchScript archive or a torch.save zip file; anything else is a {@link CheckpointFormatException}. */
  public static TorchCheckpoint open(Path path) {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new UnsupportedOperationException("reading .pt files needs a little-endian machine");
    }
    NativeRuntime.ensureTorch();
    TorchArchives.Kind kind = TorchArchives.kind(path);
    // Everything LibTorch hands back (module, dict, iterators, the file's bytes, non-contiguous originals) is
    // freed when this scope closes; only the contiguous tensors kept below are retained past it, until close().
    try (PointerScope scope = new PointerScope()) {
      TorchTensors read = kind == TorchArchives.Kind.TORCHSCRIPT ? TorchScriptReader.read(path) : TorchSaveReader.read(path);
      Map<String, Tensor> kept = new LinkedHashMap<>();
      Map<String, TensorInfo> infos = new LinkedHashMap<>();
      try {
        for (Map.Entry<String, Tensor> e : read.tensors().entrySet()) {
          String name = e.getKey();
          Tensor t = cpuContiguous(path, name, e.getValue());
          DType dtype = TorchDTypes.of(path, name, t.scalar_type());
          long[] shape = t.sizes().vec().get();
          long byteLength = t.numel() * dtype.byteSize();
          if (t.nbytes() != byteLength) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' holds " + t.nbytes() + " bytes, "
                + dtype + " " + java.util.Arrays.toString(shape) + " needs " + byteLength);
          }
          kept.put(name, t.retainReference());
          infos.put(name, new TensorInfo(name, dtype, shape, 0, byteLength));
        }
      } catch (RuntimeException failure) {
        kept.values().forEach(Tensor::releaseReference);
        throw failure;
      }
      return new TorchCheckpoint(path, kept, infos, read.parameterNames(), read.metadata());
    } catch (RuntimeException e) {
      if (e.getClass() != RuntimeException.class) throw e;  // ours; LibTorch's errors arrive as plain RuntimeException
      throw new CheckpointFormatException(path, "LibTorch cannot read this " + kind.description() + ": "
          + LibTorchMessages.summary(e), e);
    }
  }

  /** A detached, CPU, dense, contiguous tensor sharing memory with {@code t} where it already is one. */
  private static Tensor cpuContiguous(Path path, String name, Tensor t) {
    // JavaCPP returns enums from native code as fresh objects: intern() before comparing.
    if (t.layout().intern() != torch.Layout.Strided) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' has layout " + t.layout() + "; only dense tensors are supported");
    }
    Tensor dense = t.detach();
    if (!dense.is_cpu()) dense = dense.cpu();
    return dense.contiguous();
  }

  @Override
  public Path path() {
    return path;
  }

  /** Every tensor in state-dict order. */
  @Override
  public Map<String, TensorInfo> tensors() {
    return infos;
  }

  /** {@code mergetune.source_format}, and for a wrapped torch.save dict {@code mergetune.unwrapped_key}. */
  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The module's parameters for a TorchScript archive (buffers excluded); empty for a torch.save dict. */
  @Override
  public Optional<Set<String>> parameterNames() {
    return Optional.ofNullable(parameterNames);
  }

  /** A read-only little-endian view of the tensor's memory, valid until {@link #close}. */
  @Override
  public synchronized ByteBuffer bytes(String name) {
    Tensor t = tensor(name);
    long n = infos.get(name).byteLength();
    if (n > Integer.MAX_VALUE) {
      throw new CheckpointFormatException(path, "tensor '" + name + "' is " + n + " bytes; tensors over 2 GiB are not supported yet");
    }
    if (n == 0) return ByteBuffer.allocateDirect(0).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer view = new BytePointer(t.data_ptr()).capacity(n).asByteBuffer();
    return view.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Nothing to hand back: the views share the checkpoint's tensors, which live until {@link #close}. */
  @Override
  public void release(ByteBuffer bytes) {}

  @Override
  public float[] readFloats(String name) {
    TensorInfo info = infos.get(name);
    if (info == null) throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
    if (!info.dtype().isFloating()) {
      throw new IllegalArgumentException(path + ": tensor '" + name + "' is " + info.dtype()
          + ", not a floating type; read its bytes instead");
    }
    if (info.numel() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(path + ": tensor '" + name + "' has " + info.numel() + " elements, too many for an array");
    }
    float[] out = new float[(int) info.numel()];
    FloatWidening.widen(info.dtype(), bytes(name), out);
    return out;
  }

  private Tensor tensor(String name) {
    if (closed) throw new IllegalStateException(path + " is closed");
    Tensor t = tensors.get(name);
    if (t == null) throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
    return t;
  }

  /** Frees the tensors; views from {@link #bytes} must not be used afterwards. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    List<Tensor> held = new ArrayList<>(tensors.values());
    tensors.clear();
    held.forEach(Tensor::releaseReference);
  }
}
