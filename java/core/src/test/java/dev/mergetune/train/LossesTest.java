package dev.mergetune.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LossesTest {
  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static final float[] LOGITS = {0.3f, -1.2f, 2.0f, 0.5f, 1.1f, 0.0f, -0.4f, 0.9f, -2.0f, 0.7f, 0.2f, 1.5f};
  static final long[] LABELS = {2, 0, 3};

  /** Double-precision reference: mean_i [ −(1 − ε) log p_i[y_i] − (ε/C) Σ_c log p_i[c] ]. */
  static double reference(float[] logits, long[] labels, int c, double eps) {
    double total = 0;
    for (int i = 0; i < labels.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < c; j++) max = Math.max(max, logits[i * c + j]);
      double sum = 0;
      for (int j = 0; j < c; j++) sum += Math.exp(logits[i * c + j] - max);
      double lse = max + Math.log(sum);
      double sumLogp = 0;
      for (int j = 0; j < c; j++) sumLogp += logits[i * c + j] - lse;
      total += -(1 - eps) * (logits[i * c + (int) labels[i]] - lse) - eps / c * sumLogp;
    }
    return total / labels.length;
  }

  static double ours(float[] logits, long[] labels, double eps) {
    return Losses.crossEntropy(Tensor.create(logits, labels.length, logits.length / labels.length),
        Tensor.create(labels), eps).item_double();
  }

  @Test
  void matchesLibTorchAndDoubleReference() {
    for (double eps : new double[] {0, 0.1, 0.2, 1}) {
      Tensor logits = Tensor.create(LOGITS, 3, 4);
      Tensor labels = Tensor.create(LABELS);
      double libtorch = torch.cross_entropy_loss(logits, labels, new TensorOptional(), 1 /* Mean */, -100, eps)
          .item_double();
      double mine = ours(LOGITS, LABELS, eps);
      assertEquals(libtorch, mine, 1e-6, "eps " + eps);
      assertEquals(reference(LOGITS, LABELS, 4, eps), mine, 1e-6, "eps " + eps);
    }
  }

  @Test
  void gradientMatchesLibTorchAndFiniteDifferences() {
    double eps = 0.2;
    Tensor logits = Tensor.create(LOGITS, 3, 4).set_requires_grad(true);
    Losses.crossEntropy(logits, Tensor.create(LABELS), eps).backward();
    float[] grad = new float[12];
    logits.grad().contiguous().data_ptr_float().get(grad);

    Tensor logits2 = Tensor.create(LOGITS, 3, 4).set_requires_grad(true);
    torch.cross_entropy_loss(logits2, Tensor.create(LABELS), new TensorOptional(), 1, -100, eps).backward();
    float[] grad2 = new float[12];
    logits2.grad().contiguous().data_ptr_float().get(grad2);

    double h = 1e-4;
    for (int k = 0; k < 12; k++) {
      float[] plus = LOGITS.clone();
      float[] minus = LOGITS.clone();
      plus[k] += (float) h;
      minus[k] -= (float) h;
      double hk = ((double) plus[k] - minus[k]);  // the step as actually represented in float
      double fd = (reference(plus, LABELS, 4, eps) - reference(minus, LABELS, 4, eps)) / hk;
      assertEquals(fd, grad[k], 1e-5, "finite difference, element " + k);
      assertEquals(grad2[k], grad[k], 1e-6, "LibTorch, element " + k);
    }
  }
}
