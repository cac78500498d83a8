package dev.mergetune.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The 11 datasets of the MTIL benchmark as ZSCL (Thunderbeee/ZSCL {@code mtil/src/datasets/collections.py}, commit
 * b96e714) and ConDU (zhangzicong518/ConDU {@code src/datasets/collections.py}, commit 7fd32cf, the same code) read
 * them: torchvision dataset classes under one data root ({@link TorchvisionLayouts}), each with a train and a test
 * split and ZSCL's class names. Order I is {@link #ORDER_I}.
 *
 * <table>
 *   <tr><th>dataset</th><th>train / test</th><th>class names</th></tr>
 *   <tr><td>Aircraft</td><td>FGVCAircraft "train" / "test" (variants)</td><td>variants.txt</td></tr>
 *   <tr><td>Caltech101</td><td>random 80/20 split of all images</td><td>ZSCL's list (shipped)</td></tr>
 *   <tr><td>CIFAR100</td><td>train / test</td><td>meta names (shipped)</td></tr>
 *   <tr><td>DTD</td><td>train1 / test1</td><td>sorted class folders</td></tr>
 *   <tr><td>EuroSAT</td><td>random 80/20 split of all images</td><td>ZSCL's list (shipped)</td></tr>
 *   <tr><td>Flowers</td><td>setid.mat trnid / tstid</td><td>ZSCL's list (shipped)</td></tr>
 *   <tr><td>Food</td><td>meta/train.json / test.json</td><td>sorted meta keys</td></tr>
 *   <tr><td>MNIST</td><td>train / test</td><td>torchvision's "0 - zero" ... (shipped)</td></tr>
 *   <tr><td>OxfordPet</td><td>trainval / test</td><td>title-cased breeds of the annotations</td></tr>
 *   <tr><td>StanfordCars</td><td>train / test</td><td>cars_meta.mat</td></tr>
 *   <tr><td>SUN397</td><td>random 80/20 split of all images</td><td>ClassName.txt</td></tr>
 * </table>
 * Names read from disk get ZSCL's {@code process_labels}: '_' becomes ' ' (Caltech101 and EuroSAT keep their lists
 * as written, since ZSCL does not call it for them).
 *
 * <p>The random splits are ZSCL's {@code split_dataset}: {@code torch.utils.data.random_split} with
 * {@code int(0.8 * n)} training images and {@code torch.Generator().manual_seed(42)}, reproduced exactly by
 * {@link TorchRandomSplit}; the train and test sets list their images in the permutation's order, as torch's
 * {@code Subset} does. The split equals the reference's whenever the image list before splitting does: for
 * Caltech101 and EuroSAT that list follows from the folder contents alone (sorted names), so on the same files the
 * split is the same; for SUN397 torchvision takes {@code Path.rglob}'s file-system order, so its split cannot be
 * reproduced and ours (on sorted paths) differs from any particular run of the reference.
 *
 * <p>CIFAR100 and MNIST: torchvision reads them from pickled / IDX arrays, not image files, and a dataset here is a
 * list of image files, so they are read from an export of the same images: {@code cifar-100-images/{train,test}/
 * <class>/} and {@code mnist-images/{train,test}/<class>/}, a class folder named by its label index ({@code 0 ..}) or
 * its name (CIFAR: the meta name, with '_' or ' '; MNIST: the digit or "0 - zero"), files in code-point order of their
 * names (name them by their zero-padded index in torchvision's arrays to keep its order). This library does not write
 * that export.
 */
public final class MtilDatasets {
  private MtilDatasets() {}

  /** MTIL order I. */
  public static final List<String> ORDER_I = List.of("Aircraft", "Caltech101", "CIFAR100", "DTD", "EuroSAT",
      "Flowers", "Food", "MNIST", "OxfordPet", "StanfordCars", "SUN397");

  /** The seed of ZSCL's random 80/20 splits. */
  public static final long SPLIT_SEED = 42;

  /** Caltech101, EuroSAT and Flowers names from ZSCL, CIFAR-100 from CLIP's prompts, MNIST from torchvision. */
  public static final List<String> CALTECH101_NAMES = ResourceLists.lines("classnames/caltech101-mtil.txt");
  public static final List<String> EUROSAT_NAMES = ResourceLists.lines("classnames/eurosat-mtil.txt");
  public static final List<String> FLOWERS_NAMES = ResourceLists.lines("classnames/flowers102-mtil.txt");
  public static final List<String> CIFAR100_NAMES = ResourceLists.lines("classnames/cifar100-mtil.txt");
  public static final List<String> MNIST_NAMES = ResourceLists.lines("classnames/mnist-mtil.txt");

  private interface Reader {
    Dataset read(Path root, Split split, String name);
  }

  private static final Map<String, Reader> READERS;

  static {
    Map<String, Reader> m = new LinkedHashMap<>();
    m.put("Aircraft", (root, s, n) -> {
      Dataset d = AircraftVariants.read(root.resolve("fgvc-aircraft-2013b").resolve("data"),
          "images_variant_" + s.key() + ".txt", n, FileCheck.SKIP);
      return Dataset.of(n, underscoresToSpaces(d.classNames()), d.samples());
    });
    m.put("Caltech101", (root, s, n) -> randomSplit(TorchvisionLayouts.caltech101(root), CALTECH101_NAMES, s, n, root));
    m.put("CIFAR100", (root, s, n) -> export(root.resolve("cifar-100-images"), s, CIFAR100_NAMES, n,
        f -> f.replace('_', ' '), root.resolve("cifar-100-python")));
    m.put("DTD", (root, s, n) -> of(n, TorchvisionLayouts.dtd(root, s.key(), 1), true));
    m.put("EuroSAT", (root, s, n) -> randomSplit(TorchvisionLayouts.eurosat(root), EUROSAT_NAMES, s, n, root));
    m.put("Flowers", (root, s, n) -> of(n, TorchvisionLayouts.flowers102(root, s.key(), FLOWERS_NAMES), false));
    m.put("Food", (root, s, n) -> of(n, TorchvisionLayouts.food101(root, s.key()), true));
    m.put("MNIST", (root, s, n) -> export(root.resolve("mnist-images"), s, MNIST_NAMES, n,
        f -> f.length() == 1 ? null : f, root.resolve("MNIST")));
    m.put("OxfordPet", (root, s, n) -> of(n, TorchvisionLayouts.oxfordPet(root, s == Split.TRAIN ? "trainval" : "test"), true));
    m.put("StanfordCars", (root, s, n) -> of(n, TorchvisionLayouts.stanfordCars(root, s.key()), true));
    m.put("SUN397", (root, s, n) -> {
      TorchvisionLayouts.Labelled all = TorchvisionLayouts.sun397(root);
      return randomSplit(all, underscoresToSpaces(all.classes()), s, n, root);
    });
    READERS = Collections.unmodifiableMap(m);
  }

  /** The registry's spelling of a dataset name given in any case. */
  public static String canonicalName(String name) {
    for (String n : ORDER_I) if (n.equalsIgnoreCase(name.strip())) return n;
    throw new DatasetException("unknown MTIL dataset '" + name + "' (known: " + String.join(", ", ORDER_I) + ")");
  }

  public static Dataset load(String name, Path dataRoot, Split split) {
    return load(name, dataRoot, split, FileCheck.EAGER);
  }

  /** One split ({@link Split#TRAIN} or {@link Split#TEST}) of an MTIL dataset under a torchvision data root. */
  public static Dataset load(String name, Path dataRoot, Split split, FileCheck check) {
    String n = canonicalName(name);
    if (split == Split.VAL) throw new DatasetException("MTIL datasets have a train and a test split, no val split");
    Listing.requireDirectory(dataRoot, "data root");
    return check.apply(READERS.get(n).read(dataRoot, split, n + "/" + split.key()));
  }

  /** Both splits. */
  public static DatasetSplits load(String name, Path dataRoot, FileCheck check) {
    Map<Split, Dataset> m = new EnumMap<>(Split.class);
    m.put(Split.TRAIN, load(name, dataRoot, Split.TRAIN, check));
    m.put(Split.TEST, load(name, dataRoot, Split.TEST, check));
    return new DatasetSplits(canonicalName(name), m);
  }

  private static Dataset of(String name, TorchvisionLayouts.Labelled l, boolean processLabels) {
    return Dataset.of(name, processLabels ? underscoresToSpaces(l.classes()) : l.classes(), l.samples());
  }

  /** ZSCL's {@code split_dataset}: torch's {@code random_split} into int(0.8 n) and the rest, seed 42. */
  private static Dataset randomSplit(TorchvisionLayouts.Labelled all, List<String> names, Split split, String name,
      Path root) {
    if (all.classes().size() != names.size()) {
      throw DatasetException.at(root, name + ": the folders hold " + all.classes().size() + " classes, the MTIL class list "
          + names.size());
    }
    int[] idx = TorchRandomSplit.trainTest(all.samples().size(), 0.8, SPLIT_SEED).get(split == Split.TRAIN ? 0 : 1);
    List<Sample> out = new ArrayList<>(idx.length);
    for (int i : idx) out.add(all.samples().get(i));
    return Dataset.of(name, names, out);
  }

  /** An image export of an array-stored torchvision dataset (see the class comment). */
  private static Dataset export(Path dir, Split split, List<String> names, String name,
      Function<String, String> folderToName, Path torchvisionFolder) {
    if (!Files.isDirectory(dir) && Files.isDirectory(torchvisionFolder)) {
      throw DatasetException.at(dir, "not found; " + torchvisionFolder + " holds torchvision's arrays, which are not image"
          + " files: export the images to " + dir.getFileName() + "/{train,test}/<class>/ first");
    }
    Path splitDir = Listing.requireDirectory(dir.resolve(split.key()), name + " image folder");
    List<Sample> samples = new ArrayList<>();
    boolean[] seen = new boolean[names.size()];
    for (Path classDir : Listing.subfolders(splitDir, false)) {
      String f = classDir.getFileName().toString();
      int label = labelOfFolder(f, names, folderToName);
      if (label < 0) throw DatasetException.at(classDir, "not a class of " + name + " (name a class folder by its index or name)");
      if (seen[label]) throw DatasetException.at(classDir, "a second folder for class " + label);
      seen[label] = true;
      for (Path p : Listing.files(classDir, false)) samples.add(new Sample(p, label));
    }
    samples.sort((a, b) -> Integer.compare(a.label(), b.label()));
    return Dataset.of(name, names, samples);
  }

  private static int labelOfFolder(String f, List<String> names, Function<String, String> folderToName) {
    if (f.matches("[0-9]+") && f.length() < 6) {
      int i = Integer.parseInt(f);
      return i < names.size() ? i : -1;
    }
    String n = folderToName.apply(f);
    return n == null ? -1 : names.indexOf(n);
  }

  static List<String> underscoresToSpaces(List<String> names) {
    List<String> out = new ArrayList<>(names.size());
    for (String n : names) out.add(n.replace('_', ' '));
    return out;
  }
}
