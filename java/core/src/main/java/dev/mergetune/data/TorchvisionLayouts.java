package dev.mergetune.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The folder layouts of torchvision's dataset classes that ZSCL and ConDU read (pytorch/vision
 * {@code torchvision/datasets/*.py}), each under a torchvision root folder. Every reader gives torchvision's sample
 * order and labels, and torchvision's class names where they come from files on disk; where torchvision's names are
 * written in its code, the caller passes the names. Paths are those of torchvision's download layout:
 *
 * <ul>
 *   <li>Caltech101: {@code caltech101/101_ObjectCategories/<category>/image_NNNN.jpg}
 *   <li>DTD: {@code dtd/dtd/{images,labels}} (also accepted: {@code dtd/{images,labels}})
 *   <li>EuroSAT: {@code eurosat/2750/<class>/}
 *   <li>Flowers102: {@code flowers-102/{jpg/, imagelabels.mat, setid.mat}}
 *   <li>Food101: {@code food-101/{images/, meta/train.json, meta/test.json}}
 *   <li>OxfordIIITPet: {@code oxford-iiit-pet/{images/, annotations/trainval.txt, annotations/test.txt}}
 *   <li>StanfordCars: {@code stanford_cars/{cars_train/, cars_test/, devkit/cars_meta.mat,
 *       devkit/cars_train_annos.mat, cars_test_annos_withlabels.mat}}
 *   <li>SUN397: {@code SUN397/{ClassName.txt, a/abbey/sun_*.jpg, ...}}
 *   <li>FGVCAircraft: {@code fgvc-aircraft-2013b/data/} ({@link AircraftVariants})
 * </ul>
 */
final class TorchvisionLayouts {
  private TorchvisionLayouts() {}

  /** Samples with their class names (torchvision's {@code classes}). */
  record Labelled(List<Sample> samples, List<String> classes) {}

  /**
   * torchvision's {@code Caltech101} (target "category"): categories = the sorted entries of
   * {@code 101_ObjectCategories} without {@code BACKGROUND_Google}; category {@code i} has images
   * {@code image_0001.jpg .. image_<n>.jpg}, {@code n} being the number of entries in its folder (torchvision counts,
   * it does not list, so a stray file there names an image that does not exist).
   */
  static Labelled caltech101(Path root) {
    Path dir = Listing.requireDirectory(root.resolve("caltech101").resolve("101_ObjectCategories"),
        "Caltech101 folder (caltech101/101_ObjectCategories)");
    List<String> categories = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    for (Path p : Listing.entries(dir)) {
      String name = p.getFileName().toString();
      if (name.equals("BACKGROUND_Google")) continue;
      if (!Files.isDirectory(p)) throw DatasetException.at(p, "not a category folder (torchvision would take it for one)");
      int label = categories.size();
      categories.add(name);
      int n = Listing.entries(p).size();
      for (int i = 1; i <= n; i++) samples.add(new Sample(p.resolve(String.format("image_%04d.jpg", i)), label));
    }
    return new Labelled(samples, categories);
  }

  /** torchvision's {@code DTD(split, partition)}: {@code labels/<split><partition>.txt}, classes = its sorted folders. */
  static Labelled dtd(Path root, String split, int partition) {
    Path base = root.resolve("dtd").resolve("dtd");
    if (!Files.isDirectory(base.resolve("labels")) && Files.isDirectory(root.resolve("dtd").resolve("labels"))) {
      base = root.resolve("dtd");
    }
    Path file = Listing.requireFile(base.resolve("labels").resolve(split + partition + ".txt"), "DTD split file");
    List<String> classOf = new ArrayList<>();
    List<Path> images = new ArrayList<>();
    List<String> lines = AircraftVariants.lines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) continue;
      String[] parts = line.split("/", -1);
      if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
        throw DatasetException.at(file, i + 1, "expected '<class>/<image>'");
      }
      classOf.add(parts[0]);
      images.add(base.resolve("images").resolve(parts[0]).resolve(parts[1]));
    }
    TreeSet<String> sorted = new TreeSet<>(Listing.CODE_POINT_ORDER);
    sorted.addAll(classOf);
    List<String> classes = new ArrayList<>(sorted);
    Map<String, Integer> index = indexOf(classes);
    List<Sample> samples = new ArrayList<>(images.size());
    for (int i = 0; i < images.size(); i++) samples.add(new Sample(images.get(i), index.get(classOf.get(i))));
    return new Labelled(samples, classes);
  }

  /** torchvision's {@code EuroSAT}: an {@code ImageFolder} of {@code eurosat/2750}, hidden entries included as there. */
  static Labelled eurosat(Path root) {
    Path dir = Listing.requireDirectory(root.resolve("eurosat").resolve("2750"), "EuroSAT folder (eurosat/2750)");
    Dataset d = ImageFolderSource.read(dir, "EuroSAT", true);
    return new Labelled(d.samples(), d.classNames());
  }

  /**
   * torchvision's {@code Flowers102(split)}: the image ids of {@code setid.mat} ({@code trnid}, {@code valid},
   * {@code tstid}) in file order, labels {@code imagelabels.mat}'s {@code labels - 1}, images {@code jpg/image_NNNNN.jpg}.
   * The class names are not on disk (torchvision writes them in its code); they are given.
   */
  static Labelled flowers102(Path root, String split, List<String> classNames) {
    Path base = Listing.requireDirectory(root.resolve("flowers-102"), "Flowers102 folder (flowers-102)");
    String key = switch (split) {
      case "train" -> "trnid";
      case "val" -> "valid";
      case "test" -> "tstid";
      default -> throw new IllegalArgumentException("Flowers102 split " + split);
    };
    Path setid = base.resolve("setid.mat"), labelsFile = base.resolve("imagelabels.mat");
    long[] ids = numeric(setid, key);
    long[] labels = numeric(labelsFile, "labels");
    List<Sample> samples = new ArrayList<>(ids.length);
    for (long id : ids) {
      if (id < 1 || id > labels.length) {
        throw DatasetException.at(setid, key + " has image id " + id + " but imagelabels.mat labels " + labels.length + " images");
      }
      long label = labels[(int) id - 1] - 1;
      if (label < 0 || label >= classNames.size()) {
        throw DatasetException.at(labelsFile, "image " + id + " has label " + (label + 1) + ", outside 1.." + classNames.size());
      }
      samples.add(new Sample(base.resolve("jpg").resolve(String.format("image_%05d.jpg", id)), (int) label));
    }
    return new Labelled(samples, classNames);
  }

  /** torchvision's {@code Food101(split)}: {@code meta/<split>.json}, classes its sorted keys, samples in file order. */
  static Labelled food101(Path root, String split) {
    Path base = Listing.requireDirectory(root.resolve("food-101"), "Food101 folder (food-101)");
    Path file = Listing.requireFile(base.resolve("meta").resolve(split + ".json"), "Food101 split file");
    Map<String, List<String>> meta = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(file); JsonParser p = new JsonFactory().createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) throw DatasetException.at(file, 1, "expected a JSON object");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String cls = p.currentName();
        long line = p.currentTokenLocation().getLineNr();
        if (p.nextToken() != JsonToken.START_ARRAY) throw DatasetException.at(file, line, "'" + cls + "' must map to a list");
        List<String> items = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
          if (t != JsonToken.VALUE_STRING) {
            throw DatasetException.at(file, p.currentTokenLocation().getLineNr(), "an image of '" + cls + "' must be a string");
          }
          items.add(p.getText());
        }
        if (meta.put(cls, items) != null) throw DatasetException.at(file, line, "class '" + cls + "' appears twice");
      }
    } catch (JsonProcessingException e) {
      throw DatasetException.at(file, e.getLocation() == null ? 0 : e.getLocation().getLineNr(),
          "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
    }
    List<String> classes = new ArrayList<>(meta.keySet());
    classes.sort(Listing.CODE_POINT_ORDER);
    Map<String, Integer> index = indexOf(classes);
    List<Sample> samples = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : meta.entrySet()) {
      for (String rel : e.getValue()) {
        Path p = base.resolve("images");
        for (String part : (rel + ".jpg").split("/")) p = p.resolve(part);
        samples.add(new Sample(p, index.get(e.getKey())));
      }
    }
    return new Labelled(samples, classes);
  }

  /**
   * torchvision's {@code OxfordIIITPet(split)} (target "category"): {@code annotations/<split>.txt} lines
   * {@code <image id> <class id> <species> <breed id>}, label = class id - 1, image {@code images/<image id>.jpg};
   * class {@code i}'s name is its image ids' prefix before the last '_', each '_'-separated part title-cased as
   * Python's {@code str.title} does, joined by spaces ("american_bulldog" becomes "American Bulldog").
   */
  static Labelled oxfordPet(Path root, String split) {
    Path base = Listing.requireDirectory(root.resolve("oxford-iiit-pet"), "Oxford-IIIT Pet folder (oxford-iiit-pet)");
    Path file = Listing.requireFile(base.resolve("annotations").resolve(split + ".txt"), "Oxford-IIIT Pet split file");
    List<Sample> samples = new ArrayList<>();
    Map<Integer, String> raw = new TreeMap<>();
    List<String> lines = AircraftVariants.lines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) continue;
      String[] f = line.split("\\s+");
      if (f.length != 4) throw DatasetException.at(file, i + 1, "expected '<image id> <class id> <species> <breed id>'");
      int label;
      try {
        label = Integer.parseInt(f[1]) - 1;
      } catch (NumberFormatException e) {
        throw DatasetException.at(file, i + 1, "class id '" + f[1] + "' is not an integer");
      }
      if (label < 0) throw DatasetException.at(file, i + 1, "class id " + f[1] + " (they start at 1)");
      int us = f[0].lastIndexOf('_');
      String cls = us < 0 ? f[0] : f[0].substring(0, us);
      String prev = raw.putIfAbsent(label, cls);
      if (prev != null && !prev.equals(cls)) {
        throw DatasetException.at(file, i + 1, "class id " + f[1] + " is '" + cls + "' here and '" + prev + "' before");
      }
      samples.add(new Sample(base.resolve("images").resolve(f[0] + ".jpg"), label));
    }
    List<String> classes = new ArrayList<>();
    for (Map.Entry<Integer, String> e : raw.entrySet()) {
      if (e.getKey() != classes.size()) throw DatasetException.at(file, "no image of class id " + (classes.size() + 1));
      StringBuilder name = new StringBuilder();
      for (String part : e.getValue().split("_", -1)) name.append(name.length() == 0 ? "" : " ").append(pythonTitle(part));
      classes.add(name.toString());
    }
    return new Labelled(samples, classes);
  }

  /**
   * torchvision's {@code StanfordCars(split)}: the {@code annotations} struct array of
   * {@code devkit/cars_train_annos.mat} or {@code cars_test_annos_withlabels.mat} ({@code fname}, {@code class} from
   * 1), images in {@code cars_train/} or {@code cars_test/}; classes {@code devkit/cars_meta.mat}'s {@code class_names}.
   */
  static Labelled stanfordCars(Path root, String split) {
    Path base = Listing.requireDirectory(root.resolve("stanford_cars"), "Stanford Cars folder (stanford_cars)");
    Path devkit = Listing.requireDirectory(base.resolve("devkit"), "Stanford Cars devkit folder");
    boolean train = split.equals("train");
    Path annos = train ? devkit.resolve("cars_train_annos.mat") : base.resolve("cars_test_annos_withlabels.mat");
    Path images = base.resolve(train ? "cars_train" : "cars_test");
    Path metaFile = devkit.resolve("cars_meta.mat");
    MatFile.Value names = variable(metaFile, "class_names");
    List<String> classes = new ArrayList<>();
    if (!(names instanceof MatFile.Cell cell)) throw DatasetException.at(metaFile, "'class_names' is not a cell array");
    for (MatFile.Value v : cell.items()) {
      if (!(v instanceof MatFile.Chars c)) throw DatasetException.at(metaFile, "'class_names' holds a non-string");
      classes.add(c.string(metaFile, "a class name"));
    }
    MatFile.Value a = variable(annos, "annotations");
    if (!(a instanceof MatFile.Struct s) || !s.fields().contains("fname") || !s.fields().contains("class")) {
      throw DatasetException.at(annos, "'annotations' is not a struct array with fields fname and class");
    }
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < s.elements().size(); i++) {
      Map<String, MatFile.Value> e = s.elements().get(i);
      if (!(e.get("fname") instanceof MatFile.Chars fname)) throw DatasetException.at(annos, "annotation " + (i + 1) + ": fname is not text");
      if (!(e.get("class") instanceof MatFile.Numeric cls) || cls.values().length != 1) {
        throw DatasetException.at(annos, "annotation " + (i + 1) + ": class is not a number");
      }
      long label = cls.longs(annos, "annotation " + (i + 1) + "'s class")[0] - 1;
      if (label < 0 || label >= classes.size()) {
        throw DatasetException.at(annos, "annotation " + (i + 1) + " has class " + (label + 1) + ", outside 1.." + classes.size());
      }
      samples.add(new Sample(images.resolve(fname.string(annos, "fname")), (int) label));
    }
    return new Labelled(samples, classes);
  }

  /**
   * torchvision's {@code SUN397}: classes = the lines of {@code SUN397/ClassName.txt} without their first three
   * characters ("/a/abbey" gives "abbey"), images = every {@code sun_*.jpg} under {@code SUN397}, labelled by the folders
   * between the letter folder and the file. torchvision lists them with {@code Path.rglob}, whose order depends on the
   * file system; here they come in {@link Listing#walk} order (folders by path, files by name).
   */
  static Labelled sun397(Path root) {
    Path dir = Listing.requireDirectory(root.resolve("SUN397"), "SUN397 folder");
    Path file = Listing.requireFile(dir.resolve("ClassName.txt"), "SUN397 ClassName.txt");
    List<String> classes = new ArrayList<>();
    List<String> lines = AircraftVariants.lines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) continue;
      if (line.length() < 4) throw DatasetException.at(file, i + 1, "expected '/<letter>/<class>'");
      classes.add(line.substring(3).strip());
    }
    Map<String, Integer> index = indexOf(classes);
    List<Sample> samples = new ArrayList<>();
    for (Path p : Listing.walk(dir, true, n -> n.startsWith("sun_") && n.endsWith(".jpg"))) {
      Path rel = dir.relativize(p);
      if (rel.getNameCount() < 3) throw DatasetException.at(p, "a SUN397 image outside a class folder");
      String cls = rel.subpath(1, rel.getNameCount() - 1).toString().replace('\\', '/');
      Integer label = index.get(cls);
      if (label == null) throw DatasetException.at(p, "its class '" + cls + "' is not in " + file);
      samples.add(new Sample(p, label));
    }
    return new Labelled(samples, classes);
  }

  /** The integer values of a numeric variable of a MAT file. */
  static long[] numeric(Path file, String name) {
    MatFile.Value v = variable(file, name);
    if (!(v instanceof MatFile.Numeric n)) throw DatasetException.at(file, "'" + name + "' is not a numeric array");
    return n.longs(file, "'" + name + "'");
  }

  static MatFile.Value variable(Path file, String name) {
    MatFile.Value v = MatFile.read(file).get(name);
    if (v == null) throw DatasetException.at(file, "no variable '" + name + "'");
    return v;
  }

  /** Python's {@code str.title()}: a letter after a non-letter is title-cased, a letter after a letter lower-cased. */
  static String pythonTitle(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    boolean prevCased = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
      sb.appendCodePoint(cased ? (prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp)) : cp);
      prevCased = cased;
    }
    return sb.toString();
  }

  static Map<String, Integer> indexOf(List<String> names) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < names.size(); i++) index.putIfAbsent(names.get(i), i);
    return index;
  }
}
