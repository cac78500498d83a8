package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.Arrays;
import org.bytedeco.javacpp.IntPointer;

/**
 * Bit-packed per-task masks for a segment layout (the ConDU triggers' M^t): for each task, each segment of n
 * elements holds ceil(n / 32) uint32 words, bit k of word w being element 32·w + k. One allocation per task, in
 * host memory or CUDA device memory. Closing frees it.
 */
public final class TaskMasks implements AutoCloseable {
  private final DeviceKind device;
  private final long[] lengths;
  private final long[] wordOffsets;  // per segment, in words, inside a task's block
  private final long wordsPerTask;
  private final long[] taskBase;     // address of each task's block
  private final IntPointer[] hostBlocks;
  private boolean closed;

  public TaskMasks(DeviceKind device, long[] lengths, int tasks) {
    if (tasks < 1) throw new IllegalArgumentException("masks need at least one task, got " + tasks);
    NativeRuntime.ensureLoaded();
    this.device = device;
    this.lengths = lengths.clone();
    this.wordOffsets = new long[lengths.length];
    long words = 0;
    for (int s = 0; s < lengths.length; s++) {
      if (lengths[s] < 0) throw new IllegalArgumentException("segment " + s + " has negative length " + lengths[s]);
      wordOffsets[s] = words;
      words += wordsFor(lengths[s]);
    }
    this.wordsPerTask = words;
    this.taskBase = new long[tasks];
    this.hostBlocks = new IntPointer[tasks];
    for (int t = 0; t < tasks; t++) {
      long bytes = Math.max(1, words) * 4;
      if (device == DeviceKind.CPU) {
        hostBlocks[t] = new IntPointer(Math.max(1, words));
        hostBlocks[t].fill(0);
        taskBase[t] = hostBlocks[t].address();
      } else {
        long[] ptr = new long[1];
        Status.check(MergetuneNative.mt_cuda_malloc(bytes, ptr), "allocating task masks on the GPU");
        taskBase[t] = ptr[0];
      }
    }
  }

  public static long wordsFor(long elements) {
    return (elements + 31) / 32;
  }

  public DeviceKind device() {
    return device;
  }

  public int tasks() {
    return taskBase.length;
  }

  public long[] lengths() {
    return lengths.clone();
  }

  /** Bytes one task's masks occupy (the storage cost per task). */
  public long bytesPerTask() {
    return wordsPerTask * 4;
  }

  /** Segment addresses of one task's masks, as the kernels take them. */
  long[] taskTable(int task) {
    checkOpen();
    long[] table = new long[lengths.length];
    for (int s = 0; s < lengths.length; s++) table[s] = taskBase[task] + wordOffsets[s] * 4;
    return table;
  }

  /** Task-major table of every task's segments (unify writes all of them). */
  long[] allTasksTable() {
    long[] table = new long[taskBase.length * lengths.length];
    for (int t = 0; t < taskBase.length; t++) System.arraycopy(taskTable(t), 0, table, t * lengths.length, lengths.length);
    return table;
  }

  /** One task's mask bits of one segment, copied to the JVM (for tests, inspection and storage). */
  public int[] words(int task, int segment) {
    checkOpen();
    int[] out = new int[(int) wordsFor(lengths[segment])];
    long address = taskBase[task] + wordOffsets[segment] * 4;
    if (out.length == 0) return out;
    if (device == DeviceKind.CPU) {
      new IntPointer(hostBlocks[task]).position(wordOffsets[segment]).get(out);
    } else {
      try (IntPointer staging = new IntPointer(out.length)) {
        Status.check(MergetuneNative.mt_cuda_memcpy(staging.address(), address, out.length * 4L,
            MergetuneNative.MT_COPY_DEVICE_TO_HOST), "copying masks to the host");
        staging.get(out);
      }
    }
    return out;
  }

  /** Overwrites one task's mask bits of one segment with {@code words} (as {@link #words} returns them). */
  public void setWords(int task, int segment, int[] words) {
    checkOpen();
    int expected = (int) wordsFor(lengths[segment]);
    if (words.length != expected) {
      throw new IllegalArgumentException("segment " + segment + " needs " + expected + " mask words, got " + words.length);
    }
    if (expected == 0) return;
    long address = taskBase[task] + wordOffsets[segment] * 4;
    if (device == DeviceKind.CPU) {
      new IntPointer(hostBlocks[task]).position(wordOffsets[segment]).put(words);
    } else {
      try (IntPointer staging = new IntPointer(words)) {
        Status.check(MergetuneNative.mt_cuda_memcpy(address, staging.address(), expected * 4L,
            MergetuneNative.MT_COPY_HOST_TO_DEVICE), "copying masks to the GPU");
      }
    }
  }

  /** Whether element j of a segment is set for a task. */
  public boolean get(int task, int segment, long element) {
    if (element < 0 || element >= lengths[segment]) {
      throw new IndexOutOfBoundsException("element " + element + " of a " + lengths[segment] + "-element segment");
    }
    int[] w = words(task, segment);
    return (w[(int) (element >>> 5)] >>> (element & 31) & 1) != 0;
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("task masks are closed");
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (int t = 0; t < taskBase.length; t++) {
      if (hostBlocks[t] != null) hostBlocks[t].close();
      else MergetuneNative.mt_cuda_free(taskBase[t]);
    }
    Arrays.fill(taskBase, 0);
  }
}
