package dev.mergetune.tensors;

import dev.mergetune.io.IoErrors;
import dev.mergetune.io.TempFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a file so that readers see either the old file or the complete new one, never a half-written one: the
 * content goes to a temporary file in the same directory, is forced to disk, and is renamed over the target in one
 * atomic step. On any failure the temporary file is removed and the target is left as it was; a temporary left by a
 * killed process is removed by the next write to the same target ({@link TempFiles}).
 */
public final class AtomicFiles {
  /** Writes the content of a file through an open channel positioned at 0. */
  @FunctionalInterface
  public interface Content {
    void writeTo(FileChannel channel) throws IOException;
  }

  private AtomicFiles() {}

  public static void write(Path target, Content content) throws IOException {
    Path tmp = temporaryFor(target);
    boolean done = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        content.writeTo(ch);
        ch.force(true);
      }
      commit(tmp, target);
      done = true;
    } catch (IOException e) {
      // one line naming the destination and the operation ("writing out.safetensors: Bad address")
      String m = String.valueOf(e.getMessage());
      throw m.contains(target.getFileName().toString()) ? e : new IOException("writing " + target + ": " + IoErrors.oneLine(e), e);
    } finally {
      if (!done) Files.deleteIfExists(tmp);
    }
  }

  /** Writes {@code bytes} as the whole content of {@code target}, atomically. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(target, ch -> {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) ch.write(b);
    });
  }

  /** Writes {@code text} as UTF-8, atomically. */
  public static void writeString(Path target, String text) throws IOException {
    write(target, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * A new empty temporary file beside {@code target} (same file system, so the final rename is atomic), named by
   * {@link TempFiles}' rule; stale temporaries of {@code target} left by killed processes are swept first.
   */
  static Path temporaryFor(Path target) throws IOException {
    Path tmp = TempFiles.create(target);
    try {
      // an output file should read like any other file the user writes, whatever the umask made the temporary
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException notPosix) {
      // keep the defaults
    }
    return tmp;
  }

  /** Renames a complete temporary file over {@code target} in one atomic step. */
  static void commit(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot replace " + target + " atomically on this file system", e);
    }
  }
}
