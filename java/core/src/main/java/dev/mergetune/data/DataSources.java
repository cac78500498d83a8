package dev.mergetune.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A dataset named on a command line: an image folder, a folder of split folders, or a dataset config file whose
 * split can be chosen.
 */
public final class DataSources {
  /** The split folder names of {@link #isSplitFolder}: the layout the world's datasets (and many exports) use. */
  public static final List<String> SPLITS = List.of("train", "val", "test");

  private DataSources() {}

  /**
   * The dataset at {@code path}:
   * <ul>
   *   <li>a folder of split folders ({@code train/}, {@code val/}, {@code test/}, each an image folder; see
   *       {@link #isSplitFolder}): the {@code split} folder, the test split when {@code split} is null (a command that
   *       evaluates), named {@code <folder>/<split>};</li>
   *   <li>an image folder (class folders, sorted names = labels);</li>
   *   <li>a dataset config ({@link DatasetConfig}); for the coop and mtil layouts {@code split} (train, val, test),
   *       when not null, replaces the config's own split.</li>
   * </ul>
   */
  public static Dataset load(Path path, String split) {
    if (isSplitFolder(path)) {
      String s = split != null ? split : "test";
      Path dir = path.resolve(s);
      if (!Files.isDirectory(dir)) {
        throw DatasetException.at(path, "no '" + s + "' folder among its split folders " + splitsIn(path));
      }
      Path f = path.toAbsolutePath().normalize().getFileName();
      return ImageFolderSource.read(dir, (f == null ? path.toString() : f.toString()) + "/" + s);
    }
    if (Files.isDirectory(path)) return ImageFolderSource.read(path);
    DatasetConfig c = DatasetConfig.read(path);
    if (split != null && hasSplits(c)) c = new DatasetConfig(c.name(), c.layout(), c.root(), split, c.classes(), c.checkFiles());
    return c.load(path);
  }

  /**
   * Whether {@code path} has the {@code split}: a folder of split folders holding it, or a config of a layout with
   * splits (coop; mtil has no val); a plain image folder has none.
   */
  public static boolean hasSplit(Path path, String split) {
    if (isSplitFolder(path)) return Files.isDirectory(path.resolve(split));
    if (Files.isDirectory(path)) return false;
    DatasetConfig c = DatasetConfig.read(path);
    return hasSplits(c) && (c.parsedLayout() == DatasetConfig.Layout.COOP || !split.equals("val"));
  }

  /**
   * Whether {@code path} is a folder whose subfolders (hidden ones aside) are all split names — train, val, test —
   * rather than classes: such a folder is never read as a dataset of classes called "train" and "test".
   */
  public static boolean isSplitFolder(Path path) {
    if (!Files.isDirectory(path)) return false;
    List<String> subs = splitsIn(path);
    return !subs.isEmpty() && SPLITS.containsAll(subs);
  }

  private static List<String> splitsIn(Path path) {
    return Listing.subfolders(path, false).stream().map(d -> d.getFileName().toString()).toList();
  }

  private static boolean hasSplits(DatasetConfig c) {
    return c.parsedLayout() == DatasetConfig.Layout.COOP || c.parsedLayout() == DatasetConfig.Layout.MTIL;
  }
}
