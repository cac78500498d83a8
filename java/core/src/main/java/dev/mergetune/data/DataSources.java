package dev.mergetune.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** A dataset named on a command line: an image folder, or a dataset config file whose split can be chosen. */
public final class DataSources {
  private DataSources() {}

  /**
   * The dataset at {@code path}: an image folder (class folders, sorted names = labels), or a dataset config
   * ({@link DatasetConfig}); for the coop and mtil layouts {@code split} (train, val, test), when not null, replaces
   * the config's own split.
   */
  public static Dataset load(Path path, String split) {
    if (Files.isDirectory(path)) return ImageFolderSource.read(path);
    DatasetConfig c = DatasetConfig.read(path);
    if (split != null && hasSplits(c)) c = new DatasetConfig(c.name(), c.layout(), c.root(), split, c.classes(), c.checkFiles());
    return c.load(path);
  }

  /** Whether {@code path} is a config of a layout with splits (coop, mtil); an image folder has none. */
  public static boolean hasSplit(Path path, String split) {
    if (Files.isDirectory(path)) return false;
    DatasetConfig c = DatasetConfig.read(path);
    return hasSplits(c) && (c.parsedLayout() == DatasetConfig.Layout.COOP || !split.equals("val"));
  }

  private static boolean hasSplits(DatasetConfig c) {
    return c.parsedLayout() == DatasetConfig.Layout.COOP || c.parsedLayout() == DatasetConfig.Layout.MTIL;
  }
}
