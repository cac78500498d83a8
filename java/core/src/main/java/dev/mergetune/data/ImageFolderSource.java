package dev.mergetune.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A folder of class folders, read as torchvision's {@code ImageFolder} does: the classes are the sub-folders of the
 * root sorted by name (code-point order, as Python sorts), label {@code i} the {@code i}-th of them, the class name
 * the folder name; the images of a class are the files with one of {@link #IMAGE_EXTENSIONS} (case-insensitive)
 * anywhere under its folder.
 *
 * <ul>
 *   <li>Nested folders inside a class folder are walked, as torchvision's {@code os.walk(followlinks=True)} does: their
 *       images belong to the top-level class. Order: folders by their whole path, files by name within each folder.
 *       Files directly in the root are ignored.
 *   <li>Hidden entries (names starting with '.') are skipped by default, class folders and files alike; torchvision
 *       keeps them (a stray {@code .ipynb_checkpoints} folder becomes a class there). {@link #read(Path, String,
 *       boolean)} with {@code includeHidden} gives torchvision's behaviour exactly.
 *   <li>A class folder without any image is an error, as in torchvision (which raises "Found no valid file for the
 *       classes ...").
 * </ul>
 */
public final class ImageFolderSource {
  /** torchvision's {@code IMG_EXTENSIONS}. */
  public static final List<String> IMAGE_EXTENSIONS =
      List.of(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp");

  private ImageFolderSource() {}

  /** Reads {@code root} with hidden entries skipped; the dataset is named after the folder. */
  public static Dataset read(Path root) {
    Path f = root.toAbsolutePath().normalize().getFileName();
    return read(root, f == null ? root.toString() : f.toString(), false);
  }

  public static Dataset read(Path root, String name) {
    return read(root, name, false);
  }

  public static Dataset read(Path root, String name, boolean includeHidden) {
    Listing.requireDirectory(root, "image folder");
    List<Path> classDirs = Listing.subfolders(root, includeHidden);
    if (classDirs.isEmpty()) throw DatasetException.at(root, "no class folders in the image folder");
    List<String> names = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    List<String> empty = new ArrayList<>();
    for (int label = 0; label < classDirs.size(); label++) {
      Path dir = classDirs.get(label);
      names.add(dir.getFileName().toString());
      List<Path> images = Listing.walk(dir, includeHidden, ImageFolderSource::isImage);
      if (images.isEmpty()) empty.add(dir.getFileName().toString());
      for (Path p : images) samples.add(new Sample(p, label));
    }
    if (!empty.isEmpty()) {
      throw DatasetException.at(root, "no image in the class folders " + String.join(", ", empty)
          + " (extensions: " + String.join(" ", IMAGE_EXTENSIONS) + ")");
    }
    return Dataset.of(name, names, samples);
  }

  /** Whether the file name ends with one of {@link #IMAGE_EXTENSIONS}, ignoring case. */
  public static boolean isImage(String fileName) {
    String lower = fileName.toLowerCase(Locale.ROOT);
    for (String ext : IMAGE_EXTENSIONS) if (lower.endsWith(ext)) return true;
    return false;
  }
}
