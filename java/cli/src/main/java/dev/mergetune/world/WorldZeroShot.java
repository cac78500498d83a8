package dev.mergetune.world;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.data.Sample;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.ZeroShotClip;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot accuracy of a CLIP model on a world, through the project's zero-shot head ({@link ZeroShotClip}) and the
 * world's tokenizer: the 64-way shape × colour classification of {@code zeroshot/combos}, split into the
 * combinations seen in pre-training and the held-out ones never seen there (with how often the predicted class had
 * the right shape and the right colour), and top-1 on every downstream test split and domain-shifted test set.
 */
public final class WorldZeroShot {
  /** Top-1 (fractions in [0, 1]) on {@code n} images, and how often the prediction's shape / colour was right. */
  public record Split(int n, double top1, double shape, double colour) {}

  /** {@code datasets}: test top-1 by dataset / domain name, in the world's order. */
  public record Result(Split seen, Split heldOut, int classes, Map<String, Double> datasets) {}

  private WorldZeroShot() {}

  public static Result evaluate(ClipModel model, World world, int batchSize) {
    TextTokenizer tok = TextTokenizer.of(world.tokenizer(), model.config().contextLength(), Truncation.ERROR);
    ZeroShotClip zs = new ZeroShotClip(model, null, tok, new FeatureExtractor(batchSize, false, null));
    Dataset combos = ImageFolderSource.read(world.zeroShotRoot(), "zeroshot-combos");
    float[][] logits = zs.logits(task(combos, world.zeroShotTemplates()));
    List<String> names = combos.classNames();
    int[] n = new int[2];
    int[][] hits = new int[2][3];
    for (int i = 0; i < logits.length; i++) {
      int y = combos.samples().get(i).label();
      int p = argmax(logits[i]);
      int g = world.heldOut().contains(names.get(y)) ? 1 : 0;
      String[] truth = names.get(y).split(" ");
      String[] pred = names.get(p).split(" ");
      n[g]++;
      if (p == y) hits[g][0]++;
      if (pred[1].equals(truth[1])) hits[g][1]++;
      if (pred[0].equals(truth[0])) hits[g][2]++;
    }
    Map<String, Double> datasets = new LinkedHashMap<>();
    for (World.DatasetEntry d : world.datasets()) {
      datasets.put(d.name(), top1(zs, ImageFolderSource.read(d.test(), d.name()), d.templates()));
    }
    for (World.DomainEntry d : world.domains()) {
      datasets.put(d.name(), top1(zs, ImageFolderSource.read(d.test(), d.name()), world.dataset(d.of()).templates()));
    }
    return new Result(split(n[0], hits[0]), split(n[1], hits[1]), names.size(), datasets);
  }

  private static Split split(int n, int[] hits) {
    return new Split(n, (double) hits[0] / n, (double) hits[1] / n, (double) hits[2] / n);
  }

  private static double top1(ZeroShotClip zs, Dataset d, List<String> templates) {
    float[][] logits = zs.logits(task(d, templates));
    int hits = 0;
    for (int i = 0; i < logits.length; i++) if (argmax(logits[i]) == d.samples().get(i).label()) hits++;
    return (double) hits / logits.length;
  }

  private static ClassificationTask task(Dataset d, List<String> templates) {
    List<Path> images = d.samples().stream().map(Sample::image).toList();
    return new ClassificationTask(d.name(), d.classNames(), templates, images);
  }

  /** The first maximum. */
  static int argmax(float[] v) {
    int best = 0;
    for (int c = 1; c < v.length; c++) if (v[c] > v[best]) best = c;
    return best;
  }
}
