package dev.mergetune.merge.svd;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The LibTorch pieces the SVD merges share, all in float32 on the CPU:
 *
 * <pre>
 *   view(a, m, n)   the m×n row-major float32 matrix at native address a, without a copy (torch::from_blob)
 *   svd(A)          A = U·diag(S)·Vh, thin (torch::linalg_svd, full_matrices = false)
 *   polar(A)        U·Vh of svd(A): the orthogonal factor of A's polar decomposition, the orthonormal matrix
 *                   nearest A in Frobenius norm (what TSV-M and Iso-CTS call "orthogonalize")
 * </pre>
 *
 * Callers open a {@link org.bytedeco.javacpp.PointerScope} around each tensor's work so every temporary is freed
 * when it closes.
 */
final class Spectral {
  private Spectral() {}

  /** The float32 tensor of {@code shape} at {@code address} (memory owned by the caller; no deleter). */
  static Tensor view(long address, long... shape) {
    return torch.from_blob(new At(address), shape);
  }

  /** {U, S, Vh}, thin. */
  static Tensor[] svd(Tensor a) {
    T_TensorTensorTensor_T t = torch.linalg_svd(a, false, new StringViewOptional());
    return new Tensor[] {t.get0(), t.get1(), t.get2()};
  }

  /** U·Vh of the thin SVD of {@code a}. */
  static Tensor polar(Tensor a) {
    Tensor[] usv = svd(a);
    return usv[0].mm(usv[2]);
  }

  /** A pointer at a native address, for from_blob. */
  private static final class At extends FloatPointer {
    At(long a) {
      super((org.bytedeco.javacpp.Pointer) null);
      address = a;
    }
  }
}
