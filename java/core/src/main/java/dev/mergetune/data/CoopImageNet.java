package dev.mergetune.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * ImageNet and its four test-only variants as CoOp reads them ({@code datasets/imagenet*.py}); none has a split file.
 * Every folder has a {@code classnames.txt} ({@link ImageNetClassNames}).
 *
 * <ul>
 *   <li>ImageNet ({@code imagenet/}): train = {@code images/train}, test = {@code images/val}; CoOp uses the val images
 *       as its val split too, and so do we. Label = index of the class folder among the sorted folders of
 *       {@code images/train}; {@code images/val} must have the same folders.
 *   <li>ImageNet-V2 ({@code imagenetv2/imagenetv2-matched-frequency-format-val/}): folders named {@code 0 .. C-1} by
 *       label, the name of label {@code i} being the {@code i}-th line of {@code classnames.txt} (CoOp reads 1000).
 *   <li>ImageNet-Sketch ({@code imagenet-sketch/images/}), ImageNet-A ({@code imagenet-adversarial/imagenet-a/}),
 *       ImageNet-R ({@code imagenet-rendition/imagenet-r/}): the sorted wnid folders present, label = index among
 *       them, so A and R have their 200 classes in ImageNet order, labelled 0..199 (CoOp evaluates them with a
 *       200-class head; {@link ImageNetSubsets} maps them to ImageNet's 1000 labels).
 * </ul>
 * Differences from CoOp: hidden folders and files are skipped (CoOp's {@code os.scandir} keeps hidden class folders);
 * images are the regular files of a class folder in code-point order of their names, where CoOp takes
 * {@code os.listdir}'s order, which depends on the file system - so sample order, and with it CoOp's few-shot draw,
 * cannot be reproduced from its code anyway.
 */
public final class CoopImageNet {
  private CoopImageNet() {}

  public static DatasetSplits imageNet(Path dataRoot, FileCheck check) {
    Path dir = Listing.requireDirectory(dataRoot.resolve("imagenet"), "ImageNet folder");
    Path namesFile = dir.resolve("classnames.txt");
    Map<String, String> names = ImageNetClassNames.read(namesFile);
    Path train = Listing.requireDirectory(dir.resolve("images").resolve("train"), "ImageNet train folder");
    Path val = Listing.requireDirectory(dir.resolve("images").resolve("val"), "ImageNet val folder");
    List<Path> folders = Listing.subfolders(train, false);
    List<Path> valFolders = Listing.subfolders(val, false);
    List<String> trainIds = fileNames(folders), valIds = fileNames(valFolders);
    if (!trainIds.equals(valIds)) {
      throw DatasetException.at(val, "the class folders differ from those of " + train + " (" + valIds.size() + " and "
          + trainIds.size() + " folders)");
    }
    List<String> classNames = ImageNetClassNames.namesOf(namesFile, names, folders);
    Dataset trainSet = folderDataset("ImageNet/train", classNames, folders, check);
    Dataset testSet = folderDataset("ImageNet/test", classNames, valFolders, check);
    Map<Split, Dataset> splits = new EnumMap<>(Split.class);
    splits.put(Split.TRAIN, trainSet);
    splits.put(Split.VAL, testSet.withName("ImageNet/val"));
    splits.put(Split.TEST, testSet);
    return new DatasetSplits("ImageNet", splits);
  }

  public static DatasetSplits imageNetV2(Path dataRoot, FileCheck check) {
    Path dir = Listing.requireDirectory(dataRoot.resolve("imagenetv2"), "ImageNet-V2 folder");
    Map<String, String> names = ImageNetClassNames.read(dir.resolve("classnames.txt"));
    Path images = Listing.requireDirectory(dir.resolve("imagenetv2-matched-frequency-format-val"), "ImageNet-V2 images");
    List<Path> folders = new ArrayList<>();
    for (int label = 0; label < names.size(); label++) {
      folders.add(Listing.requireDirectory(images.resolve(Integer.toString(label)), "ImageNet-V2 class folder"));
    }
    return testOnly("ImageNetV2", folderDataset("ImageNetV2/test", new ArrayList<>(names.values()), folders, check));
  }

  public static DatasetSplits imageNetSketch(Path dataRoot, FileCheck check) {
    return wnidFolders("ImageNetSketch", dataRoot.resolve("imagenet-sketch"), "images", check);
  }

  public static DatasetSplits imageNetA(Path dataRoot, FileCheck check) {
    DatasetSplits d = wnidFolders("ImageNetA", dataRoot.resolve("imagenet-adversarial"), "imagenet-a", check);
    ImageNetSubsets.verify(dataRoot.resolve("imagenet-adversarial"), "imagenet-a", ImageNetSubsets.IMAGENET_A);
    return d;
  }

  public static DatasetSplits imageNetR(Path dataRoot, FileCheck check) {
    DatasetSplits d = wnidFolders("ImageNetR", dataRoot.resolve("imagenet-rendition"), "imagenet-r", check);
    ImageNetSubsets.verify(dataRoot.resolve("imagenet-rendition"), "imagenet-r", ImageNetSubsets.IMAGENET_R);
    return d;
  }

  private static DatasetSplits wnidFolders(String name, Path dir, String imageDir, FileCheck check) {
    Listing.requireDirectory(dir, name + " folder");
    Path namesFile = dir.resolve("classnames.txt");
    Map<String, String> names = ImageNetClassNames.read(namesFile);
    Path images = Listing.requireDirectory(dir.resolve(imageDir), name + " images");
    List<Path> folders = Listing.subfolders(images, false);
    if (folders.isEmpty()) throw DatasetException.at(images, "no class folders");
    return testOnly(name, folderDataset(name + "/test", ImageNetClassNames.namesOf(namesFile, names, folders), folders, check));
  }

  private static DatasetSplits testOnly(String name, Dataset test) {
    return new DatasetSplits(name, Map.of(Split.TEST, test));
  }

  private static Dataset folderDataset(String name, List<String> classNames, List<Path> folders, FileCheck check) {
    List<Sample> samples = new ArrayList<>();
    for (int label = 0; label < folders.size(); label++) {
      for (Path p : Listing.files(folders.get(label), false)) samples.add(new Sample(p, label));
    }
    return check.apply(Dataset.of(name, classNames, samples, Dataset.Allow.DUPLICATE_NAMES));
  }

  static List<String> fileNames(List<Path> paths) {
    List<String> out = new ArrayList<>(paths.size());
    for (Path p : paths) out.add(p.getFileName().toString());
    return out;
  }

}
