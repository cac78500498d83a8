package dev.mergetune.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * The check every input file passes before it is opened: it must be a regular file (or a link to one). A FIFO would
 * block a reader forever, a device such as {@code /dev/zero} never ends, a directory is no file at all: each is
 * refused by name, before any open. The check looks at the file type only, so it costs one {@code stat}.
 */
public final class InputFiles {
  private InputFiles() {}

  /** Why {@code path} cannot be read as an input file ("no such file", "is a FIFO …"), or empty when it can. */
  public static Optional<String> problem(Path path) {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      return Optional.of("no such file");
    } catch (IOException e) {
      return Optional.of("cannot be inspected (" + e.getMessage() + ")");
    }
    if (a.isRegularFile()) return Optional.empty();
    if (a.isDirectory()) return Optional.of("cannot read: is a directory, not a file");
    return Optional.of("is " + kind(path) + ", not a regular file; inputs are read from regular files only");
  }

  /** Throws {@link InputFileException} naming {@code path} (a {@code what}, e.g. "checkpoint") unless it is readable. */
  public static Path require(Path path, String what) {
    Optional<String> p = problem(path);
    if (p.isPresent()) throw new InputFileException(path, path + ": " + p.get() + " (" + what + ")");
    return path;
  }

  /**
   * The whole file, after {@link #require} and a size check against {@code limit} bytes (both before any byte is
   * read): the bounded replacement for {@code Files.readAllBytes} on anything a user passes.
   */
  public static byte[] readAllBytes(Path path, long limit, String what) throws IOException {
    require(path, what);
    long size = Files.size(path);
    if (size > limit) {
      throw new InputFileException(path, what + " " + path + ": " + size + " bytes, more than the " + limit + " allowed");
    }
    byte[] b = Files.readAllBytes(path);
    if (b.length > limit) throw new InputFileException(path, what + " " + path + ": grew past " + limit + " bytes while read");
    return b;
  }

  private static String kind(Path path) {
    try {
      int mode = (Integer) Files.getAttribute(path, "unix:mode");
      return switch (mode & 0170000) {
        case 0010000 -> "a FIFO (named pipe)";
        case 0020000 -> "a character device";
        case 0060000 -> "a block device";
        case 0140000 -> "a socket";
        default -> "a special file";
      };
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
      return "a special file";
    }
  }
}
