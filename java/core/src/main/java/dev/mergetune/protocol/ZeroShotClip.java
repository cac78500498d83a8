package dev.mergetune.protocol;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.ImageFiles;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import java.util.function.Function;

/**
 * A CLIP model's zero-shot head as a {@link Classifier}: each task's class names × templates are encoded and averaged
 * ({@link ZeroShotClassifier}), its images encoded with OpenAI's eval preprocessing at the model's resolution, and
 * logits = exp(logit_scale)·cos.
 */
public final class ZeroShotClip implements Classifier {
  private final ClipModel model;
  private final String identity;
  private final TextTokenizer tokenizer;
  private final FeatureExtractor extractor;

  /**
   * @param identity what identifies the weights in the extractor's feature cache (a file hash), or null for weights
   *     without one (an interpolated model): then nothing is cached
   */
  public ZeroShotClip(ClipModel model, String identity, TextTokenizer tokenizer, FeatureExtractor extractor) {
    this.model = model;
    this.identity = identity;
    this.tokenizer = tokenizer;
    this.extractor = identity == null ? extractor.withoutCache() : extractor;
  }

  /**
   * Opens CLIP checkpoints with {@link ClipLoader} ({@code modelConfig}: a --model-config value for checkpoints that
   * do not record theirs, or null); the tokenizer is made for each model (its context length), and
   * {@code identity} gives a checkpoint's cache identity (null: no caching).
   */
  public static ClassifierProvider provider(String modelConfig, Function<ClipModel, TextTokenizer> tokenizer,
      FeatureExtractor extractor, Function<java.nio.file.Path, String> identity) {
    return checkpoint -> {
      ClipModel m = ClipLoader.load(checkpoint, modelConfig);
      return new ZeroShotClip(m, identity.apply(checkpoint), tokenizer.apply(m), extractor);
    };
  }

  public ClipModel model() {
    return model;
  }

  /** The zero-shot head for a task's class names and templates. */
  public ZeroShotClassifier head(ClassificationTask task) {
    return ZeroShotClassifier.build(model, identity, tokenizer, task.classNames(), task.templates(), extractor);
  }

  /** Image features [n, embed] of a task's images, not normalised. */
  public float[][] imageFeatures(ClassificationTask task) {
    return extractor.images(model, identity == null ? "uncached" : identity, new ImageFiles(task.images(),
        ClipImageTransform.of(model.config().imageResolution()), ImageBatch.defaultThreads()));
  }

  @Override
  public float[][] logits(ClassificationTask task) {
    return head(task).logits(imageFeatures(task));
  }
}
