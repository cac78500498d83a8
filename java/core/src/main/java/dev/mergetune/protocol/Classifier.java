package dev.mergetune.protocol;

/**
 * What an evaluation protocol evaluates: anything that gives logits for a set of images over a set of classes. The
 * zero-shot CLIP head is one ({@link ZeroShotClip}); a trained method (learnt prompts, adapters, a task expert)
 * implements the same interface and plugs into every protocol through a {@link ClassifierProvider}.
 */
@FunctionalInterface
public interface Classifier {
  /**
   * Logits [images, classes] for {@code task}'s images, column c for {@code task.classNames().get(c)}; the larger,
   * the more likely (top-1 takes the first maximal logit, see {@link dev.mergetune.eval.Accuracy}).
   */
  float[][] logits(ClassificationTask task);
}
