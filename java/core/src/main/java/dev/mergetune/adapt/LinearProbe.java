package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import dev.mergetune.tensors.NamedTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A linear head over frozen image features: {@code logits = normalize(f)·Wᵀ (+ b)} with W [C, embed] and an
 * optional bias [C]. {@link #fromZeroShot} starts it at the zero-shot classifier (W = exp(logit_scale) × the unit
 * class embeddings, b = 0), so at initialisation its logits are the zero-shot logits. Tensors are named
 * {@code weight} and {@code bias} (float32, CPU) in {@link #parameters()} and in saved files.
 */
public final class LinearProbe {
  static final String FORMAT = "mergetune-linear-probe-1";

  private final Tensor weight;
  private final Tensor bias;  // null: no bias

  private LinearProbe(Tensor weight, Tensor bias) {
    this.weight = weight.set_requires_grad(true);
    this.bias = bias == null ? null : bias.set_requires_grad(true);
  }

  /** A head initialised from the zero-shot class embeddings times the logit scale; bias (if any) zero. */
  public static LinearProbe fromZeroShot(ZeroShotClassifier zeroShot, boolean withBias) {
    float[][] w = zeroShot.weights();
    int c = w.length;
    int d = w[0].length;
    float[] flat = new float[c * d];
    for (int i = 0; i < c; i++) {
      if (w[i].length != d) throw new IllegalArgumentException("ragged class embeddings");
      for (int j = 0; j < d; j++) flat[i * d + j] = w[i][j] * zeroShot.scale();
    }
    return new LinearProbe(Tensor.create(flat, c, d), withBias ? torch.zeros(c) : null);
  }

  /** A head of the given shape with zero weights (for {@link #load}). */
  public static LinearProbe zeros(int classes, int embedDim, boolean withBias) {
    return new LinearProbe(torch.zeros(classes, embedDim), withBias ? torch.zeros(classes) : null);
  }

  public boolean hasBias() {
    return bias != null;
  }

  public long classes() {
    return weight.size(0);
  }

  /** logits [B, C] for image features [B, embed] (normalised here; pass them detached or cached). */
  public Tensor logits(Tensor features) {
    Tensor f = ClipModel.normalize(features);
    return bias == null ? f.matmul(weight.t()) : torch.linear(f, weight, bias);
  }

  /** {@code weight} and, if present, {@code bias}. */
  public LinkedHashMap<String, Tensor> parameters() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    out.put("weight", weight);
    if (bias != null) out.put("bias", bias);
    return out;
  }

  public List<Tensor> trainable() {
    return List.copyOf(parameters().values());
  }

  /**
   * One optimizer step of label-smoothed cross-entropy on a batch; returns the loss before the step. The optimizer
   * must be built over {@link #trainable()} (e.g. {@link Optimizers#adamW} or {@link Optimizers#sgd}).
   *
   * @param labels int64 [B]
   */
  public double step(Optimizers.Named optimizer, Tensor features, Tensor labels, double smoothing) {
    optimizer.zeroGrad();
    Tensor loss = Losses.crossEntropy(logits(features.detach()), labels, smoothing);
    loss.backward();
    optimizer.step();
    return loss.item_double();
  }

  public void save(Path target) throws IOException {
    NamedTensors.save(target, parameters(), Map.of("format", FORMAT));
  }

  /** Loads a saved head into this one in place (same shapes, same bias presence). */
  public void load(Path source) {
    if (!FORMAT.equals(NamedTensors.metadata(source).get("format"))) {
      throw new IllegalArgumentException(source + " is not a linear-probe file");
    }
    NamedTensors.load(source, parameters());
  }

  /** Copies of the head's logits for plain arrays, without gradients. */
  public float[][] logits(float[][] features) {
    int n = features.length;
    int d = features[0].length;
    float[] flat = new float[n * d];
    for (int i = 0; i < n; i++) System.arraycopy(features[i], 0, flat, i * d, d);
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor l = logits(Tensor.create(flat, n, d)).contiguous();
      int c = (int) l.size(1);
      float[] v = new float[n * c];
      l.data_ptr_float().get(v);
      float[][] out = new float[n][c];
      for (int i = 0; i < n; i++) System.arraycopy(v, i * c, out[i], 0, c);
      return out;
    }
  }
}
