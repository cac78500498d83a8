package dev.mergetune.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Directory listings in a fixed order: names compared by Unicode code point, which is how Python sorts {@code str}
 * ({@code sorted(os.listdir(...))}), so that "sorted folder names" means the same here as in the reference code on
 * every file system. {@link String#compareTo} differs from it only above U+FFFF.
 */
final class Listing {
  private Listing() {}

  /** Python's {@code str} order. */
  static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
    int i = 0, j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i), cb = b.codePointAt(j);
      if (ca != cb) return Integer.compare(ca, cb);
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  };

  static boolean hidden(Path p) {
    Path f = p.getFileName();
    return f != null && f.toString().startsWith(".");
  }

  /** The folder, or a {@link DatasetException} naming it (and what is wrong with it). */
  static Path requireDirectory(Path dir, String what) {
    if (!Files.exists(dir)) throw DatasetException.at(dir, what + " not found");
    if (!Files.isDirectory(dir)) throw DatasetException.at(dir, what + " is not a folder");
    return dir;
  }

  /** The file, or a {@link DatasetException} naming it. */
  static Path requireFile(Path file, String what) {
    if (!Files.exists(file)) throw DatasetException.at(file, what + " not found");
    if (!Files.isRegularFile(file)) throw DatasetException.at(file, what + " is not a file");
    return file;
  }

  /** Every entry of a folder (hidden ones too), in code-point order of their names. */
  static List<Path> entries(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) out.add(p);
    } catch (IOException e) {
      throw new DatasetException(dir + ": cannot list the folder: " + e.getMessage(), e);
    }
    out.sort((x, y) -> CODE_POINT_ORDER.compare(x.getFileName().toString(), y.getFileName().toString()));
    return out;
  }

  /** The sub-folders (symbolic links to folders included), sorted; hidden ones only if asked. */
  static List<Path> subfolders(Path dir, boolean includeHidden) {
    List<Path> out = new ArrayList<>();
    for (Path p : entries(dir)) if (Files.isDirectory(p) && (includeHidden || !hidden(p))) out.add(p);
    return out;
  }

  /** The regular files (links to files included), sorted; hidden ones only if asked. */
  static List<Path> files(Path dir, boolean includeHidden) {
    List<Path> out = new ArrayList<>();
    for (Path p : entries(dir)) if (Files.isRegularFile(p) && (includeHidden || !hidden(p))) out.add(p);
    return out;
  }

  /**
   * The files under {@code top} whose names pass {@code accept}, in the order of torchvision's
   * {@code for root, _, names in sorted(os.walk(top, followlinks=True)): for name in sorted(names)}: folders ordered by
   * their whole path (so {@code a b/} comes before {@code a/x/}), files by name within each folder. Linked folders are
   * followed; a link cycle is an error. Hidden files and folders are skipped unless asked for.
   */
  static List<Path> walk(Path top, boolean includeHidden, Predicate<String> accept) {
    List<String> folders = new ArrayList<>();
    collectFolders(top, "", includeHidden, folders, new HashSet<>());
    folders.sort(CODE_POINT_ORDER);
    List<Path> out = new ArrayList<>();
    for (String rel : folders) {
      Path dir = rel.isEmpty() ? top : top.resolve(rel);
      for (Path p : entries(dir)) {
        if (Files.isDirectory(p) || (!includeHidden && hidden(p))) continue;
        if (accept.test(p.getFileName().toString())) out.add(p);
      }
    }
    return out;
  }

  private static void collectFolders(Path dir, String rel, boolean includeHidden, List<String> out, Set<Path> onPath) {
    Path real;
    try {
      real = dir.toRealPath();
    } catch (IOException e) {
      throw new DatasetException(dir + ": cannot resolve the folder: " + e.getMessage(), e);
    }
    if (!onPath.add(real)) throw DatasetException.at(dir, "folder links form a cycle");
    out.add(rel);
    for (Path p : entries(dir)) {
      if (!Files.isDirectory(p) || (!includeHidden && hidden(p))) continue;
      String name = p.getFileName().toString();
      collectFolders(p, rel.isEmpty() ? name : rel + "/" + name, includeHidden, out, onPath);
    }
    onPath.remove(real);
  }
}
