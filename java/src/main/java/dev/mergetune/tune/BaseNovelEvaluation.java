package dev.mergetune.tune;

import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.data.ClassSubsets;
import dev.mergetune.data.Dataset;
import dev.mergetune.eval.BaseToNovelRow;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * CoOp's base-to-novel evaluation of prompt classifiers over cached test features: the base-class images classified
 * among the base classes (the first ⌈C/2⌉), the novel-class images among the novel ones.
 */
public final class BaseNovelEvaluation {
  /** A classifier: logits [n, C] for normalised image features [n, D] and the given class names. */
  @FunctionalInterface
  public interface Prompts {
    Tensor logits(List<String> classNames, Tensor imageFeatures);
  }

  private final Dataset base;
  private final Dataset novel;
  private final CachedFeatures baseFeatures;
  private final CachedFeatures novelFeatures;

  /** {@code features} computes a dataset's image features (the frozen encoder, deterministic transform). */
  public BaseNovelEvaluation(Dataset test, Function<Dataset, CachedFeatures> features) {
    if (test.numClasses() < 2) throw new IllegalArgumentException("base-to-novel needs at least two classes");
    this.base = ClassSubsets.base(test);
    this.novel = ClassSubsets.novel(test);
    this.baseFeatures = features.apply(base);
    this.novelFeatures = features.apply(novel);
  }

  public List<String> baseClasses() {
    return base.classNames();
  }

  public List<String> novelClasses() {
    return novel.classNames();
  }

  /** Base and novel top-1 in percent, as a row named {@code name}. */
  public BaseToNovelRow row(String name, Prompts prompts) {
    try (NoGradGuard g = new NoGradGuard()) {
      double b = 100 * baseFeatures.accuracy(prompts.logits(base.classNames(), baseFeatures.view(0)));
      double n = 100 * novelFeatures.accuracy(prompts.logits(novel.classNames(), novelFeatures.view(0)));
      return new BaseToNovelRow(name, b, n);
    }
  }
}
