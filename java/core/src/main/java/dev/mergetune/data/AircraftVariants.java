package dev.mergetune.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FGVC-Aircraft's own annotation files, as both CoOp ({@code datasets/fgvc_aircraft.py}) and torchvision
 * ({@code FGVCAircraft}, annotation level "variant") read them: the classes are the lines of {@code variants.txt} (in
 * file order); {@code images_variant_<split>.txt} has one {@code <image id> <variant>} line per image, the image being
 * {@code images/<image id>.jpg}. Both references read the same files the same way, so the datasets equal theirs.
 */
public final class AircraftVariants {
  private AircraftVariants() {}

  /** The variant names, label order. */
  public static List<String> classes(Path dataDir) {
    Path file = Listing.requireFile(dataDir.resolve("variants.txt"), "FGVC-Aircraft variants.txt");
    List<String> out = new ArrayList<>();
    List<String> lines = lines(file);
    for (int i = 0; i < lines.size(); i++) {
      String v = lines.get(i).strip();
      if (v.isEmpty()) {
        if (lines.subList(i, lines.size()).stream().allMatch(String::isBlank)) break;
        throw DatasetException.at(file, i + 1, "empty variant name");
      }
      out.add(v);
    }
    return out;
  }

  /** The images of {@code images_variant_<split>.txt}, labelled by variant, in file order. */
  public static Dataset read(Path dataDir, String splitFile, String name, FileCheck check) {
    Listing.requireDirectory(dataDir, "FGVC-Aircraft data folder");
    List<String> classes = classes(dataDir);
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < classes.size(); i++) {
      if (index.put(classes.get(i), i) != null) {
        throw DatasetException.at(dataDir.resolve("variants.txt"), i + 1, "variant '" + classes.get(i) + "' listed twice");
      }
    }
    Path file = Listing.requireFile(dataDir.resolve(splitFile), "FGVC-Aircraft split file");
    Path images = dataDir.resolve("images");
    List<Sample> samples = new ArrayList<>();
    List<String> lines = lines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) continue;
      int space = line.indexOf(' ');
      if (space < 0) throw DatasetException.at(file, i + 1, "expected '<image id> <variant>'");
      String variant = line.substring(space + 1);
      Integer label = index.get(variant);
      if (label == null) throw DatasetException.at(file, i + 1, "unknown variant '" + variant + "' (not in variants.txt)");
      samples.add(new Sample(images.resolve(line.substring(0, space) + ".jpg"), label));
    }
    try {
      return check.apply(Dataset.of(name, classes, samples));
    } catch (DatasetException e) {
      throw DatasetException.at(file, e.getMessage());
    }
  }

  static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
    }
  }
}
