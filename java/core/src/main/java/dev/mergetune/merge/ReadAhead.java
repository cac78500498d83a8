package dev.mergetune.merge;

import dev.mergetune.tensors.Checkpoint;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads the merge's tensors ahead of the kernel on an I/O thread: for each job in order, every input's bytes of
 * one tensor (read, and hashed where the input hashes while it is read, by a pool of one reader per CPU
 * (system property {@code mergetune.merge.readers} overrides), each input
 * by one reader at a time, so every file is still read in order) go into a slot of reused direct buffers (explicit positioned reads, {@link Checkpoint#read}: no mapping,
 * so a file truncated by another process is an exception naming it, never a SIGBUS in native code). Two slots: the
 * kernel works on one while the thread fills the other. Memory: 2 × inputs × the largest tensor, in
 * {@link NativeBuffers} the caller frees once the thread is stopped.
 *
 * <p>The thread's failure is rethrown, as it was thrown, by the {@link #take} that would have seen its tensor.
 */
final class ReadAhead implements AutoCloseable {
  /** One tensor to read: from every input, or from the reference (input 0) alone. */
  record Job(String tensor, boolean allInputs) {}

  /** One tensor's raw bytes per input (null where not read), position 0, limit its byte length. */
  static final class Slot {
    final ByteBuffer[] raw;
    Job job;

    Slot(int inputs) {
      raw = new ByteBuffer[inputs];
    }
  }

  private static final int SLOTS = 2;
  private static final Slot END = new Slot(0);

  private final List<Checkpoint> inputs;
  private final List<Job> jobs;
  private final BlockingQueue<Slot> free = new ArrayBlockingQueue<>(SLOTS);
  private final BlockingQueue<Slot> full = new ArrayBlockingQueue<>(SLOTS + 1);
  private final Thread thread;
  private final ExecutorService readers;
  private final ReadListener listener;
  private volatile Throwable failure;
  private volatile boolean closing;

  /** Told of every tensor read, on the I/O thread (the merge's progress). */
  interface ReadListener {
    void read(Job job, long bytes);
  }

  /** @param capacity per input, the largest byte length any job reads from it */
  ReadAhead(List<Checkpoint> inputs, List<Job> jobs, long[] capacity, NativeBuffers memory, ReadListener listener) {
    this.inputs = inputs;
    this.jobs = jobs;
    this.listener = listener;
    for (int s = 0; s < SLOTS; s++) {
      Slot slot = new Slot(inputs.size());
      for (int i = 0; i < inputs.size(); i++) {
        if (capacity[i] > 0) slot.raw[i] = memory.allocate(capacity[i]);
      }
      free.add(slot);
    }
    int threads = Math.max(1, Math.min(inputs.size(), Integer.getInteger("mergetune.merge.readers",
        Runtime.getRuntime().availableProcessors())));
    readers = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "mergetune-reader");
      t.setDaemon(true);
      return t;
    });
    thread = new Thread(this::run, "mergetune-read-ahead");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      for (Job job : jobs) {
        Slot slot = free.take();
        if (closing) return;
        slot.job = job;
        int n = job.allInputs() ? inputs.size() : 1;
        List<Callable<Long>> reads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          final int input = i;
          reads.add(() -> {
            Checkpoint c = inputs.get(input);
            int length = (int) c.tensors().get(job.tensor()).byteLength();
            c.read(job.tensor(), slot.raw[input].clear().limit(length));
            return (long) length;
          });
        }
        long bytes = 0;
        if (n == 1) {
          bytes = reads.get(0).call();
        } else {
          for (Future<Long> f : readers.invokeAll(reads)) {
            try {
              bytes += f.get();
            } catch (ExecutionException e) {
              throw e.getCause();
            }
          }
        }
        listener.read(job, bytes);
        full.put(slot);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      readers.shutdownNow();
      full.offer(END);
    }
  }

  /** The next job's bytes; rethrows the I/O thread's failure. */
  Slot take() {
    Slot s;
    try {
      s = full.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the inputs", e);
    }
    if (s == END) rethrow(failure);
    return s;
  }

  /** Hands a slot back for the next read. */
  void recycle(Slot s) {
    free.add(s);
  }

  /** Stops the thread (when the merge ends early); the buffers belong to the caller's {@link NativeBuffers}. */
  @Override
  public void close() {
    closing = true;
    thread.interrupt();
    readers.shutdownNow();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void rethrow(Throwable t) {
    if (t instanceof RuntimeException r) throw r;
    if (t instanceof Error e) throw e;
    throw new IllegalStateException(t);
  }
}
