package dev.mergetune.tensors;

import dev.mergetune.io.InputFiles;
import dev.mergetune.tensors.Pickled.TensorRef;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A PyTorch checkpoint — a TorchScript archive (its parameters and buffers, as {@code state_dict()} gives them) or a
 * {@code torch.save} zip file holding a dict of tensors ({@link TorchArchives} tells which) — read entirely in Java,
 * never by LibTorch's unpickler or TorchScript loader, so no file can crash or hang the JVM or run code:
 * {@link PtZip} bounds the zip and checks CRCs, {@link PickleMachine} runs the pickle under an allow-list with depth
 * and size bounds, {@link TorchScriptReader} reads archives without running {@code code/}, and
 * {@link PtTensorViews} checks every view against its storage before copying a byte. Key names are kept as stored.
 *
 * <p>The file is read whole when opened (all errors surface then): the streaming, bounded-memory merge applies to
 * safetensors inputs, and {@code mergetune convert model.pt model.safetensors} turns a .pt into one. {@link #bytes}
 * is a read-only little-endian view over native memory freed by {@link #close}; {@link #release} does nothing.
 * {@link TensorInfo#fileOffset()} is 0: the tensors have no place in the file that a reader could use.
 */
public final class TorchCheckpoint implements Checkpoint {
  private final Path path;
  private final PtTensorViews memory;
  private final Map<String, ByteBuffer> buffers;
  private final Map<String, TensorInfo> infos;
  private final Set<String> parameterNames;
  private final Map<String, String> metadata;
  private boolean closed;

  private TorchCheckpoint(Path path, PtTensorViews memory, Map<String, ByteBuffer> buffers,
      Map<String, TensorInfo> infos, Set<String> parameterNames, Map<String, String> metadata) {
    this.path = path;
    this.memory = memory;
    this.buffers = buffers;
    this.infos = Collections.unmodifiableMap(infos);
    this.parameterNames = parameterNames == null ? null : Collections.unmodifiableSet(new LinkedHashSet<>(parameterNames));
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /** Opens a TorchScript archive or a torch.save zip file; anything else is a {@link CheckpointFormatException}. */
  public static TorchCheckpoint open(Path path) {
    InputFiles.problem(path).ifPresent(p -> {
      throw new CheckpointFormatException(path, p);
    });
    try (PtZip zip = PtZip.open(path)) {
      TorchArchives.Kind kind = TorchArchives.kind(zip);
      String archive = TorchArchives.archive(zip);
      TorchTensors read = kind == TorchArchives.Kind.TORCHSCRIPT ? TorchScriptReader.read(zip, archive)
          : TorchSaveReader.read(zip, archive);
      PtTensorViews memory = new PtTensorViews(zip, read.storagePrefix());
      try {
        Map<String, ByteBuffer> buffers = new LinkedHashMap<>();
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (Map.Entry<String, TensorRef> e : read.tensors().entrySet()) {
          TensorRef t = e.getValue();
          ByteBuffer b = memory.bytes(e.getKey(), t);
          buffers.put(e.getKey(), b);
          infos.put(e.getKey(), new TensorInfo(e.getKey(), t.storage.dtype(), t.size, 0, b.capacity()));
        }
        return new TorchCheckpoint(path, memory, buffers, infos, read.parameterNames(), read.metadata());
      } catch (RuntimeException e) {
        memory.close();
        throw e;
      }
    }
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

  /** A read-only little-endian view of the tensor's bytes, valid until {@link #close}. */
  @Override
  public synchronized ByteBuffer bytes(String name) {
    if (closed) throw new IllegalStateException(path + " is closed");
    ByteBuffer b = buffers.get(name);
    if (b == null) throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
    return b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Nothing to hand back: the views share the checkpoint's memory, which lives until {@link #close}. */
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

  /** Frees the tensors; views from {@link #bytes} must not be used afterwards. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    buffers.clear();
    memory.close();
  }
}
