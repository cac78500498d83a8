package dev.mergetune.adapt;

import dev.mergetune.train.Losses;
import dev.mergetune.train.ShardedValidation;
import dev.mergetune.train.TrainableMethod;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@link LinearProbe} trained as a {@link TrainableMethod} on cached image features of the frozen encoder:
 * label-smoothed cross-entropy of the head's logits.
 */
public final class LinearProbeMethod implements TrainableMethod, ShardedValidation {
  private static final Logger LOG = LoggerFactory.getLogger(LinearProbeMethod.class);

  private final LinearProbe probe;
  private final CachedFeatures train;
  private final CachedFeatures validation;
  private final double smoothing;

  /** {@code validation} may be null ({@link #evaluate} then returns NaN). */
  public LinearProbeMethod(LinearProbe probe, CachedFeatures train, CachedFeatures validation, double smoothing) {
    if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1)");
    this.probe = probe;
    this.train = train;
    this.validation = validation;
    this.smoothing = smoothing;
    LOG.debug("linear probe on cached image features: the image encoder is frozen, so features were computed once ("
        + train.views() + " view" + (train.views() == 1 ? "" : "s of pre-drawn augmentations") + ") for "
        + train.size() + " training items");
  }

  public LinearProbe probe() {
    return probe;
  }

  @Override
  public Map<String, Tensor> trainable() {
    return probe.parameters();
  }

  @Override
  public int trainSize() {
    return train.size();
  }

  @Override
  public Tensor loss(int[] batch, long epoch) {
    return Losses.crossEntropy(probe.logits(train.batch(batch, epoch)), train.batchLabels(batch), smoothing);
  }

  @Override
  public double evaluate() {
    if (validation == null) return Double.NaN;
    try (NoGradGuard g = new NoGradGuard()) {
      return validation.accuracy(probe.logits(validation.view(0)));
    }
  }

  @Override
  public int validationSize() {
    return validation == null ? 0 : validation.size();
  }

  @Override
  public long correct(int from, int to) {
    try (NoGradGuard g = new NoGradGuard()) {
      return validation.correct(probe.logits(validation.rows(0, from, to)), from, to);
    }
  }
}
