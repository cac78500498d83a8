package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.Arrays;
import java.util.Objects;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.Tensor;

/**
 * K1: MergeTune's multi-α interpolated loss, forward and backward in one native call (multialpha.h).
 *
 * <pre>
 *   z_k = s · (A + α_k·D) · r_k,   r_k[c] = (n0[c] + 2α_k·n1[c] + α_k²·n2[c])^(-1/2)   (r ≡ 1 in plain mode)
 *   total = Σ_k ω_k · L_k,         L_k = batch mean of CE(z_k, labels; smoothing ε)  or  KL(P ‖ softmax z_k)
 * </pre>
 *
 * For CoOp/KgCoOp (re-normalised mode) with normalised image features v̂ [B, d], the cached stage-1 class
 * embeddings g [C, d] and the current ones F [C, d]: {@code A = v̂·gᵀ}, {@code D = v̂·(F − g)ᵀ}, {@code n0 = |g|²},
 * {@code n1 = ⟨g, F − g⟩}, {@code n2 = |F − g|²} (row-wise). Plain mode ({@link Inputs#plain}) is the PromptKD image
 * side / a linear head. KL follows torch's {@code kl_div(log_softmax(z), P, reduction="batchmean")}.
 *
 * <p>Two ways to use it: {@link #crossEntropy}/{@link #klDiv} return the per-α losses and the gradient tensors;
 * {@link #crossEntropyLoss}/{@link #klDivLoss} return a scalar tensor to put into an autograd graph (see
 * {@link #splice}). Tensors are float32, all on the CPU or all on one CUDA device (labels int32 or int64); they are
 * made contiguous (a copy only where they are not). Calls check for NaN/Inf (MT_CHECK_FINITE), which on CUDA costs one
 * stream synchronisation per call; the losses are read back to the host either way.
 */
public final class MultiAlphaLoss {
  private MultiAlphaLoss() {}

  /** The interpolation points α_k and their weights ω_k (1 to 64 of them). */
  public record Points(float[] alphas, float[] weights) {
    public Points {
      Objects.requireNonNull(alphas, "alphas");
      Objects.requireNonNull(weights, "weights");
      if (alphas.length != weights.length) {
        throw new IllegalArgumentException(alphas.length + " alphas for " + weights.length + " weights");
      }
      if (alphas.length < 1 || alphas.length > MergetuneNative.MT_MULTIALPHA_MAX_POINTS) {
        throw new IllegalArgumentException(
            "between 1 and " + MergetuneNative.MT_MULTIALPHA_MAX_POINTS + " points, got " + alphas.length);
      }
      for (int k = 0; k < alphas.length; k++) {
        if (!Float.isFinite(alphas[k]) || !Float.isFinite(weights[k])) {
          throw new IllegalArgumentException("alpha " + alphas[k] + " / weight " + weights[k] + " at point " + k);
        }
      }
      alphas = alphas.clone();
      weights = weights.clone();
    }

    /**
     * The reference code's grid {@code numpy.arange(0.1, 1.01, 1/N)} (N = 5: 0.1, 0.3, …, 0.9; N = 10: 0.1, …, 1.0;
     * its length is ⌈0.91·N⌉, which is N up to N = 11), each of the L points weighted β/L, so that the total is
     * β·(1/L)·Σ_t L_t (as tune.AlphaPoints.grid).
     */
    public static Points mergeTune(int n, float beta) {
      if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
      int len = (int) Math.ceil((1.01 - 0.1) / (1.0 / n));
      float[] a = new float[len];
      float[] w = new float[len];
      for (int i = 0; i < len; i++) {
        a[i] = (float) (0.1 + i * (1.0 / n));
        w[i] = beta / len;
      }
      return new Points(a, w);
    }

    @Override
    public float[] alphas() {
      return alphas.clone();
    }

    @Override
    public float[] weights() {
      return weights.clone();
    }

    @Override
    public String toString() {
      return "Points" + Arrays.toString(alphas) + "·" + Arrays.toString(weights);
    }
  }

  /** A [B, C], D [B, C] and, in re-normalised mode, n0, n1, n2 [C] (all null in plain mode). */
  public record Inputs(Tensor a, Tensor d, Tensor n0, Tensor n1, Tensor n2) {
    public Inputs {
      Objects.requireNonNull(a, "a");
      Objects.requireNonNull(d, "d");
      int given = (n0 != null ? 1 : 0) + (n1 != null ? 1 : 0) + (n2 != null ? 1 : 0);
      if (given != 0 && given != 3) {
        throw new IllegalArgumentException("n0, n1, n2: give all three (re-normalised) or none (plain), got " + given);
      }
    }

    public static Inputs plain(Tensor a, Tensor d) {
      return new Inputs(a, d, null, null, null);
    }

    public static Inputs renormalised(Tensor a, Tensor d, Tensor n0, Tensor n1, Tensor n2) {
      return new Inputs(a, d, Objects.requireNonNull(n0, "n0"), Objects.requireNonNull(n1, "n1"),
          Objects.requireNonNull(n2, "n2"));
    }

    public boolean renormalised() {
      return n0 != null;
    }
  }

  /** Per-α losses, the total Σ ω_k L_k and the gradients of the total (the n-gradients null in plain mode). */
  public record Result(float[] losses, float total, Tensor gradA, Tensor gradD, Tensor gradN0, Tensor gradN1,
      Tensor gradN2) {}

  /** Cross-entropy with label smoothing ε ∈ [0, 1) at every point; labels [B] (int32 or int64). */
  public static Result crossEntropy(Inputs in, Tensor labels, float smoothing, Points points, float scale) {
    return run(in, Objects.requireNonNull(labels, "labels"), null, smoothing, points, scale);
  }

  /** KL(P ‖ softmax z_k), batch mean, at every point; targets P [B, C] (non-negative, rows need not sum to 1). */
  public static Result klDiv(Inputs in, Tensor targets, Points points, float scale) {
    return run(in, null, Objects.requireNonNull(targets, "targets"), 0f, points, scale);
  }

  /** {@link #crossEntropy} as a differentiable scalar: see {@link #splice}. */
  public static Tensor crossEntropyLoss(Inputs in, Tensor labels, float smoothing, Points points, float scale) {
    return splice(in, crossEntropy(in, labels, smoothing, points, scale));
  }

  /** {@link #klDiv} as a differentiable scalar: see {@link #splice}. */
  public static Tensor klDivLoss(Inputs in, Tensor targets, Points points, float scale) {
    return splice(in, klDiv(in, targets, points, scale));
  }

  /**
   * A scalar tensor whose value is {@code r.total()} and whose gradient with respect to A, D, n0, n1, n2 is the
   * kernel's: {@code S − S.detach() + total} with {@code S = Σ (A ⊙ dA) + Σ (D ⊙ dD) + Σ (n_i ⊙ dn_i)}, the
   * gradient tensors being constants. {@code S − S.detach()} is exactly 0 in value and has S's gradient, so
   * back-propagating the returned tensor (alone, or as one term of a larger loss: {@code ce + β·multiAlpha +
   * λ·anchor}, one {@code backward()}) pushes the kernel's gradients into whatever produced A, D and the n's
   * (the text encoder's context vectors in CoOp). Inputs that do not require grad are left out of S.
   *
   * <p>Why this and not {@code torch.autograd.backward([A, D, …], [dA, dD, …])}: the other loss terms usually share
   * the graph above A, D and the n's, and a second backward over it would need {@code retain_graph}; the surrogate
   * joins the kernel into the same single backward. Its extra cost is one multiply-and-sum per input (B·C), and it
   * is first-order only (a gradient of this gradient is wrong).
   */
  public static Tensor splice(Inputs in, Result r) {
    Tensor s = term(null, in.a(), r.gradA());
    s = term(s, in.d(), r.gradD());
    if (in.renormalised()) {
      s = term(s, in.n0(), r.gradN0());
      s = term(s, in.n1(), r.gradN1());
      s = term(s, in.n2(), r.gradN2());
    }
    Tensor total = in.a().new_empty(new long[0]).fill_(new org.bytedeco.pytorch.Scalar(r.total()));
    if (s == null) return total;
    return s.sub(s.detach()).add(total);
  }

  /** The spliced path term and its per-α cross-entropies (for logs). */
  public record PathTerm(Tensor loss, float[] perAlpha) {}

  /**
   * MergeTune's CoOp/KgCoOp path term {@code Σ_k ω_k·CE_ε(s·v̂·normalize(g + α_k(F − g))ᵀ, y)} (methods.md §1.2)
   * from the features, with the contract of {@code tune.PathLoss}: builds {@code A = v̂·gᵀ}, {@code D = v̂·(F − g)ᵀ}
   * and the n's with LibTorch (autograd through F), runs K1 and {@link #splice}s, so the returned loss back-propagates
   * into F. Two B×C×D products forward (A has no gradient) instead of K.
   *
   * @param vhat [B, D] normalised image features (constant)
   * @param f [C, D] learned class text features before normalisation (autograd)
   * @param g [C, D] stage-1 class text features (constant)
   * @param labels [B] int64 or int32
   */
  public static PathTerm coopPathTerm(Tensor vhat, Tensor f, Tensor g, Tensor labels, double scale, double[] alphas,
      double[] weights, double smoothing) {
    float[] a = new float[alphas.length];
    float[] w = new float[weights.length];
    for (int k = 0; k < a.length; k++) a[k] = (float) alphas[k];
    for (int k = 0; k < w.length; k++) w[k] = (float) weights[k];
    Tensor gc = g.detach();
    Tensor delta = f.sub(gc);
    Tensor constantA;
    try (NoGradGuard guard = new NoGradGuard()) {
      constantA = vhat.matmul(gc.t());
    }
    Inputs in = Inputs.renormalised(constantA, vhat.matmul(delta.t()), rowSum(gc.mul(gc)), rowSum(gc.mul(delta)),
        rowSum(delta.mul(delta)));
    Result r = crossEntropy(in, labels, (float) smoothing, new Points(a, w), (float) scale);
    return new PathTerm(splice(in, r), r.losses());
  }

  private static Tensor rowSum(Tensor x) {
    return x.sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
  }

  private static Tensor term(Tensor acc, Tensor x, Tensor grad) {
    if (!x.requires_grad()) return acc;
    Tensor t = x.mul(grad).sum();
    return acc == null ? t : acc.add(t);
  }

  // ------------------------------------------------------------------------------------------- the call

  private static Result run(Inputs in, Tensor labels, Tensor targets, float smoothing, Points points, float scale) {
    Objects.requireNonNull(in, "inputs");
    Objects.requireNonNull(points, "points");
    NativeRuntime.ensureLoaded();
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor a = floats(in.a(), "a");
      Tensor d = floats(in.d(), "d");
      if (a.dim() != 2) throw new IllegalArgumentException("a must be [B, C], got " + a.dim() + " dims");
      long rows = a.size(0);
      long classes = a.size(1);
      requireShape(d, "d", rows, classes);
      Where dev = Where.of(a, "a");
      dev.require(d, "d");
      Tensor n0 = null;
      Tensor n1 = null;
      Tensor n2 = null;
      if (in.renormalised()) {
        n0 = floats(in.n0(), "n0");
        n1 = floats(in.n1(), "n1");
        n2 = floats(in.n2(), "n2");
        for (Object[] q : new Object[][] {{n0, "n0"}, {n1, "n1"}, {n2, "n2"}}) {
          requireShape((Tensor) q[0], (String) q[1], classes);
          dev.require((Tensor) q[0], (String) q[1]);
        }
      }
      Tensor target;
      if (labels != null) {
        if (labels.dim() != 1 || labels.size(0) != rows) {
          throw new IllegalArgumentException("labels must be [B] with B = " + rows + ", got " + shape(labels));
        }
        target = labels.detach().to(ScalarType.Int).contiguous();
      } else {
        target = floats(targets, "targets");
        requireShape(target, "targets", rows, classes);
      }
      dev.require(target, labels != null ? "labels" : "targets");

      int k = points.alphas.length;
      Tensor losses = a.new_empty(k + 1L);
      Tensor gradA = a.new_empty(rows, classes);
      Tensor gradD = a.new_empty(rows, classes);
      Tensor gradN0 = n0 != null ? a.new_empty(classes) : null;
      Tensor gradN1 = n0 != null ? a.new_empty(classes) : null;
      Tensor gradN2 = n0 != null ? a.new_empty(classes) : null;
      long lossAt = address(losses);
      int status = labels != null
          ? MergetuneNative.mt_multialpha_ce_f32(dev.code, dev.stream, rows, classes, address(a), address(d),
              address(n0), address(n1), address(n2), address(target), smoothing, k, points.alphas, points.weights,
              scale, lossAt, lossAt + 4L * k, address(gradA), address(gradD), address(gradN0), address(gradN1),
              address(gradN2), MergetuneNative.MT_CHECK_FINITE)
          : MergetuneNative.mt_multialpha_kl_f32(dev.code, dev.stream, rows, classes, address(a), address(d),
              address(n0), address(n1), address(n2), address(target), k, points.alphas, points.weights, scale,
              lossAt, lossAt + 4L * k, address(gradA), address(gradD), address(gradN0), address(gradN1),
              address(gradN2), MergetuneNative.MT_CHECK_FINITE);
      throwOnFailure(status);
      float[] values = new float[k + 1];
      Tensor host = losses.cpu().contiguous();
      new FloatPointer(host.data_ptr_float()).capacity(k + 1).get(values);
      return new Result(Arrays.copyOf(values, k), values[k], gradA, gradD, gradN0, gradN1, gradN2);
    }
  }

  private static final String[] INPUT_NAMES = {"a", "d", "n0", "n1", "n2", "targets/labels", "result"};

  private static void throwOnFailure(int status) {
    if (status == MergetuneNative.MT_OK) return;
    String message = MergetuneNative.mt_last_error();
    int input = MergetuneNative.mt_last_error_input();
    String name = input >= 0 && input < INPUT_NAMES.length ? INPUT_NAMES[input] : null;
    if (status == MergetuneNative.MT_NON_FINITE) {
      long row = MergetuneNative.mt_last_error_segment();
      long element = MergetuneNative.mt_last_error_element();
      throw new NonFiniteException(name, row >= 0 ? "row " + row : null, element, "multi-alpha loss: " + message);
    }
    throw new KernelException(Status.of(status), "multi-alpha loss: " + message);
  }

  /** Where the call runs: the device of A (D, the n's and the targets must be on the same one). */
  private record Where(int code, int index, long stream) {
    static Where of(Tensor t, String name) {
      if (t.device().is_cuda()) {
        int index = t.device().index();
        return new Where(MergetuneNative.MT_DEVICE_CUDA, index, CudaStreams.current(index));
      }
      if (!t.device().is_cpu()) {
        throw new IllegalArgumentException(name + " is on " + t.device().str().getString() + "; only CPU and CUDA");
      }
      return new Where(MergetuneNative.MT_DEVICE_CPU, -1, 0L);
    }

    void require(Tensor t, String name) {
      boolean cuda = t.device().is_cuda();
      if (cuda != (code == MergetuneNative.MT_DEVICE_CUDA) || (cuda && t.device().index() != index)) {
        throw new IllegalArgumentException(name + " is on " + t.device().str().getString() + ", not on a's device");
      }
    }
  }

  private static Tensor floats(Tensor t, String name) {
    Objects.requireNonNull(t, name);
    if (t.scalar_type().value != ScalarType.Float.value) {  // JavaCPP enums are not interned: compare values
      throw new IllegalArgumentException(name + " has dtype " + t.scalar_type() + "; K1 takes float32");
    }
    return t.detach().contiguous();
  }

  private static void requireShape(Tensor t, String name, long... sizes) {
    boolean ok = t.dim() == sizes.length;
    for (int i = 0; ok && i < sizes.length; i++) ok = t.size(i) == sizes[i];
    if (!ok) throw new IllegalArgumentException(name + " must be " + Arrays.toString(sizes) + ", got " + shape(t));
  }

  private static String shape(Tensor t) {
    return Arrays.toString(t.sizes().vec().get());
  }

  private static long address(Tensor t) {
    return t == null ? 0L : t.data_ptr().address();
  }
}
