package dev.mergetune.clip.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Parameter tensors for the CLIP modules: float32 on the CPU, filled by a loader or an initialiser. */
public final class Params {
  private Params() {}

  static Tensor empty(long... shape) {
    return torch.zeros(shape);
  }

  /**
   * Registers {@code tensor} as parameter {@code name} of {@code module} and returns the caller's own handle to it.
   * The reference {@code register_parameter} returns points into the module's parameter table, which moves when
   * the next parameter is added — holding it crashes later; the tensor passed in shares the same storage and
   * autograd state and stays valid.
   */
  public static Tensor register(Module module, String name, Tensor tensor) {
    module.register_parameter(name, tensor);
    return tensor;
  }
}
