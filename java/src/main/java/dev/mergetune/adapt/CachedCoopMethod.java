package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.train.Losses;
import dev.mergetune.train.TrainableMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * CoOp and KgCoOp as {@link TrainableMethod}s over CACHED image features: the image encoder is frozen, so each image's
 * features are computed once (e.g. with {@code FeatureExtractor}) and passed in; they are L2-normalised here. Only the
 * prompt context trains.
 *
 * <ul>
 *   <li>CoOp: {@code loss = CE(logits(img), y)}.
 *   <li>KgCoOp (Yao et al., CVPR 2023): {@code loss = CE + λ·(1 − mean_c cos(F_c, z_c))}, with {@code F} the learned
 *       class text features and {@code z} the normalised text features of the hand-written template (e.g.
 *       {@code "a photo of a {}."}) computed once without gradients. λ = {@value #KGCOOP_DEFAULT_LAMBDA} by default
 *       ({@code TRAINER.COOP.W}; the official htdong/KgCoOp repository was not in the searchable index, but
 *       KgCoOp-based training scripts found there pass {@code TRAINER.COOP.W 8.0} to the KgCoOp trainer, whose
 *       {@code CustomCLIP.forward} computes {@code score = 1.0 - torch.mean(cos(text_features, text_features_old))}
 *       on normalised features, the term implemented here).
 * </ul>
 */
public final class CachedCoopMethod implements TrainableMethod {
  private static final Logger LOG = Logger.getLogger(CachedCoopMethod.class.getName());
  public static final double KGCOOP_DEFAULT_LAMBDA = 8.0;

  private final CoopPromptLearner learner;
  private final Tensor trainFeatures;  // [N, D], normalised
  private final Tensor trainLabels;    // [N] int64
  private final Tensor valFeatures;    // [M, D], normalised, or null
  private final Tensor valLabels;
  private final Tensor templateFeatures;  // [C, D] normalised z, or null for CoOp
  private final double lambda;

  private CachedCoopMethod(CoopPromptLearner learner, Tensor trainFeatures, long[] trainLabels, Tensor valFeatures,
      long[] valLabels, Tensor templateFeatures, double lambda) {
    if (trainFeatures.size(0) != trainLabels.length) throw new IllegalArgumentException("features and labels differ");
    this.learner = learner;
    try (NoGradGuard g = new NoGradGuard()) {
      this.trainFeatures = ClipModel.normalize(trainFeatures.detach().to(torch.ScalarType.Float)).contiguous();
      this.trainLabels = Tensor.create(trainLabels.clone(), trainLabels.length);
      this.valFeatures = valFeatures == null ? null
          : ClipModel.normalize(valFeatures.detach().to(torch.ScalarType.Float)).contiguous();
      this.valLabels = valLabels == null ? null : Tensor.create(valLabels.clone(), valLabels.length);
    }
    this.templateFeatures = templateFeatures;
    this.lambda = lambda;
    LOG.info((templateFeatures == null ? "CoOp" : "KgCoOp (lambda " + lambda + ")") + " on cached image features: the"
        + " image encoder is frozen, features computed once and L2-normalised; " + trainLabels.length + " training items");
  }

  /** CoOp: cross-entropy only. Validation features/labels may be null ({@link #evaluate} then returns NaN). */
  public static CachedCoopMethod coop(CoopPromptLearner learner, Tensor trainFeatures, long[] trainLabels,
      Tensor valFeatures, long[] valLabels) {
    return new CachedCoopMethod(learner, trainFeatures, trainLabels, valFeatures, valLabels, null, 0);
  }

  /**
   * KgCoOp: z = normalised text features of {@code template} ("a photo of a {}.", {@code {}} replaced by each class
   * name, underscores to spaces), computed once without gradients.
   */
  public static CachedCoopMethod kgCoop(CoopPromptLearner learner, ClipModel model, ClipTokenizer tokenizer,
      List<String> classNames, String template, double lambda, Tensor trainFeatures, long[] trainLabels,
      Tensor valFeatures, long[] valLabels) {
    if (!(lambda >= 0)) throw new IllegalArgumentException("lambda must be non-negative, got " + lambda);
    return new CachedCoopMethod(learner, trainFeatures, trainLabels, valFeatures, valLabels,
        templateFeatures(model, tokenizer, classNames, template), lambda);
  }

  /** The normalised text features [C, D] of the template for each class, without gradients. */
  public static Tensor templateFeatures(ClipModel model, ClipTokenizer tokenizer, List<String> classNames,
      String template) {
    List<String> texts = new ArrayList<>();
    for (String n : classNames) texts.add(template.replace("{}", n.replace('_', ' ')));
    int len = model.config().contextLength();
    int[][] rows = tokenizer.tokenize(texts, len, Truncation.TRUNCATE);
    long[] flat = new long[rows.length * len];
    for (int r = 0; r < rows.length; r++) for (int i = 0; i < len; i++) flat[r * len + i] = rows[r][i];
    try (NoGradGuard g = new NoGradGuard()) {
      return ClipModel.normalize(model.encodeText(Tensor.create(flat, rows.length, len))).detach().clone();
    }
  }

  public CoopPromptLearner learner() {
    return learner;
  }

  @Override
  public Map<String, Tensor> trainable() {
    return Map.of(CoopPromptLearner.CTX_NAME, learner.context());
  }

  @Override
  public int trainSize() {
    return (int) trainFeatures.size(0);
  }

  /** KgCoOp's term {@code 1 − mean_c cos(F_c, z_c)} (differentiable in the context); requires a template. */
  public Tensor knowledgeTerm() {
    if (templateFeatures == null) throw new IllegalStateException("CoOp has no template features");
    Tensor cos = learner.classEmbeddings().mul(templateFeatures).sum(new long[] {1}, false,
        new org.bytedeco.pytorch.ScalarTypeOptional());
    return cos.mean().neg().add(new Scalar(1.0));
  }

  @Override
  public Tensor loss(int[] batch) {
    long[] idx = new long[batch.length];
    for (int i = 0; i < batch.length; i++) idx[i] = batch[i];
    Tensor index = Tensor.create(idx, idx.length);
    Tensor logits = learner.logits(trainFeatures.index_select(0, index));
    Tensor loss = Losses.crossEntropy(logits, trainLabels.index_select(0, index), 0.0);
    if (templateFeatures != null && lambda != 0) loss = loss.add(knowledgeTerm().mul(new Scalar(lambda)));
    return loss;
  }

  @Override
  public double evaluate() {
    if (valFeatures == null) return Double.NaN;
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor pred = learner.logits(valFeatures).argmax(new LongOptional(1), false);
      return pred.eq(valLabels).to(torch.ScalarType.Double).mean().item_double();
    }
  }
}
