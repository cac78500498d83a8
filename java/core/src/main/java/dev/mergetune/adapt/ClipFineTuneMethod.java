package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.data.Dataset;
import dev.mergetune.train.Losses;
import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.TrainableMethod;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Fine-tuning through the image encoder, as a {@link TrainableMethod}: every step decodes and augments its batch of
 * images, runs both towers and takes the label-smoothed cross-entropy of
 * {@code exp(logit_scale) · normalize(image features) · normalize(text features)ᵀ} over the training classes, whose
 * text features come from one prompt per class ({@code tokens}, e.g. the first template) re-encoded every step, so
 * the text tower trains too. This is ConDU's full fine-tuning loss (methods.md §2.5).
 *
 * <ul>
 *   <li>{@link #endToEnd}: every parameter of the model but {@code logit_scale}, which is frozen;
 *   <li>{@link #lora}: only the {@link Lora} adapters; every base parameter is frozen.
 * </ul>
 *
 * Validation (when given) is top-1 accuracy on its images through the deterministic transform, against the current
 * model's text features of the same prompts, computed in batches without gradients.
 */
public final class ClipFineTuneMethod implements TrainableMethod, ShardedValidation {
  private static final Logger LOG = LoggerFactory.getLogger(ClipFineTuneMethod.class);

  private final ClipModel model;
  private final Tensor tokens;  // [C, context] int64
  private final Dataset train;
  private final Transform trainTransform;
  private final Dataset validation;  // or null
  private final Transform evalTransform;
  private final LinkedHashMap<String, Tensor> trainable;
  private final Lora lora;  // null: end to end
  private final double smoothing;
  private final int threads;
  private final int evalBatch;

  private ClipFineTuneMethod(ClipModel model, Tensor tokens, Dataset train, Transform trainTransform,
      Dataset validation, Transform evalTransform, LinkedHashMap<String, Tensor> trainable, Lora lora,
      double smoothing, int threads, int evalBatch) {
    if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1)");
    if (tokens.dim() != 2 || tokens.size(0) != train.numClasses()) {
      throw new IllegalArgumentException("one prompt per training class expected: " + tokens.size(0) + " prompts, "
          + train.numClasses() + " classes");
    }
    if (validation != null && validation.numClasses() != train.numClasses()) {
      throw new IllegalArgumentException("validation has " + validation.numClasses() + " classes, training "
          + train.numClasses());
    }
    if (evalTransform.isRandom()) throw new IllegalArgumentException("the evaluation transform must be deterministic");
    if (threads < 1 || evalBatch < 1) throw new IllegalArgumentException("threads and batch size must be positive");
    this.model = model;
    this.tokens = tokens;
    this.train = train;
    this.trainTransform = trainTransform;
    this.validation = validation;
    this.evalTransform = evalTransform;
    this.trainable = trainable;
    this.lora = lora;
    this.smoothing = smoothing;
    this.threads = threads;
    this.evalBatch = evalBatch;
  }

  /** End-to-end fine-tuning: every parameter but {@code logit_scale} trains. */
  public static ClipFineTuneMethod endToEnd(ClipModel model, Tensor tokens, Dataset train, Transform trainTransform,
      Dataset validation, Transform evalTransform, double smoothing, int threads, int evalBatch) {
    LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
      boolean train1 = !e.getKey().equals("logit_scale");
      e.getValue().set_requires_grad(train1);
      if (train1) params.put(e.getKey(), e.getValue());
    }
    LOG.debug("end-to-end fine-tuning of " + params.size() + " tensors (" + count(params) + " parameters; logit_scale"
        + " frozen), images decoded and augmented every step (" + trainTransform.id() + ")");
    return new ClipFineTuneMethod(model, tokens, train, trainTransform, validation, evalTransform, params, null,
        smoothing, threads, evalBatch);
  }

  /** LoRA fine-tuning: the base model is frozen, the adapters of {@code lora} (attached to {@code model}) train. */
  public static ClipFineTuneMethod lora(ClipModel model, Lora lora, Tensor tokens, Dataset train,
      Transform trainTransform, Dataset validation, Transform evalTransform, double smoothing, int threads,
      int evalBatch) {
    if (lora.merged()) throw new IllegalArgumentException("unmerge the adapters before training them");
    Lora.freezeBase(model);
    LinkedHashMap<String, Tensor> params = lora.parameters();
    LOG.debug("LoRA fine-tuning: rank " + lora.rank() + ", scaling " + lora.scaling() + ", " + params.size()
        + " adapter tensors (" + count(params) + " parameters), base frozen; images decoded and augmented every step ("
        + trainTransform.id() + ")");
    return new ClipFineTuneMethod(model, tokens, train, trainTransform, validation, evalTransform, params, lora,
        smoothing, threads, evalBatch);
  }

  private static long count(Map<String, Tensor> params) {
    long n = 0;
    for (Tensor t : params.values()) n += t.numel();
    return n;
  }

  public ClipModel model() {
    return model;
  }

  /** The adapters of a LoRA run; null for end-to-end fine-tuning. */
  public Lora lora() {
    return lora;
  }

  @Override
  public Map<String, Tensor> trainable() {
    return trainable;
  }

  @Override
  public int trainSize() {
    return train.size();
  }

  // The last batch's decoded images: a step that evaluates the loss several times on one batch (MergeTune's weight
  // space: once per α and once at w) decodes and augments it once. Freed with the step's PointerScope (then isNull).
  private int[] lastBatch;
  private long lastEpoch = -1;
  private Tensor lastImages;

  @Override
  public Tensor loss(int[] batch, long epoch) {
    Tensor images;
    if (lastImages != null && !lastImages.isNull() && epoch == lastEpoch && Arrays.equals(batch, lastBatch)) {
      images = lastImages;
    } else {
      images = ImageBatch.loadTensor(train, batch, trainTransform, epoch, threads);
      lastImages = images;
      lastBatch = batch.clone();
      lastEpoch = epoch;
    }
    long[] labels = new long[batch.length];
    for (int i = 0; i < batch.length; i++) labels[i] = train.samples().get(batch[i]).label();
    Tensor logits = model.logitsPerImage(model.encodeImage(images), model.encodeText(tokens));
    return Losses.crossEntropy(logits, Tensor.create(labels, labels.length), smoothing);
  }

  /** Top-1 accuracy on the validation images (NaN without validation). */
  @Override
  public double evaluate() {
    if (validation == null) return Double.NaN;
    return (double) correct(0, validation.size()) / validation.size();
  }

  @Override
  public int validationSize() {
    return validation == null ? 0 : validation.size();
  }

  @Override
  public int validationBatch() {
    return evalBatch;
  }

  /** Correct predictions on validation images [from, to), in batches of {@code evalBatch} from {@code from}. */
  @Override
  public long correct(int from, int to) {
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor text = ClipModel.normalize(model.encodeText(tokens)).detach().clone();
      long hits = 0;
      for (int start = from; start < to; start += evalBatch) {
        int[] idx = new int[Math.min(evalBatch, to - start)];
        for (int i = 0; i < idx.length; i++) idx[i] = start + i;
        try (PointerScope scope = new PointerScope()) {
          Tensor f = ClipModel.normalize(model.encodeImage(ImageBatch.loadTensor(validation, idx, evalTransform, 0,
              threads)));
          long[] pred = new long[idx.length];
          f.matmul(text.t()).argmax(new org.bytedeco.pytorch.LongOptional(1), false).contiguous().data_ptr_long()
              .get(pred);
          for (int i = 0; i < idx.length; i++) if (pred[i] == validation.samples().get(idx[i]).label()) hits++;
        }
      }
      return hits;
    }
  }

  @Override
  public String toString() {
    return "ClipFineTuneMethod" + Arrays.asList(trainable.size(), train.name());
  }
}
