package dev.mergetune.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The datasets of the CoOp suite in CoOp's on-disk layout (its {@code DATASETS.md}): one folder per dataset under a
 * data root, the images in a sub-folder, and the split file {@code split_zhou_<Name>.json} ({@link CoopSplitFile})
 * whose paths are relative to that sub-folder. Read from KaiyangZhou/CoOp {@code datasets/*.py} (commit ff61507):
 *
 * <table>
 *   <tr><th>name</th><th>folder</th><th>image sub-folder</th><th>split</th></tr>
 *   <tr><td>ImageNet</td><td>imagenet</td><td>images/train, images/val</td><td>none: {@link CoopImageNet}</td></tr>
 *   <tr><td>Caltech101</td><td>caltech-101</td><td>101_ObjectCategories</td><td>split_zhou_Caltech101.json</td></tr>
 *   <tr><td>OxfordPets</td><td>oxford_pets</td><td>images</td><td>split_zhou_OxfordPets.json</td></tr>
 *   <tr><td>StanfordCars</td><td>stanford_cars</td><td>(the folder itself: paths start cars_train/, cars_test/)</td>
 *       <td>split_zhou_StanfordCars.json</td></tr>
 *   <tr><td>Flowers102 (CoOp: OxfordFlowers)</td><td>oxford_flowers</td><td>jpg</td>
 *       <td>split_zhou_OxfordFlowers.json</td></tr>
 *   <tr><td>Food101</td><td>food-101</td><td>images</td><td>split_zhou_Food101.json</td></tr>
 *   <tr><td>FGVCAircraft</td><td>fgvc_aircraft</td><td>images</td><td>none: variants.txt and
 *       images_variant_{train,val,test}.txt ({@link AircraftVariants})</td></tr>
 *   <tr><td>SUN397</td><td>sun397</td><td>SUN397</td><td>split_zhou_SUN397.json</td></tr>
 *   <tr><td>DTD (CoOp: DescribableTextures)</td><td>dtd</td><td>images</td>
 *       <td>split_zhou_DescribableTextures.json</td></tr>
 *   <tr><td>EuroSAT</td><td>eurosat</td><td>2750</td><td>split_zhou_EuroSAT.json</td></tr>
 *   <tr><td>UCF101</td><td>ucf101</td><td>UCF-101-midframes</td><td>split_zhou_UCF101.json</td></tr>
 *   <tr><td>ImageNetV2, ImageNetSketch, ImageNetA, ImageNetR</td><td>imagenetv2, imagenet-sketch,
 *       imagenet-adversarial, imagenet-rendition</td><td>see {@link CoopImageNet}</td><td>test only</td></tr>
 * </table>
 *
 * Class names are those of the split file's entries (CoOp's code that wrote the files chose them: Caltech101 renames
 * airplanes/Faces/Leopards/Motorbikes to airplane/face/leopard/motorbike and drops BACKGROUND_Google and Faces_easy;
 * EuroSAT uses long names such as "Annual Crop Land"; OxfordPets lower-cases breeds; StanfordCars moves the year to
 * the front; SUN397 reverses the path words, "outdoor apartment_building" for a/apartment_building/outdoor; UCF101 splits CamelCase with '_'), the variant names
 * for FGVCAircraft, and {@code classnames.txt} for the ImageNet family. When a split file is missing CoOp creates it
 * with a random split; we do not (the point of the file is a fixed split): a missing file is an error.
 */
public final class CoopDatasets {
  private CoopDatasets() {}

  /** Loads one dataset of the suite from a data root; {@link FileCheck#EAGER} checks every image exists. */
  @FunctionalInterface
  public interface Loader {
    DatasetSplits load(Path dataRoot, FileCheck check);
  }

  /** The 11 datasets of the suite, in CoOp's order. */
  public static final List<String> SUITE = List.of("ImageNet", "Caltech101", "OxfordPets", "StanfordCars",
      "Flowers102", "Food101", "FGVCAircraft", "SUN397", "DTD", "EuroSAT", "UCF101");

  /** The test-only ImageNet variants of the domain-generalisation protocol. */
  public static final List<String> IMAGENET_VARIANTS = List.of("ImageNetV2", "ImageNetSketch", "ImageNetA", "ImageNetR");

  private static final Map<String, Loader> LOADERS;
  private static final Map<String, String> ALIASES = Map.of("oxfordflowers", "Flowers102",
      "describabletextures", "DTD", "imagenet-v2", "ImageNetV2", "imagenet-sketch", "ImageNetSketch",
      "imagenet-a", "ImageNetA", "imagenet-r", "ImageNetR");

  static {
    Map<String, Loader> m = new LinkedHashMap<>();
    m.put("ImageNet", CoopImageNet::imageNet);
    m.put("Caltech101", splitFile("Caltech101", "caltech-101", "101_ObjectCategories", "split_zhou_Caltech101.json"));
    m.put("OxfordPets", splitFile("OxfordPets", "oxford_pets", "images", "split_zhou_OxfordPets.json"));
    m.put("StanfordCars", splitFile("StanfordCars", "stanford_cars", "", "split_zhou_StanfordCars.json"));
    m.put("Flowers102", splitFile("Flowers102", "oxford_flowers", "jpg", "split_zhou_OxfordFlowers.json"));
    m.put("Food101", splitFile("Food101", "food-101", "images", "split_zhou_Food101.json"));
    m.put("FGVCAircraft", CoopDatasets::aircraft);
    m.put("SUN397", splitFile("SUN397", "sun397", "SUN397", "split_zhou_SUN397.json"));
    m.put("DTD", splitFile("DTD", "dtd", "images", "split_zhou_DescribableTextures.json"));
    m.put("EuroSAT", splitFile("EuroSAT", "eurosat", "2750", "split_zhou_EuroSAT.json"));
    m.put("UCF101", splitFile("UCF101", "ucf101", "UCF-101-midframes", "split_zhou_UCF101.json"));
    m.put("ImageNetV2", CoopImageNet::imageNetV2);
    m.put("ImageNetSketch", CoopImageNet::imageNetSketch);
    m.put("ImageNetA", CoopImageNet::imageNetA);
    m.put("ImageNetR", CoopImageNet::imageNetR);
    LOADERS = Collections.unmodifiableMap(m);
  }

  /** Every name the registry knows: the suite, then the ImageNet variants. */
  public static List<String> names() {
    return new ArrayList<>(LOADERS.keySet());
  }

  /** The registry's spelling of a name given in any case (CoOp's class names OxfordFlowers, DescribableTextures too). */
  public static String canonicalName(String name) {
    for (String n : LOADERS.keySet()) if (n.equalsIgnoreCase(name.strip())) return n;
    String alias = ALIASES.get(name.strip().toLowerCase(Locale.ROOT));
    if (alias != null) return alias;
    throw new DatasetException("unknown CoOp dataset '" + name + "' (known: " + String.join(", ", LOADERS.keySet()) + ")");
  }

  public static Loader loader(String name) {
    return LOADERS.get(canonicalName(name));
  }

  public static DatasetSplits load(String name, Path dataRoot) {
    return load(name, dataRoot, FileCheck.EAGER);
  }

  public static DatasetSplits load(String name, Path dataRoot, FileCheck check) {
    Listing.requireDirectory(dataRoot, "data root");
    return loader(name).load(dataRoot, check);
  }

  private static Loader splitFile(String name, String folder, String imageDir, String file) {
    return (root, check) -> {
      Path dir = Listing.requireDirectory(root.resolve(folder), name + " folder");
      Path images = imageDir.isEmpty() ? dir : Listing.requireDirectory(dir.resolve(imageDir), name + " image folder");
      return CoopSplitFile.read(dir.resolve(file), images, name, check);
    };
  }

  private static DatasetSplits aircraft(Path root, FileCheck check) {
    Path dir = Listing.requireDirectory(root.resolve("fgvc_aircraft"), "FGVCAircraft folder");
    Map<Split, Dataset> splits = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      splits.put(s, AircraftVariants.read(dir, "images_variant_" + s.key() + ".txt", "FGVCAircraft/" + s.key(), check));
    }
    return new DatasetSplits("FGVCAircraft", splits);
  }
}
