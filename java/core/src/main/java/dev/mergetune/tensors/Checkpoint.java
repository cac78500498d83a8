package dev.mergetune.tensors;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A named-tensor checkpoint that merges and loaders read tensor by tensor, whatever its file format. Tensors are
 * listed in file order with their stored dtype; {@link #bytes} gives one tensor's little-endian bytes, which the
 * caller hands back with {@link #release} as soon as it is done (a memory-mapped format unmaps them then).
 */
public interface Checkpoint extends AutoCloseable {
  /** The file (or shard index) the checkpoint was opened from. */
  Path path();

  /** Every tensor, in file order. */
  Map<String, TensorInfo> tensors();

  /** The file's string metadata (empty where the format has none). */
  Map<String, String> metadata();

  /** One tensor's raw little-endian bytes, valid until {@link #release} or {@link #close}. */
  ByteBuffer bytes(String name);

  /**
   * Copies one tensor's raw little-endian bytes into {@code dst}'s remaining space (exactly the tensor's byte length;
   * {@code dst}'s position is left as it was). A file-backed format reads without mapping, so a file truncated while
   * it is read is an exception, not a fault; the default copies from {@link #bytes}.
   */
  default void read(String name, ByteBuffer dst) {
    ByteBuffer b = bytes(name);
    try {
      if (b.remaining() != dst.remaining()) {
        throw new IllegalArgumentException("tensor '" + name + "' is " + b.remaining() + " bytes, the buffer has " + dst.remaining());
      }
      dst.duplicate().put(b.duplicate());
    } finally {
      release(b);
    }
  }

  /** Hands back a buffer from {@link #bytes}; it must not be used afterwards. */
  default void release(ByteBuffer bytes) {
    MappedBuffers.release(bytes);
  }

  /** How many files hold the tensors (shards; 1 for a single file). */
  default int shardCount() {
    return 1;
  }

  /** One floating tensor widened to float32. */
  float[] readFloats(String name);

  /**
   * The names of the trainable parameters where the format records which tensors are parameters and which are
   * buffers (a TorchScript module does; a state dict or safetensors file does not).
   */
  default Optional<Set<String>> parameterNames() {
    return Optional.empty();
  }

  @Override
  void close();
}
