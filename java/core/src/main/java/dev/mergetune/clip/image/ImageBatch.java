package dev.mergetune.clip.image;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Decodes and preprocesses a list of image files into one contiguous float32 batch [N, 3, n_px, n_px], in the
 * order given, on a bounded number of worker threads.
 *
 * <p>Each worker decodes one file at a time and writes its 3·n_px² floats straight into that file's slice of the
 * output, so at most {@code threads} decoded images are in memory at once. If any file fails, the whole call
 * fails with the {@link ImageDecodeException} of the first failing file in list order (its message starts with the
 * path and says which position it had), later failures attached as suppressed exceptions; the workers still
 * running are stopped and waited for before the call returns, so nothing writes into the output afterwards.
 *
 * <p>Three outputs:
 * <ul>
 *   <li>{@link #load} → a Java {@code float[]};
 *   <li>{@link #loadDirect} → a direct, native-order {@link FloatBuffer} (usable by JavaCPP pointers);
 *   <li>{@link #loadTensor} → a LibTorch float32 CPU tensor of shape [N, 3, n_px, n_px] that owns its memory: the
 *       workers write directly into memory LibTorch allocated ({@code torch.empty}), there is no copy and no
 *       Java buffer to keep alive; free it like any tensor (close it or let its PointerScope release it).
 * </ul>
 * {@link #toTensor(float[], int, int)} wraps an existing {@code float[]} by copying it into a new tensor (LibTorch
 * owns the copy; the array may be dropped or reused at once).
 */
public final class ImageBatch {
  private ImageBatch() {}

  /** Worker threads used when not told: the available processors, at most 8. */
  public static int defaultThreads() {
    return Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
  }

  /** The batch as a float[] of length N · 3 · n_px². */
  public static float[] load(List<Path> files, ClipImageTransform transform, int threads) {
    float[] out = new float[checkedLength(files.size(), transform)];
    run(files, transform, threads, (image, index) -> transform.apply(image, out, index * transform.floatsPerImage()));
    return out;
  }

  /** The batch in a direct, native-order FloatBuffer of capacity N · 3 · n_px² (position 0). */
  public static FloatBuffer loadDirect(List<Path> files, ClipImageTransform transform, int threads) {
    int length = checkedLength(files.size(), transform);
    FloatBuffer out = ByteBuffer.allocateDirect(Math.multiplyExact(length, Float.BYTES))
        .order(ByteOrder.nativeOrder()).asFloatBuffer();
    run(files, transform, threads, (image, index) -> transform.apply(image, out, index * transform.floatsPerImage()));
    return out;
  }

  /**
   * The batch as a new float32 CPU tensor [N, 3, n_px, n_px] filled in place (LibTorch owns the memory). Loads
   * LibTorch through {@link NativeRuntime#ensureTorch()}. On failure the tensor is freed before the exception
   * leaves.
   */
  public static Tensor loadTensor(List<Path> files, ClipImageTransform transform, int threads) {
    NativeRuntime.ensureTorch();
    int length = checkedLength(files.size(), transform);
    int s = transform.size();
    Tensor tensor = torch.empty(new long[] {files.size(), 3, s, s},
        new TensorOptions(torch.ScalarType.Float), new MemoryFormatOptional());
    try {
      if (length > 0) {
        FloatBuffer view = tensor.data_ptr_float().capacity(length).asBuffer();
        run(files, transform, threads,
            (image, index) -> transform.apply(image, view, index * transform.floatsPerImage()));
      }
      return tensor;
    } catch (RuntimeException | Error e) {
      tensor.close();
      throw e;
    }
  }

  /**
   * The samples {@code indices} of {@code dataset}, decoded on {@code threads} worker threads and transformed as
   * sample {@code indices[i]} of epoch {@code epoch} (random transforms draw from seed, epoch and index), as a new
   * float32 tensor [n, 3, size, size]. Errors name the file, the sample and the dataset.
   */
  public static Tensor loadTensor(dev.mergetune.data.Dataset dataset, int[] indices, Transform transform, long epoch,
      int threads) {
    NativeRuntime.ensureTorch();
    int floats = transform.floatsPerImage();
    long length = (long) indices.length * floats;
    if (length > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("a batch of " + indices.length + " images is too large");
    float[] out = new float[(int) length];
    List<Path> files = new ArrayList<>(indices.length);
    for (int i : indices) {
      if (i < 0 || i >= dataset.size()) {
        throw new IndexOutOfBoundsException("sample " + i + " of " + dataset.name() + " (" + dataset.size() + " samples)");
      }
      files.add(dataset.samples().get(i).image());
    }
    run(files, null, threads, (image, i) -> transform.apply(image, epoch, indices[i], out, i * floats));
    return toTensor(out, indices.length, transform.size());
  }

  /** Copies {@code data} (N · 3 · size², as {@link #load} returns it) into a new float32 tensor [N, 3, size, size]. */
  public static Tensor toTensor(float[] data, int n, int size) {
    NativeRuntime.ensureTorch();
    if ((long) n * 3 * size * size != data.length) {
      throw new IllegalArgumentException("data has " + data.length + " floats, not " + n + "x3x" + size + "x" + size);
    }
    return Tensor.create(data, n, 3, size, size);
  }

  interface Sink {
    void accept(PilImage image, int index);
  }

  private static int checkedLength(int n, ClipImageTransform transform) {
    long length = (long) n * transform.floatsPerImage();
    if (length > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("a batch of " + n + " images is too large");
    return (int) length;
  }

  private static void run(List<Path> files, ClipImageTransform transform, int threads, Sink sink) {
    if (threads < 1) throw new IllegalArgumentException("threads must be at least 1: " + threads);
    int n = files.size();
    if (n == 0) return;
    int workers = Math.min(threads, n);
    ExecutorService pool = Executors.newFixedThreadPool(workers, daemonThreads());
    List<Future<?>> futures = new ArrayList<>(n);
    try {
      for (int i = 0; i < n; i++) {
        final int index = i;
        final Path file = files.get(i);
        futures.add(pool.submit(() -> {
          PilImage image = ImageDecoder.read(file);
          try {
            sink.accept(image, index);
          } catch (RuntimeException e) {
            throw new ImageDecodeException(file, "preprocessing failed: " + e, e);
          }
          return null;
        }));
      }
      ImageDecodeException first = null;
      for (int i = 0; i < n; i++) {
        try {
          if (first == null) {
            futures.get(i).get();
          } else if (futures.get(i).isDone() && !futures.get(i).isCancelled()) {
            futures.get(i).get();
          }
        } catch (ExecutionException e) {
          ImageDecodeException failure = asDecodeException(files.get(i), i, n, e.getCause());
          if (first == null) {
            first = failure;
            for (Future<?> f : futures) f.cancel(true);
          } else {
            first.addSuppressed(failure);
          }
        } catch (CancellationException ignored) {
          // cancelled after an earlier failure
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while loading images", e);
        }
      }
      if (first != null) throw first;
    } finally {
      pool.shutdownNow();
      awaitQuietly(pool);
    }
  }

  private static ImageDecodeException asDecodeException(Path file, int index, int n, Throwable cause) {
    String where = " (image " + (index + 1) + " of " + n + ")";
    if (cause instanceof ImageDecodeException e) {
      String message = e.getMessage();
      String prefix = file + ": ";
      String rest = message.startsWith(prefix) ? message.substring(prefix.length()) : message;
      return new ImageDecodeException(file, rest + where, e);
    }
    return new ImageDecodeException(file, "failed" + where + ": " + cause, cause);
  }

  /** Waits until no worker touches the output any more (decoders may ignore interruption, so wait them out). */
  private static void awaitQuietly(ExecutorService pool) {
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, TimeUnit.MINUTES)) break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger count = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "mergetune-image-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
