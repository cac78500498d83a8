package dev.mergetune.world;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A stand-in for the papers' data, made from the world's datasets and laid out exactly as the real ones are read
 * ({@code CoopDatasets}, {@code MtilDatasets}), so that {@code reproduce} runs every table on it:
 *
 * <table>
 *   <tr><th>layout</th><th>stand-in</th><th>from the world</th></tr>
 *   <tr><td>CoOp</td><td>Caltech101 ({@code caltech-101/101_ObjectCategories}, {@code split_zhou_Caltech101.json})</td><td>shapes</td></tr>
 *   <tr><td>CoOp</td><td>StanfordCars ({@code stanford_cars/}, {@code split_zhou_StanfordCars.json})</td><td>colours</td></tr>
 *   <tr><td>CoOp</td><td>SUN397 ({@code sun397/SUN397}, {@code split_zhou_SUN397.json})</td><td>textures</td></tr>
 *   <tr><td>CoOp</td><td>ImageNet ({@code imagenet/images/{train,val}/<id>}, {@code classnames.txt})</td><td>shapes</td></tr>
 *   <tr><td>CoOp</td><td>ImageNetV2, -Sketch, -A, -R</td><td>shapes-noise, -sketch, -noise, -palette</td></tr>
 *   <tr><td>MTIL</td><td>DTD ({@code dtd/dtd/images}, {@code labels/train1.txt}, {@code test1.txt})</td><td>textures</td></tr>
 *   <tr><td>MTIL</td><td>Food ({@code food-101/images}, {@code meta/train.json}, {@code test.json})</td><td>colours</td></tr>
 * </table>
 * The images are the world's PNGs, copied (a PNG named {@code .jpg} where the layout wants it: the readers tell the
 * format by content). A stand-in is data of the right shape, not of the right difficulty: its numbers say the tables
 * run, nothing about the papers' numbers.
 */
public final class StandIn {
  /** Written last: a folder holding it is a complete stand-in. */
  public static final String MARKER = "stand-in.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private StandIn() {}

  /** The CoOp-layout datasets the stand-in has (names as {@code CoopDatasets} knows them). */
  public static final List<String> COOP = List.of("ImageNet", "Caltech101", "StanfordCars", "SUN397", "ImageNetV2",
      "ImageNetSketch", "ImageNetA", "ImageNetR");
  /** The MTIL-layout datasets the stand-in has, in order I. */
  public static final List<String> MTIL = List.of("DTD", "Food");

  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve(MARKER));
  }

  /** Writes the stand-in under {@code dir} (created; it must hold no stand-in yet). */
  public static void write(World w, Path dir) throws IOException {
    if (exists(dir)) throw new IllegalArgumentException(dir + " already holds a stand-in (" + MARKER + ")");
    World.DatasetEntry shapes = w.dataset("shapes");
    splitFile(dir.resolve("caltech-101"), "101_ObjectCategories", "split_zhou_Caltech101.json", shapes, "");
    splitFile(dir.resolve("stanford_cars"), "", "split_zhou_StanfordCars.json", w.dataset("colours"), "cars_");
    splitFile(dir.resolve("sun397"), "SUN397", "split_zhou_SUN397.json", w.dataset("textures"), "");
    imageNet(dir.resolve("imagenet"), shapes);
    Map<String, Path> domains = new java.util.HashMap<>();
    for (World.DomainEntry d : w.domains()) domains.put(d.name(), d.test());
    List<String> ids = ids(shapes.classes());
    imageNetV2(dir.resolve("imagenetv2"), shapes.classes(), ids, domains.get("shapes-noise"));
    wnidFolders(dir.resolve("imagenet-sketch"), "images", shapes.classes(), ids, domains.get("shapes-sketch"));
    wnidFolders(dir.resolve("imagenet-adversarial"), "imagenet-a", shapes.classes(), ids, domains.get("shapes-noise"));
    wnidFolders(dir.resolve("imagenet-rendition"), "imagenet-r", shapes.classes(), ids, domains.get("shapes-palette"));
    dtd(dir.resolve("dtd").resolve("dtd"), w.dataset("textures"));
    food(dir.resolve("food-101"), w.dataset("colours"));
    ObjectNode marker = JSON.createObjectNode();
    marker.put("world", w.root().toAbsolutePath().toString());
    marker.put("world_sha256", w.sha256());
    marker.set("coop", JSON.valueToTree(COOP));
    marker.set("mtil", JSON.valueToTree(MTIL));
    AtomicFiles.writeString(dir.resolve(MARKER), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(marker) + "\n");
  }

  /** CoOp's split file layout: images under {@code imageDir}, {"train"|"val"|"test": [[path, label, name], ...]}. */
  private static void splitFile(Path folder, String imageDir, String file, World.DatasetEntry d, String prefix)
      throws IOException {
    Path images = imageDir.isEmpty() ? folder : folder.resolve(imageDir);
    ObjectNode split = JSON.createObjectNode();
    put(split, "train", d.train(), images, prefix + "train", d.classes());
    put(split, "val", d.val(), images, prefix + "val", d.classes());
    put(split, "test", d.test(), images, prefix + "test", d.classes());
    AtomicFiles.writeString(folder.resolve(file), split.toString());
  }

  private static void put(ObjectNode split, String key, Path from, Path images, String sub, List<String> classes)
      throws IOException {
    ArrayNode a = split.putArray(key);
    for (int label = 0; label < classes.size(); label++) {
      String c = classes.get(label);
      for (Path f : files(from.resolve(c))) {
        String rel = sub + "/" + c + "/" + f.getFileName();
        copy(f, images.resolve(rel));
        a.addArray().add(rel).add(label).add(c);
      }
    }
  }

  /** Folder ids in ImageNet's wnid style, one per class, in the classes' order. */
  private static List<String> ids(List<String> classes) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < classes.size(); i++) ids.add(String.format(Locale.ROOT, "n%08d", i + 1));
    return ids;
  }

  private static void imageNet(Path dir, World.DatasetEntry d) throws IOException {
    List<String> ids = ids(d.classes());
    classNames(dir, d.classes(), ids);
    for (int i = 0; i < ids.size(); i++) {
      copyAll(d.train().resolve(d.classes().get(i)), dir.resolve("images").resolve("train").resolve(ids.get(i)));
      copyAll(d.test().resolve(d.classes().get(i)), dir.resolve("images").resolve("val").resolve(ids.get(i)));
    }
  }

  private static void imageNetV2(Path dir, List<String> classes, List<String> ids, Path from) throws IOException {
    classNames(dir, classes, ids);
    for (int i = 0; i < ids.size(); i++) {
      copyAll(from.resolve(classes.get(i)), dir.resolve("imagenetv2-matched-frequency-format-val").resolve("" + i));
    }
  }

  private static void wnidFolders(Path dir, String imageDir, List<String> classes, List<String> ids, Path from)
      throws IOException {
    classNames(dir, classes, ids);
    for (int i = 0; i < ids.size(); i++) copyAll(from.resolve(classes.get(i)), dir.resolve(imageDir).resolve(ids.get(i)));
  }

  private static void classNames(Path dir, List<String> classes, List<String> ids) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < ids.size(); i++) b.append(ids.get(i)).append(' ').append(classes.get(i)).append('\n');
    Files.createDirectories(dir);
    AtomicFiles.writeString(dir.resolve("classnames.txt"), b.toString());
  }

  /** torchvision's DTD: images/<class>/<file>, labels/{train,test}1.txt of "<class>/<file>" lines. */
  private static void dtd(Path base, World.DatasetEntry d) throws IOException {
    for (String split : List.of("train", "test")) {
      StringBuilder lines = new StringBuilder();
      Path from = split.equals("train") ? d.train() : d.test();
      for (String c : d.classes()) {
        for (Path f : files(from.resolve(c))) {
          String name = split + "-" + f.getFileName();
          copy(f, base.resolve("images").resolve(c).resolve(name));
          lines.append(c).append('/').append(name).append('\n');
        }
      }
      Files.createDirectories(base.resolve("labels"));
      AtomicFiles.writeString(base.resolve("labels").resolve(split + "1.txt"), lines.toString());
    }
  }

  /** torchvision's Food101: images/<class>/<id>.jpg, meta/{train,test}.json = {class: ["<class>/<id>", ...]}. */
  private static void food(Path base, World.DatasetEntry d) throws IOException {
    for (String split : List.of("train", "test")) {
      ObjectNode meta = JSON.createObjectNode();
      Path from = split.equals("train") ? d.train() : d.test();
      for (String c : d.classes()) {
        ArrayNode a = meta.putArray(c);
        for (Path f : files(from.resolve(c))) {
          String id = split + "-" + f.getFileName().toString().replaceFirst("\\.png$", "");
          copy(f, base.resolve("images").resolve(c).resolve(id + ".jpg"));
          a.add(c + "/" + id);
        }
      }
      Files.createDirectories(base.resolve("meta"));
      AtomicFiles.writeString(base.resolve("meta").resolve(split + ".json"), meta.toString());
    }
  }

  private static void copyAll(Path from, Path to) throws IOException {
    for (Path f : files(from)) copy(f, to.resolve(f.getFileName()));
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** The image files of a folder, hidden ones aside, sorted by name. */
  private static List<Path> files(Path dir) throws IOException {
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted(java.util.Comparator.comparing(p -> p.getFileName().toString())).toList();
    }
  }
}
