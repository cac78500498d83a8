package dev.mergetune.merge;

import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.MappedBuffers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads the merge's tensors ahead of the kernel on one I/O thread: for each job in order, every input's bytes of
 * one tensor go into a slot of reused direct buffers (explicit positioned reads, {@link Checkpoint#read}: no mapping,
 * so a file truncated by another process is an exception naming it, never a SIGBUS in native code). Two slots: the
 * kernel works on one while the thread fills the other. Memory: 2 × inputs × the largest tensor.
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
  private final ReadListener listener;
  private volatile Throwable failure;
  private volatile boolean closing;

  /** Told of every tensor read, on the I/O thread (the merge's progress). */
  interface ReadListener {
    void read(Job job, long bytes);
  }

  /** @param capacity per input, the largest byte length any job reads from it */
  ReadAhead(List<Checkpoint> inputs, List<Job> jobs, long[] capacity, ReadListener listener) {
    this.inputs = inputs;
    this.jobs = jobs;
    this.listener = listener;
    for (int s = 0; s < SLOTS; s++) {
      Slot slot = new Slot(inputs.size());
      for (int i = 0; i < inputs.size(); i++) {
        if (capacity[i] > 0) slot.raw[i] = ByteBuffer.allocateDirect((int) capacity[i]).order(ByteOrder.LITTLE_ENDIAN);
      }
      free.add(slot);
    }
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
        long bytes = 0;
        for (int i = 0; i < slot.raw.length; i++) {
          if (i >= n) continue;
          Checkpoint c = inputs.get(i);
          int length = (int) c.tensors().get(job.tensor()).byteLength();
          ByteBuffer b = slot.raw[i].clear().limit(length);
          c.read(job.tensor(), b);
          bytes += length;
        }
        listener.read(job, bytes);
        full.put(slot);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
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

  /** Stops the thread (when the merge ends early) and frees the buffers. */
  @Override
  public void close() {
    closing = true;
    thread.interrupt();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Slot s : free) for (ByteBuffer b : s.raw) MappedBuffers.release(b);
    for (Slot s : full) for (ByteBuffer b : s.raw) MappedBuffers.release(b);
  }

  static void rethrow(Throwable t) {
    if (t instanceof RuntimeException r) throw r;
    if (t instanceof Error e) throw e;
    throw new IllegalStateException(t);
  }
}
