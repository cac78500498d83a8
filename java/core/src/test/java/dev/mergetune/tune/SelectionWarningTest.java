package dev.mergetune.tune;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.train.TrainingLoop;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The warning when best-validation selection keeps the continuation's first epoch. */
class SelectionWarningTest {
  @Test
  void warnsOnlyWhenTheFirstOfSeveralEpochsWasKept() {
    NativeRuntime.ensureTorch();
    TrainSettings s = TrainSettings.defaults(TrainSettings.Method.COOP);
    s.epochs = 5;
    Map<String, Tensor> start = Map.of("ctx", Tensor.create(new float[] {3, 4}, 2));   // |ŵ2| = 5
    Map<String, Tensor> kept = Map.of("ctx", Tensor.create(new float[] {3, 4.01f}, 2)); // |w − ŵ2| = 0.01
    Optional<String> w = SelectionWarning.of(s, new TrainingLoop.Result(40, 0.5, 0, 0.4375, false), start, kept, 16,
        "coop");
    assertTrue(w.isPresent());
    // relative L2 = 0.01 / 5 = 0.002 (the float 4.01 is 4.0100002…: two significant digits print 0.0020)
    assertTrue(w.get().contains("epoch 1 of 5") && w.get().contains("43.8 % on 16 images")
        && w.get().contains("by 0.0020 (relative L2)") && w.get().contains("--last"), w.get());
    assertTrue(SelectionWarning.of(s, new TrainingLoop.Result(40, 0.5, 2, 0.5, false), start, kept, 16, "coop")
        .isEmpty(), "a later epoch was kept");
    s.keepBest = false;
    assertTrue(SelectionWarning.of(s, new TrainingLoop.Result(40, 0.5, 0, 0.5, false), start, kept, 16, "coop")
        .isEmpty(), "no selection, no warning");
  }
}
