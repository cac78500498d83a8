package dev.mergetune.merge;

import dev.mergetune.tensors.LockstepWriter;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Writes the merge's output tensors on a writer thread while the kernel computes the next one: two slots of reused
 * direct buffers (one per output file, sized for the largest tensor, in
 * {@link NativeBuffers} the caller frees once the thread is stopped) alternate between the kernel and the thread.
 * The thread's failure is rethrown by the next {@link #acquire} or by {@link #finish}.
 */
final class WriteBehind implements AutoCloseable {
  private static final int SLOTS = 2;

  /** Output buffers of one tensor and its index in the layout. */
  static final class Slot {
    final ByteBuffer[] out;
    int index;

    Slot(int outputs, long capacity, NativeBuffers memory) {
      out = new ByteBuffer[outputs];
      for (int k = 0; k < outputs; k++) out[k] = memory.allocate(capacity);
    }
  }

  private static final Slot END = new Slot(0, 0, null);

  private final LockstepWriter writer;
  private final BlockingQueue<Slot> free = new ArrayBlockingQueue<>(SLOTS);
  private final BlockingQueue<Slot> queued = new ArrayBlockingQueue<>(SLOTS + 1);
  private final Thread thread;
  private volatile Throwable failure;

  WriteBehind(LockstepWriter writer, long capacity, NativeBuffers memory) {
    this.writer = writer;
    for (int s = 0; s < SLOTS; s++) free.add(new Slot(writer.files(), capacity, memory));
    thread = new Thread(this::run, "mergetune-write-behind");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      while (true) {
        Slot s = queued.take();
        if (s == END) return;
        writer.write(s.index, s.out);
        free.put(s);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      free.offer(END);
    }
  }

  /** Buffers for tensor {@code index}, each cleared and limited to {@code bytes}. */
  Slot acquire(int index, long bytes) {
    Slot s;
    try {
      s = free.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the writer", e);
    }
    if (s == END) ReadAhead.rethrow(failure);
    s.index = index;
    for (ByteBuffer b : s.out) b.clear().limit((int) bytes);
    return s;
  }

  /** Queues a filled slot (each buffer's position 0, limit the tensor's byte length) for writing. */
  void submit(Slot s) {
    for (ByteBuffer b : s.out) b.position(0);
    queued.add(s);
  }

  /** Waits until every queued tensor is written; rethrows the writer's failure. */
  void finish() {
    queued.add(END);
    join();
    if (failure != null) ReadAhead.rethrow(failure);
  }

  private void join() {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the writer", e);
    }
  }

  @Override
  public void close() {
    if (thread.isAlive()) {
      thread.interrupt();
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
