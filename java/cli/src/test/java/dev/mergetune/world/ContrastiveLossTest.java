package dev.mergetune.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ContrastiveLossTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** ½·(mean_i [lse(row i) − L_ii] + mean_j [lse(column j) − L_jj]), in double. */
  static double reference(float[] l, int b) {
    double rows = 0;
    double cols = 0;
    for (int i = 0; i < b; i++) {
      double rs = 0;
      double cs = 0;
      for (int j = 0; j < b; j++) {
        rs += Math.exp(l[i * b + j]);
        cs += Math.exp(l[j * b + i]);
      }
      rows += Math.log(rs) - l[i * b + i];
      cols += Math.log(cs) - l[i * b + i];
    }
    return 0.5 * (rows / b + cols / b);
  }

  @Test
  void matchesADoubleReferenceAndLibTorchsCrossEntropy() {
    int b = 5;
    float[] l = new float[b * b];
    dev.mergetune.data.SplitMix64 r = new dev.mergetune.data.SplitMix64(42);
    for (int i = 0; i < l.length; i++) l[i] = (float) (20 * (r.nextDouble() - 0.5));  // logits as large as CLIP's
    Tensor logits = Tensor.create(l, b, b);
    double ours = ContrastiveLoss.symmetric(logits).item_double();
    assertEquals(reference(l, b), ours, 1e-5);
    Tensor targets = torch.arange(new org.bytedeco.pytorch.Scalar(b));
    double lib = 0.5 * (torch.cross_entropy_loss(logits, targets, new TensorOptional(), 1, -100, 0.0).item_double()
        + torch.cross_entropy_loss(logits.t().contiguous(), targets, new TensorOptional(), 1, -100, 0.0).item_double());
    assertEquals(lib, ours, 1e-6);
    // not symmetric in its argument's layout: the transpose of a non-symmetric matrix swaps the two halves only
    assertEquals(ours, ContrastiveLoss.symmetric(logits.t()).item_double(), 1e-6);
    float[] skew = l.clone();
    skew[1] += 3;  // one off-diagonal change moves the loss
    double moved = ContrastiveLoss.symmetric(Tensor.create(skew, b, b)).item_double();
    assertEquals(reference(skew, b), moved, 1e-5);
    assertThrows(IllegalArgumentException.class, () -> ContrastiveLoss.symmetric(Tensor.create(new float[6], 2, 3)));
  }
}
