package dev.mergetune.condu;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The directory fsync that makes the store's renames durable (checksums: {@link dev.mergetune.merge.InputHashes}). */
final class DirectorySync {
  private DirectorySync() {}

  /**
   * Forces a directory's entries to disk, so that a rename done before is durable before the next step relies on it
   * (Linux allows fsync on a directory opened read-only; elsewhere this is best effort).
   */
  static void force(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // not supported on this platform: the renames are still atomic, only their durability order is weaker
    }
  }
}
