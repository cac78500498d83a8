package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.train.Losses;
import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.TrainableMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * CoOp and KgCoOp as {@link TrainableMethod}s over CACHED image features ({@link CachedFeatures}): the image encoder is
 * frozen, so each image's features are computed once (per pre-drawn augmentation view) and reused every epoch. Only
 * the prompt context trains.
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
public final class CachedCoopMethod implements TrainableMethod, ShardedValidation {
  private static final Logger LOG = LoggerFactory.getLogger(CachedCoopMethod.class);
  public static final double KGCOOP_DEFAULT_LAMBDA = 8.0;

  private final CoopPromptLearner learner;
  private final CachedFeatures train;
  private final CachedFeatures validation;  // or null
  private final Tensor templateFeatures;    // [C, D] normalised z, or null for CoOp
  private final double lambda;
  private final double smoothing;

  private CachedCoopMethod(CoopPromptLearner learner, CachedFeatures train, CachedFeatures validation,
      Tensor templateFeatures, double lambda, double smoothing) {
    if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1)");
    if (templateFeatures != null && templateFeatures.size(0) != learner.classCount()) {
      throw new IllegalArgumentException(templateFeatures.size(0) + " template features for " + learner.classCount()
          + " classes");
    }
    this.learner = learner;
    this.train = train;
    this.validation = validation;
    this.templateFeatures = templateFeatures;
    this.lambda = lambda;
    this.smoothing = smoothing;
    LOG.debug((templateFeatures == null ? "CoOp" : "KgCoOp (lambda " + lambda + ")") + " on cached image features: the"
        + " image encoder is frozen, so features were computed once (" + train.views() + " view"
        + (train.views() == 1 ? "" : "s of pre-drawn augmentations") + ") for " + train.size() + " training items");
  }

  /** CoOp: cross-entropy only. {@code validation} may be null ({@link #evaluate} then returns NaN). */
  public static CachedCoopMethod coop(CoopPromptLearner learner, CachedFeatures train, CachedFeatures validation,
      double smoothing) {
    return new CachedCoopMethod(learner, train, validation, null, 0, smoothing);
  }

  /** CoOp over one view of features given as tensors (normalised here). */
  public static CachedCoopMethod coop(CoopPromptLearner learner, Tensor trainFeatures, long[] trainLabels,
      Tensor valFeatures, long[] valLabels) {
    return coop(learner, CachedFeatures.of(trainFeatures, trainLabels),
        valFeatures == null ? null : CachedFeatures.of(valFeatures, valLabels), 0.0);
  }

  /** KgCoOp with the normalised template features {@code z} [C, D] (see {@link #templateFeatures}). */
  public static CachedCoopMethod kgCoop(CoopPromptLearner learner, Tensor templateFeatures, double lambda,
      CachedFeatures train, CachedFeatures validation, double smoothing) {
    if (!(lambda >= 0)) throw new IllegalArgumentException("lambda must be non-negative, got " + lambda);
    return new CachedCoopMethod(learner, train, validation, templateFeatures, lambda, smoothing);
  }

  /**
   * KgCoOp: z = normalised text features of {@code template} ("a photo of a {}.", {@code {}} replaced by each class
   * name, underscores to spaces), computed once without gradients.
   */
  public static CachedCoopMethod kgCoop(CoopPromptLearner learner, ClipModel model, ClipTokenizer tokenizer,
      List<String> classNames, String template, double lambda, Tensor trainFeatures, long[] trainLabels,
      Tensor valFeatures, long[] valLabels) {
    return kgCoop(learner, templateFeatures(model, tokenizer, classNames, template), lambda,
        CachedFeatures.of(trainFeatures, trainLabels),
        valFeatures == null ? null : CachedFeatures.of(valFeatures, valLabels), 0.0);
  }

  /** The normalised text features [C, D] of the template for each class, without gradients. */
  public static Tensor templateFeatures(ClipModel model, ClipTokenizer tokenizer, List<String> classNames,
      String template) {
    List<String> texts = new ArrayList<>();
    for (String n : classNames) texts.add(template.replace("{}", n.replace('_', ' ')));
    Tensor tokens = ClipTokenTensors.tokenize(tokenizer, texts, model.config().contextLength(), Truncation.TRUNCATE);
    try (NoGradGuard g = new NoGradGuard()) {
      return ClipModel.normalize(model.encodeText(tokens)).detach().clone();
    }
  }

  public CoopPromptLearner learner() {
    return learner;
  }

  /** Whether this is KgCoOp (a template anchor) rather than CoOp. */
  public boolean knowledgeGuided() {
    return templateFeatures != null;
  }

  @Override
  public Map<String, Tensor> trainable() {
    return Map.of(CoopPromptLearner.CTX_NAME, learner.context());
  }

  @Override
  public int trainSize() {
    return train.size();
  }

  /** KgCoOp's term {@code 1 − mean_c cos(F_c, z_c)} (differentiable in the context); requires a template. */
  public Tensor knowledgeTerm() {
    if (templateFeatures == null) throw new IllegalStateException("CoOp has no template features");
    return oneMinusMeanCos(learner.classEmbeddings(), templateFeatures);
  }

  /** {@code 1 − (1/C) Σ_c ⟨unit_c, z_c⟩} for unit rows [C, D] and normalised targets z [C, D] (autograd through unit). */
  public static Tensor oneMinusMeanCos(Tensor unit, Tensor z) {
    Tensor cos = unit.mul(z).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    return cos.mean().neg().add(new Scalar(1.0));
  }

  @Override
  public Tensor loss(int[] batch, long epoch) {
    Tensor logits = learner.logits(train.batch(batch, epoch));
    Tensor loss = Losses.crossEntropy(logits, train.batchLabels(batch), smoothing);
    if (templateFeatures != null && lambda != 0) loss = loss.add(knowledgeTerm().mul(new Scalar(lambda)));
    return loss;
  }

  @Override
  public double evaluate() {
    if (validation == null) return Double.NaN;
    try (NoGradGuard g = new NoGradGuard()) {
      return validation.accuracy(learner.logits(validation.view(0)));
    }
  }

  @Override
  public int validationSize() {
    return validation == null ? 0 : validation.size();
  }

  @Override
  public long correct(int from, int to) {
    try (NoGradGuard g = new NoGradGuard()) {
      return validation.correct(learner.logits(validation.rows(0, from, to)), from, to);
    }
  }
}
