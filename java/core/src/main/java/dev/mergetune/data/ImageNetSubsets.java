package dev.mergetune.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The 200-class subsets of ImageNet used by ImageNet-A and ImageNet-R: the ImageNet-1k label of each of their classes,
 * ascending. Sources (recorded in the resource files): hendrycks/natural-adv-examples {@code eval.py}
 * ({@code indices_in_1k}) for A and hendrycks/imagenet-r {@code eval.py} ({@code imagenet_r_mask}) for R, as carried by
 * ZSCL ({@code mtil/src/datasets/imagenet_a.py}, {@code imagenet_r.py}, {@code CLASS_SUBLIST}). Both are "the
 * variant's wnid folders, in ImageNet's sorted-wnid order", which is also how CoOp labels these datasets (sorted
 * folders, 0..199), so label {@code i} of CoOp's ImageNet-A is ImageNet label {@code IMAGENET_A.get(i)}.
 *
 * <p>To evaluate a 1000-class model on A or R, keep the logits of these labels; to restrict an ImageNet split to the
 * same 200 classes, {@link ClassSubsets#byLabels}.
 */
public final class ImageNetSubsets {
  private ImageNetSubsets() {}

  public static final List<Integer> IMAGENET_A = ResourceLists.ints("imagenet-a-indices.txt");
  public static final List<Integer> IMAGENET_R = ResourceLists.ints("imagenet-r-indices.txt");

  /**
   * The ImageNet label of each class folder, in the order given: the index of the folder's wnid among the lines of
   * {@code classnames.txt} (which lists ImageNet's classes in label order).
   */
  public static List<Integer> imageNetLabels(Path classNamesTxt, List<String> wnids) {
    Map<String, String> names = ImageNetClassNames.read(classNamesTxt);
    List<String> order = new ArrayList<>(names.keySet());
    List<Integer> out = new ArrayList<>(wnids.size());
    for (String w : wnids) {
      int i = order.indexOf(w);
      if (i < 0) throw DatasetException.at(classNamesTxt, "no class " + w);
      out.add(i);
    }
    return out;
  }

  /**
   * Checks a complete A or R folder against the published subset: when {@code classnames.txt} has 1000 classes and the
   * image folder 200, the folders must be exactly the published 200 classes. Partial copies are not checked.
   */
  static void verify(Path variantDir, String imageDir, List<Integer> expected) {
    Path namesFile = variantDir.resolve("classnames.txt");
    Map<String, String> names = ImageNetClassNames.read(namesFile);
    List<String> wnids = CoopImageNet.fileNames(Listing.subfolders(variantDir.resolve(imageDir), false));
    if (names.size() != 1000 || wnids.size() != expected.size()) return;
    List<Integer> got = imageNetLabels(namesFile, wnids);
    for (int i = 0; i < got.size(); i++) {
      if (!got.get(i).equals(expected.get(i))) {
        throw DatasetException.at(variantDir.resolve(imageDir), "class folder " + wnids.get(i) + " (label " + i
            + ") is ImageNet class " + got.get(i) + " but the published subset has class " + expected.get(i) + " there");
      }
    }
  }
}
