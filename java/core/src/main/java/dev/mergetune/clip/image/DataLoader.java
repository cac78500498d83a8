package dev.mergetune.clip.image;

import dev.mergetune.data.Dataset;
import dev.mergetune.data.EpochOrder;
import dev.mergetune.data.Sample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of a {@link Dataset} for training or evaluation, in the manner of torch's {@code DataLoader}: the samples
 * of an epoch in dataset order or shuffled ({@link EpochOrder}: seeded by the loader's seed and the epoch), cut into
 * batches of {@code batchSize} (the last one shorter, or dropped with {@code dropLast}), each image decoded
 * ({@link ImageDecoder}) and transformed ({@link Transform}, with the epoch and the sample's dataset index) on
 * worker threads.
 *
 * <h2>Order and determinism</h2>
 * Batch {@code k} of epoch {@code e} always holds the same samples in the same order with the same augmentation,
 * whatever the number of workers and however the threads are scheduled: a worker builds a whole batch, the results
 * are handed out strictly in batch order, and a random transform draws from (its seed, e, dataset index) only. Two
 * loaders with the same dataset, transform, batch size and seed give identical batches.
 *
 * <h2>Bounded prefetch</h2>
 * At most {@code prefetch} batches are being decoded or waiting to be taken at any time (a semaphore with that many
 * permits: a worker takes one before starting a batch, {@link Epoch#next()} gives it back when it hands the batch
 * out), so memory is bounded by {@code prefetch} batches plus the ones the caller keeps. Up to
 * {@code min(workers, prefetch)} batches are decoded at once, each by one thread. With {@code workers = 0} every
 * batch is built on the calling thread inside {@code next()}, as torch's {@code num_workers=0}.
 *
 * <h2>Failures and closing</h2>
 * If an image cannot be read, decoded or transformed, the batches before it are still handed out; taking the batch
 * that holds it throws an {@link ImageDecodeException} whose message starts with the file's path and says which
 * sample, batch and epoch it was (the first failing image of that batch, in batch order), and the epoch is closed.
 * Workers start no batch after a failed one. {@link Epoch#close()} — or finishing the epoch, or closing the loader —
 * interrupts the workers, waits until every one of them has ended, and drops the batches not taken; a worker in the
 * middle of an image finishes that image and stops. Worker threads are daemon threads named
 * {@code mergetune-loader-<n>-<w>}.
 *
 * <h2>What differs from torch's DataLoader</h2>
 * The shuffle and the augmentation draws are this project's own ({@link EpochOrder}, {@link RandomResizedCrop}), not
 * torch's generator streams; workers are threads of this JVM, not processes; there is no collate function, no
 * pinned memory and no persistent workers (each epoch starts its threads and ends them).
 */
public final class DataLoader implements AutoCloseable {
  private static final AtomicInteger LOADERS = new AtomicInteger();

  private final Dataset dataset;
  private final Transform transform;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private final int workers;
  private final int prefetch;
  private final int loaderNumber = LOADERS.incrementAndGet();
  private final List<Epoch> open = new ArrayList<>();
  private boolean closed;

  private DataLoader(Builder b) {
    this.dataset = b.dataset;
    this.transform = b.transform;
    this.batchSize = b.batchSize;
    this.shuffle = b.shuffle;
    this.seed = b.seed;
    this.dropLast = b.dropLast;
    this.workers = b.workers;
    this.prefetch = b.prefetch < 0 ? 2 * Math.max(1, b.workers) : b.prefetch;
    if (prefetch < 1) throw new IllegalArgumentException("prefetch must be at least 1: " + prefetch);
  }

  /** A loader of {@code dataset} through {@code transform}: batch size 1, no shuffle, default workers. */
  public static Builder builder(Dataset dataset, Transform transform) {
    return new Builder(dataset, transform);
  }

  /** Options of a {@link DataLoader}. */
  public static final class Builder {
    private final Dataset dataset;
    private final Transform transform;
    private int batchSize = 1;
    private boolean shuffle;
    private long seed;
    private boolean dropLast;
    private int workers = ImageBatch.defaultThreads();
    private int prefetch = -1;

    private Builder(Dataset dataset, Transform transform) {
      this.dataset = Objects.requireNonNull(dataset, "dataset");
      this.transform = Objects.requireNonNull(transform, "transform");
    }

    public Builder batchSize(int size) {
      if (size < 1) throw new IllegalArgumentException("batch size must be at least 1: " + size);
      this.batchSize = size;
      return this;
    }

    /** Visit the samples in a new permutation each epoch, drawn from {@code seed} and the epoch. */
    public Builder shuffle(long seed) {
      this.shuffle = true;
      this.seed = seed;
      return this;
    }

    /** Visit the samples in dataset order (the default). */
    public Builder sequential() {
      this.shuffle = false;
      return this;
    }

    /** Drop the last batch of an epoch when it is shorter than the batch size. */
    public Builder dropLast(boolean drop) {
      this.dropLast = drop;
      return this;
    }

    /** Worker threads (0: build batches on the calling thread); default {@link ImageBatch#defaultThreads()}. */
    public Builder workers(int n) {
      if (n < 0) throw new IllegalArgumentException("workers must be >= 0: " + n);
      this.workers = n;
      return this;
    }

    /** The most batches decoded or waiting at once; default twice the workers (torch's prefetch_factor 2). */
    public Builder prefetch(int batches) {
      if (batches < 1) throw new IllegalArgumentException("prefetch must be at least 1: " + batches);
      this.prefetch = batches;
      return this;
    }

    public DataLoader build() {
      return new DataLoader(this);
    }
  }

  public Dataset dataset() {
    return dataset;
  }

  public Transform transform() {
    return transform;
  }

  public int batchSize() {
    return batchSize;
  }

  public int workers() {
    return workers;
  }

  public int prefetch() {
    return prefetch;
  }

  /** Batches per epoch: {@code floor(n / batch)} with dropLast, {@code ceil(n / batch)} without. */
  public int numBatches() {
    int n = dataset.size();
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** The dataset indices in the order epoch {@code epoch} visits them (all n, including any dropped tail). */
  public int[] order(long epoch) {
    return shuffle ? EpochOrder.shuffled(dataset.size(), seed, epoch) : EpochOrder.sequential(dataset.size());
  }

  /** Starts epoch {@code epoch}: its workers begin decoding at once. Close it (try-with-resources) when done. */
  public Epoch epoch(long epoch) {
    return epoch(epoch, 0);
  }

  /**
   * Starts epoch {@code epoch} at batch {@code first} (a run resumed mid-epoch): batches before it are neither
   * decoded nor handed out; {@link Epoch#taken()} counts from {@code first}.
   */
  public synchronized Epoch epoch(long epoch, int first) {
    if (closed) throw new IllegalStateException("the loader is closed");
    if (first < 0 || first > numBatches()) {
      throw new IllegalArgumentException("batch " + first + " is not in an epoch of " + numBatches() + " batches");
    }
    Epoch e = new Epoch(epoch, first);
    open.add(e);
    e.start();
    return e;
  }

  /** Closes every epoch still open; the loader cannot start new ones afterwards. */
  @Override
  public void close() {
    List<Epoch> toClose;
    synchronized (this) {
      closed = true;
      toClose = new ArrayList<>(open);
    }
    for (Epoch e : toClose) e.close();
  }

  private synchronized void forget(Epoch e) {
    open.remove(e);
  }

  /**
   * The batches of one epoch, in order. Not for use by several consumer threads at once ({@link #close()} may be
   * called from any thread).
   */
  public final class Epoch implements Iterator<LoadedBatch>, AutoCloseable {
    private final long epoch;
    private final int[] order;
    private final int batches;
    private final CompletableFuture<LoadedBatch>[] slots;
    private final Semaphore permits;
    private final AtomicInteger nextToStart = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicInteger stopAfter = new AtomicInteger(Integer.MAX_VALUE);
    private volatile boolean closed;
    private int cursor;

    @SuppressWarnings("unchecked")
    private Epoch(long epoch, int first) {
      this.epoch = epoch;
      this.order = order(epoch);
      this.batches = numBatches();
      this.slots = new CompletableFuture[batches];
      for (int k = first; k < batches; k++) slots[k] = new CompletableFuture<>();
      this.permits = new Semaphore(prefetch);
      this.cursor = first;
      this.nextToStart.set(first);
    }

    private void start() {
      int n = Math.min(workers, batches - cursor);
      for (int w = 0; w < n; w++) {
        Thread t = new Thread(this::work, "mergetune-loader-" + loaderNumber + "-" + (w + 1));
        t.setDaemon(true);
        threads.add(t);
      }
      for (Thread t : threads) t.start();
    }

    /** The epoch number. */
    public long epoch() {
      return epoch;
    }

    /** The number of batches of this epoch. */
    public int batches() {
      return batches;
    }

    /** The number of the next batch to be handed out (how many were handed out, counting from batch 0). */
    public int taken() {
      return cursor;
    }

    @Override
    public boolean hasNext() {
      return !closed && cursor < batches;
    }

    /** The next batch, waiting for its workers if need be. */
    @Override
    public LoadedBatch next() {
      if (closed) throw new IllegalStateException("epoch " + epoch + " is closed");
      if (cursor >= batches) throw new NoSuchElementException("epoch " + epoch + " has " + batches + " batches");
      int k = cursor;
      LoadedBatch batch;
      if (workers == 0) {
        try {
          batch = build(k);
        } catch (ImageDecodeException e) {
          close();
          throw e;
        }
      } else {
        CompletableFuture<LoadedBatch> slot = slots[k];
        if (slot == null) throw new IllegalStateException("epoch " + epoch + " was closed");
        try {
          batch = slot.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for batch " + k + " of epoch " + epoch, e);
        } catch (CancellationException e) {
          throw new IllegalStateException("epoch " + epoch + " was closed", e);
        } catch (ExecutionException e) {
          close();
          if (e.getCause() instanceof ImageDecodeException d) {
            throw new ImageDecodeException(d.file(), stripPath(d), d);  // thrown again here, for this stack
          }
          throw new IllegalStateException("batch " + k + " of epoch " + epoch + " failed: " + e.getCause(),
              e.getCause());
        } finally {
          slots[k] = null;
        }
        permits.release();
      }
      cursor++;
      if (cursor == batches) close();
      return batch;
    }

    private void work() {
      try {
        while (!closed) {
          permits.acquire();
          int k = nextToStart.getAndIncrement();
          if (k >= batches || k > stopAfter.get() || closed) {
            permits.release();
            return;
          }
          try {
            LoadedBatch b = build(k);
            if (b == null) return;  // closed while building
            slots[k].complete(b);
          } catch (RuntimeException | Error e) {
            stopAfter.accumulateAndGet(k, Math::min);
            slots[k].completeExceptionally(e);
          }
        }
      } catch (InterruptedException e) {
        // closing
      }
    }

    /** Batch k, or null if the epoch was closed meanwhile (workers only). */
    private LoadedBatch build(int k) {
      int start = k * batchSize;
      int count = Math.min(batchSize, order.length - start);
      int floats = transform.floatsPerImage();
      float[] images = new float[Math.multiplyExact(count, floats)];
      int[] labels = new int[count];
      int[] indices = new int[count];
      List<Sample> samples = dataset.samples();
      for (int i = 0; i < count; i++) {
        if (closed) return null;
        int index = order[start + i];
        Sample s = samples.get(index);
        Path file = s.image();
        String where = " (sample " + index + " of " + dataset.name() + ", batch " + k + " of epoch " + epoch + ")";
        PilImage image;
        try {
          image = ImageDecoder.read(file);
        } catch (ImageDecodeException e) {
          throw new ImageDecodeException(file, stripPath(e) + where, e);
        } catch (RuntimeException e) {
          throw new ImageDecodeException(file, "could not be read" + where + ": " + e, e);
        }
        try {
          transform.apply(image, epoch, index, images, i * floats);
        } catch (RuntimeException e) {
          throw new ImageDecodeException(file, "preprocessing failed" + where + ": " + e, e);
        }
        labels[i] = s.label();
        indices[i] = index;
      }
      return new LoadedBatch(epoch, k, transform.size(), images, labels, indices);
    }

    /**
     * Stops the workers, waits until all of them have ended, and drops the batches not yet taken. Idempotent;
     * {@link #next()} throws afterwards.
     */
    @Override
    public void close() {
      synchronized (this) {
        if (closed) return;
        closed = true;
      }
      for (Thread t : threads) t.interrupt();
      boolean interrupted = false;
      for (Thread t : threads) {
        while (t.isAlive()) {
          try {
            t.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      for (int k = 0; k < batches; k++) {
        CompletableFuture<LoadedBatch> f = slots[k];
        if (f != null) f.cancel(false);
        slots[k] = null;
      }
      forget(this);
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /** An exception's message without the "path: " prefix that ImageDecodeException puts in front. */
  private static String stripPath(ImageDecodeException e) {
    String message = e.getMessage();
    String prefix = e.file() + ": ";
    return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
  }
}
