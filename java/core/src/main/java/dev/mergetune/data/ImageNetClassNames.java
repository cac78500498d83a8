package dev.mergetune.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CoOp's {@code classnames.txt} for ImageNet and its variants: one line per class, {@code <wnid> <class name>}, in
 * ImageNet label order (CoOp's {@code ImageNet.read_classnames}: the line is stripped and split at single spaces, the
 * first item is the folder name, the rest joined by spaces is the class name). The file is not ours to ship: CoOp
 * distributes it (copied from CLIP's notebook), and users put it next to the images. CLIP's names are not unique
 * ("missile" and "sunglasses" occur twice), so datasets built from them allow duplicate names.
 */
public final class ImageNetClassNames {
  private ImageNetClassNames() {}

  /** wnid → class name, in file order. */
  public static Map<String, String> read(Path file) {
    Listing.requireFile(file, "ImageNet class-names file (classnames.txt)");
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (i == 0 && line.startsWith("\uFEFF")) line = line.substring(1);
      if (line.isEmpty()) continue;
      int space = line.indexOf(' ');
      if (space < 0) throw DatasetException.at(file, i + 1, "expected '<folder> <class name>'");
      String wnid = line.substring(0, space);
      String name = line.substring(space + 1);
      if (name.isBlank()) throw DatasetException.at(file, i + 1, "empty class name");
      if (out.put(wnid, name) != null) throw DatasetException.at(file, i + 1, "folder " + wnid + " is listed twice");
    }
    if (out.isEmpty()) throw DatasetException.at(file, "no classes");
    return Collections.unmodifiableMap(out);
  }

  /** The class name of each folder, in the given folder order; a folder missing from the file is an error. */
  static List<String> namesOf(Path file, Map<String, String> names, List<Path> folders) {
    List<String> out = new ArrayList<>(folders.size());
    for (Path f : folders) {
      String n = names.get(f.getFileName().toString());
      if (n == null) throw DatasetException.at(file, "no class name for the folder " + f);
      out.add(n);
    }
    return out;
  }
}
