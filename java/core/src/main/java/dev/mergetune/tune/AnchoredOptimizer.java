package dev.mergetune.tune;

import dev.mergetune.kernels.ZeroShotAnchor;
import dev.mergetune.tensors.NamedTensors;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.train.StepOptimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@link StepOptimizer} that folds MergeTune's zero-shot anchor (λ/2)‖w − ŵ1‖² into SGD or AdamW (kernel K2, one
 * pass over w, ŵ1, the gradient and the optimizer state), as LibTorch's SGD / AdamW would step on g + λ(w − ŵ1).
 * Its state (moments and step count) is checkpointed as a safetensors file.
 */
public final class AnchoredOptimizer implements StepOptimizer {
  static final String FORMAT = "mergetune-anchored-optimizer-1";

  private final ZeroShotAnchor anchor;
  private final List<Tensor> params;
  private double lastAnchor = Double.NaN;

  private AnchoredOptimizer(ZeroShotAnchor anchor, List<Tensor> params) {
    this.anchor = anchor;
    this.params = List.copyOf(params);
  }

  /** Fused SGD over {@code trainable} (in order) anchored to {@code w1} (same names). */
  public static AnchoredOptimizer sgd(Map<String, Tensor> trainable, Map<String, Tensor> w1, double lambda,
      ZeroShotAnchor.Sgd options) {
    List<String> names = new ArrayList<>(trainable.keySet());
    List<Tensor> p = new ArrayList<>(trainable.values());
    return new AnchoredOptimizer(ZeroShotAnchor.sgd(names, p, anchors(names, w1), (float) lambda, options), p);
  }

  /** Fused AdamW over {@code trainable} (in order) anchored to {@code w1} (same names). */
  public static AnchoredOptimizer adamW(Map<String, Tensor> trainable, Map<String, Tensor> w1, double lambda,
      ZeroShotAnchor.AdamW options) {
    List<String> names = new ArrayList<>(trainable.keySet());
    List<Tensor> p = new ArrayList<>(trainable.values());
    return new AnchoredOptimizer(ZeroShotAnchor.adamW(names, p, anchors(names, w1), (float) lambda, options), p);
  }

  private static List<Tensor> anchors(List<String> names, Map<String, Tensor> w1) {
    List<Tensor> out = new ArrayList<>();
    try (NoGradGuard g = new NoGradGuard()) {
      for (String n : names) {
        Tensor t = w1.get(n);
        if (t == null) throw new IllegalArgumentException("the zero-shot weights lack '" + n + "'");
        out.add(t.detach().contiguous().clone());
      }
    }
    return out;
  }

  /** The anchor value (λ/2)‖w − ŵ1‖² before the last step. */
  public double lastAnchorValue() {
    return lastAnchor;
  }

  @Override
  public List<Tensor> parameters() {
    return params;
  }

  @Override
  public void setLearningRate(double lr) {
    anchor.setLearningRate(lr);
  }

  @Override
  public void zeroGrad() {
    try (NoGradGuard g = new NoGradGuard()) {
      for (Tensor p : params) {
        Tensor gr = p.grad();
        if (gr.defined()) gr.zero_();
      }
    }
  }

  @Override
  public void step() {
    lastAnchor = anchor.step();
  }

  @Override
  public void saveState(Path file) throws IOException {
    Map<String, Tensor> named = new LinkedHashMap<>();
    List<Tensor> state = anchor.stateTensors();
    for (int i = 0; i < state.size(); i++) named.put(String.format("state.%04d", i), state.get(i));
    NamedTensors.save(file, named, Map.of("format", FORMAT, "steps", Long.toString(anchor.steps())));
  }

  @Override
  public void loadState(Path file) {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      if (!FORMAT.equals(f.metadata().get("format"))) throw new IllegalArgumentException(file + " is not " + FORMAT);
      List<Tensor> state = new ArrayList<>();
      for (int i = 0; i < f.tensors().size(); i++) {
        String n = String.format("state.%04d", i);
        state.add(Tensor.create(f.readFloats(n), f.info(n).shape()));
      }
      anchor.loadState(Long.parseLong(f.metadata().get("steps")), state);
    }
  }
}
