package dev.mergetune.tune;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.train.TrainingLoop;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;

/**
 * Says so when best-validation selection kept the continuation's first epoch: in Dassl's schedule that epoch runs at
 * the warm-up learning rate, so the kept state is all but the starting point, and "baseline + MergeTune" is the
 * baseline under another name (a small validation set makes this likely: its accuracy moves in steps of 1/n).
 */
final class SelectionWarning {
  private SelectionWarning() {}

  /**
   * The warning, if {@code s} selects by validation, more than one epoch ran and the first was kept.
   *
   * @param start the trainable tensors the continuation started from (ŵ2), by name
   * @param kept the tensors it kept, by the same names
   * @param validationImages the validation set's size
   */
  static Optional<String> of(TrainSettings s, TrainingLoop.Result r, Map<String, Tensor> start,
      Map<String, Tensor> kept, int validationImages, String baselineName) {
    if (!s.keepBest || r.bestEpoch() != 0 || s.epochs <= 1) return Optional.empty();
    double diff = 0;
    double norm = 0;
    for (Map.Entry<String, Tensor> e : start.entrySet()) {
      float[] a = values(e.getValue());
      float[] b = values(kept.get(e.getKey()));
      for (int i = 0; i < a.length; i++) {
        diff += ((double) b[i] - a[i]) * ((double) b[i] - a[i]);
        norm += (double) a[i] * a[i];
      }
    }
    double relative = norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    return Optional.of(String.format(Locale.ROOT, "best-validation selection kept epoch 1 of %d (validation"
        + " accuracy %.1f %% on %d images): the kept state differs from %s's by %.2g (relative L2), so '%s +"
        + " MergeTune' is nearly '%s'. Pass --last to keep the last epoch, or give a larger validation set.",
        s.epochs, 100 * r.bestAccuracy(), validationImages, baselineName, relative, baselineName, baselineName));
  }

  private static float[] values(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }
}
