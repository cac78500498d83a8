package dev.mergetune.condu;

import dev.mergetune.kernels.TaskMasks;
import dev.mergetune.tensors.AtomicFiles;
import dev.mergetune.tensors.CheckpointFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One task's bit-packed masks as a headerless file: for each tensor in manifest order, ceil(n / 32) little-endian
 * uint32 words, bit k of word w being element 32·w + k (TaskMasks' own layout). The manifest gives the layout and
 * the checksum, so the file needs no header: it is ceil(n/8) bytes per tensor plus at most 3 bytes of padding.
 */
final class MaskFiles {
  private MaskFiles() {}

  static long bytesFor(long[] lengths) {
    long bytes = 0;
    for (long n : lengths) bytes += TaskMasks.wordsFor(n) * 4;
    return bytes;
  }

  static void write(Path target, TaskMasks masks, int task) throws IOException {
    long[] lengths = masks.lengths();
    long total = bytesFor(lengths);
    if (total > Integer.MAX_VALUE) throw new IOException(target + ": masks over 2 GiB per task are not supported");
    ByteBuffer b = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    for (int s = 0; s < lengths.length; s++) {
      for (int w : masks.words(task, s)) b.putInt(w);
    }
    b.flip();
    AtomicFiles.write(target, ch -> {
      while (b.hasRemaining()) ch.write(b);
    });
  }

  /** Reads a mask file into task {@code task} of {@code masks}, whose layout must match the file's size. */
  static void read(Path file, TaskMasks masks, int task) throws IOException {
    long[] lengths = masks.lengths();
    byte[] bytes = dev.mergetune.io.InputFiles.readAllBytes(file, bytesFor(lengths), "mask file");
    if (bytes.length != bytesFor(lengths)) {
      throw new CheckpointFormatException(file, "mask file is " + bytes.length + " bytes; the manifest's tensors need "
          + bytesFor(lengths));
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int s = 0; s < lengths.length; s++) {
      int[] words = new int[(int) TaskMasks.wordsFor(lengths[s])];
      for (int i = 0; i < words.length; i++) words[i] = b.getInt();
      masks.setWords(task, s, words);
    }
  }
}
