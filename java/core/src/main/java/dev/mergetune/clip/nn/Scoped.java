package dev.mergetune.clip.nn;

import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs a piece of a forward pass in its own {@link PointerScope}: every tensor handle it creates is released when it
 * returns, except its result, which moves to the enclosing scope (or, without one, to the GC like any unscoped
 * handle). Releasing a handle only drops a reference — a tensor that autograd saved for backward lives on.
 */
final class Scoped {
  private Scoped() {}

  static Tensor call(Tensor input, UnaryOperator<Tensor> body) {
    Tensor out;
    try (PointerScope scope = new PointerScope()) {
      out = body.apply(input);
      out.retainReference();  // survives this scope's release
    }
    PointerScope outer = PointerScope.getInnerScope();
    if (outer != null) {
      outer.attach(out);        // the enclosing scope releases it when it closes
      out.releaseReference();   // hand over the reference taken above
    }
    return out;
  }
}
