package dev.mergetune.adapt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/** Autograd gradients checked against five-point central differences of the loss, coordinate by coordinate. */
public final class FiniteDifferences {
  private FiniteDifferences() {}

  /** The given coordinates and the {@code largest} largest-magnitude others. */
  public static List<Integer> coordinates(float[] grad, int largest, int... fixed) {
    List<Integer> coords = new ArrayList<>();
    for (int i : fixed) coords.add(i);
    for (int k = 0; k < largest; k++) {
      int best = -1;
      for (int i = 0; i < grad.length; i++) {
        if (!coords.contains(i) && (best < 0 || Math.abs(grad[i]) > Math.abs(grad[best]))) best = i;
      }
      coords.add(best);
    }
    return coords;
  }

  /**
   * For each coordinate i of {@code param} (its flat view), f'(x) ≈ [8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))] / 12h
   * — truncation O(h⁴), so h can be large enough that float32 rounding of the loss stays small — against
   * {@code grad[i]}, to {@code tol·max|grad| + tol·|fd|}. {@code loss} is evaluated with the coordinate moved (it may
   * use autograd inside); the parameter is restored after.
   */
  public static void check(Tensor param, float[] grad, List<Integer> coords, double h, double tol,
      DoubleSupplier loss) {
    double maxAbs = 0;
    for (float gi : grad) maxAbs = Math.max(maxAbs, Math.abs(gi));
    assertTrue(maxAbs > 1e-3, "a gradient worth checking: " + maxAbs);
    Tensor flat = param.detach().view(-1);  // shares the parameter's storage
    double[] steps = {h, -h, 2 * h, -2 * h};
    for (int i : coords) {
      double[] f = new double[4];
      float x0;
      try (NoGradGuard g = new NoGradGuard()) {
        x0 = flat.select(0, i).item_float();
      }
      for (int s = 0; s < 4; s++) {
        try (NoGradGuard g = new NoGradGuard()) {
          flat.select(0, i).fill_(new Scalar(x0 + steps[s]));
        }
        f[s] = loss.getAsDouble();
      }
      try (NoGradGuard g = new NoGradGuard()) {
        flat.select(0, i).fill_(new Scalar(x0));
      }
      double fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
      assertEquals(fd, grad[i], tol * maxAbs + tol * Math.abs(fd),
          "coordinate " + i + ": autograd " + grad[i] + ", finite differences " + fd);
    }
  }
}
