package dev.mergetune.tune;

import dev.mergetune.adapt.CachedCoopMethod;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.data.ClassSubsets;
import dev.mergetune.data.Dataset;
import dev.mergetune.eval.BaseToNovelRow;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
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

  /**
   * Zero-shot CLIP with a hand-written template: the template's normalised text features of the evaluated classes
   * against the image features, times exp(logit_scale).
   */
  public static Prompts zeroShot(ClipModel model, ClipTokenizer tokenizer, String template) {
    return (names, v) -> CachedCoopMethod.templateFeatures(model, tokenizer, names, template).matmul(v.t()).t()
        .mul(new Scalar(model.logitScaleExp().item_double()));
  }

  /** CoOp's classifier with the learned context {@code ctx}, built for whichever class names are evaluated. */
  public static Prompts coop(TrainSettings s, ClipModel model, ClipTokenizer tokenizer, Tensor ctx) {
    return (names, v) -> {
      CoopPromptLearner l = TrainingRun.initialLearner(s, model, tokenizer, names);
      try (NoGradGuard g = new NoGradGuard()) {
        l.context().copy_(ctx);
      }
      return l.logits(v);
    };
  }

  /** Base and novel top-1 in percent, as a row named {@code name}. */
  public BaseToNovelRow row(String name, Prompts prompts) {
    try (NoGradGuard g = new NoGradGuard()) {
      double b = 100 * baseFeatures.accuracy(prompts.logits(base.classNames(), baseFeatures.view(0)));
      double n = 100 * novelFeatures.accuracy(prompts.logits(novel.classNames(), novelFeatures.view(0)));
      return new BaseToNovelRow(name, b, n);
    }
  }

  /** Top-1 in percent over all of {@code d}'s classes, on its features {@code f} (view 0). */
  public static double top1(Prompts prompts, Dataset d, CachedFeatures f) {
    try (NoGradGuard g = new NoGradGuard()) {
      return 100 * f.accuracy(prompts.logits(d.classNames(), f.view(0)));
    }
  }
}
