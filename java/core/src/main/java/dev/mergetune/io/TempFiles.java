package dev.mergetune.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one naming rule for the temporary file of an atomic write, {@code .<name>.tmp-<pid>-<random>} beside the
 * destination {@code <name>}, and the sweep that goes with it: before each new temporary is made, the temporaries of
 * that destination whose process is gone (killed mid-write, say) are deleted, so none survives past the next write to
 * the same destination. A temporary of a live process (another writer, or this one) is never touched. A pid reused
 * by an unrelated live process keeps its stale temporary until that process ends too.
 */
public final class TempFiles {
  private static final Pattern TEMP = Pattern.compile("\\.(.+)\\.tmp-(\\d+)-[0-9a-z]+");
  private static final long PID = ProcessHandle.current().pid();

  private TempFiles() {}

  /** Sweeps {@code target}'s stale temporaries, then makes a new empty temporary file for it (same directory). */
  public static Path create(Path target) throws IOException {
    Path dir = parent(target);
    Files.createDirectories(dir);
    sweep(target);
    return Files.createFile(dir.resolve(nameFor(target)));
  }

  /** Like {@link #create}, a directory (for a destination that is a folder). */
  public static Path createDirectory(Path target) throws IOException {
    Path dir = parent(target);
    Files.createDirectories(dir);
    sweep(target);
    return Files.createDirectory(dir.resolve(nameFor(target)));
  }

  /** A fresh temporary name for {@code target} under the rule (not created). */
  public static String nameFor(Path target) {
    String random = Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    return "." + target.getFileName() + ".tmp-" + PID + "-" + random;
  }

  /** True for a name made by {@link #nameFor} (of any destination). */
  public static boolean isTemporary(String fileName) {
    return TEMP.matcher(fileName).matches();
  }

  /** Deletes {@code target}'s temporaries whose process no longer runs; returns how many were removed. */
  public static int sweep(Path target) throws IOException {
    Path dir = parent(target);
    if (!Files.isDirectory(dir)) return 0;
    String name = target.getFileName().toString();
    int removed = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "." + escapeGlob(name) + ".tmp-*")) {
      for (Path p : entries) {
        Matcher m = TEMP.matcher(p.getFileName().toString());
        if (!m.matches() || !m.group(1).equals(name)) continue;
        long pid;
        try {
          pid = Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid == PID || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
        deleteTree(p);
        removed++;
      }
    }
    return removed;
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.deleteIfExists(p);
      return;
    }
    try (Stream<Path> all = Files.walk(p)) {
      for (Path q : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(q);
    }
  }

  private static Path parent(Path target) {
    Path dir = target.toAbsolutePath().getParent();
    if (dir == null) throw new IllegalArgumentException(target + ": a destination needs a parent directory");
    return dir;
  }

  private static String escapeGlob(String s) {
    return s.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1");
  }
}
