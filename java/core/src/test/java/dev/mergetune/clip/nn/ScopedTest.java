package dev.mergetune.clip.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** A block's intermediate handles are released when it returns; its result lives until the enclosing scope ends. */
class ScopedTest {
  @Test
  void intermediatesAreReleasedAndTheResultMovesToTheEnclosingScope() {
    NativeRuntime.ensureTorch();
    List<Tensor> intermediates = new ArrayList<>();
    Tensor out;
    Tensor x = torch.ones(4).set_requires_grad(true);
    try (PointerScope outer = new PointerScope()) {
      out = Scoped.call(x, in -> {
        Tensor a = in.mul(new Scalar(3));
        Tensor b = a.add(new Scalar(1));
        intermediates.add(a);
        intermediates.add(b);
        return b.mul(b);
      });
      for (Tensor t : intermediates) assertTrue(t.isNull(), "an intermediate handle outlived its block");
      assertFalse(out.isNull());
      assertEquals(64.0, out.sum().item_double(), 0);  // 4 · (3 + 1)²
      out.sum().backward();                            // autograd kept what it saved
      assertEquals(24.0, x.grad().select(0, 0).item_double(), 0);  // d/dx (3x + 1)² = 6(3x + 1)
    }
    assertTrue(out.isNull(), "the result is released with the enclosing scope");
  }
}
