package dev.mergetune.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/** Named tensor sets (trainable tensors, weight snapshots): detached copies, and copying values back in place. */
public final class TensorMaps {
  private TensorMaps() {}

  /** Detached clones, in the map's order. */
  public static Map<String, Tensor> copy(Map<String, Tensor> tensors) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) out.put(e.getKey(), e.getValue().detach().clone());
    }
    return out;
  }

  /** Copies {@code from}'s values into each tensor of {@code into}, by name, in place and without gradients. */
  public static void assign(Map<String, Tensor> into, Map<String, Tensor> from) {
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : into.entrySet()) e.getValue().copy_(from.get(e.getKey()));
    }
  }
}
