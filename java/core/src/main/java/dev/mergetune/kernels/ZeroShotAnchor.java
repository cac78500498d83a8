package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * K2, MergeTune's zero-shot anchor (the isotropic Hessian proxy of the pre-training loss around ŵ1).
 *
 * <p>Weight space (the paper's form, for the linear probe and end-to-end fine-tuning):
 *
 * <pre>  R = (λ/2)·Σ(w − ŵ1)²,   grad += λ(w − ŵ1)</pre>
 *
 * either as {@link #weightSpace} (value, and the gradient added into the parameters' gradients) or folded into an
 * optimizer step that reads w, ŵ1, the loss gradient and the optimizer state once: {@link #sgd} and {@link #adamW}
 * build a stepper that holds its own state tensors and reproduces LibTorch's {@code torch::optim::SGD} /
 * {@code AdamW} on the anchored gradient g + λ(w − ŵ1) (the same fp32 operations; the Java tests find the results
 * equal to LibTorch's to within 2 ulp of the weights' scale).
 *
 * <p>Feature space (the reference code of CoOp / KgCoOp): {@link #featureSpace} gives
 * R = λ·(1 − mean_c cos(F_c, z_c)) and dR/dF for text features F [C, d] (not normalised) and targets z [C, d]
 * (normalised or not: the norm of z is computed).
 *
 * <p>Sums are in double in a fixed order (independent of threads and device). By default a NaN/Inf in any input
 * throws {@link NonFiniteException} naming the tensor, and the element's values stay unchanged (others may have
 * been updated: do not continue training with that state).
 */
public final class ZeroShotAnchor {
  /** SGD as LibTorch's {@code SGDOptions}: lr, momentum, dampening, weight decay (L2, coupled), nesterov. */
  public record Sgd(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {}

  /** AdamW as LibTorch's {@code AdamWOptions} without amsgrad: lr, betas, eps, decoupled weight decay. */
  public record AdamW(double lr, double beta1, double beta2, double eps, double weightDecay) {}

  /** The feature-space anchor: its value and dR/dF ([C, d], float32, on F's device). */
  public record FeatureResult(double value, Tensor gradFeatures) {}

  private static final List<String> INPUTS = List.of("w", "w1 (anchor)", "grad", "state", "exp_avg_sq");

  private final SegmentTable params;
  private final List<Tensor> paramTensors;
  private final SegmentTable anchor;
  private final float lambda;
  private final Sgd sgd;
  private final AdamW adamW;
  private final SegmentTable state0;  // SGD momentum buffer, AdamW exp_avg; null for SGD without momentum
  private final SegmentTable state1;  // AdamW exp_avg_sq
  private final List<Tensor> stateTensors = new ArrayList<>();
  private double lr;
  private long steps;
  private final List<Tensor> zeroGrads = new ArrayList<>();

  private ZeroShotAnchor(List<String> names, List<Tensor> params, List<Tensor> anchor, float lambda, Sgd sgd,
      AdamW adamW) {
    this.params = SegmentTable.ofTensors(names, params);
    this.paramTensors = List.copyOf(params);
    this.anchor = SegmentTable.ofTensors(names, anchor);
    this.anchor.requireSameLayout(this.params, "anchor", "parameters");
    requireFinite("lambda", lambda);
    this.lambda = lambda;
    this.sgd = sgd;
    this.adamW = adamW;
    this.lr = sgd != null ? sgd.lr() : adamW.lr();
    boolean needs0 = adamW != null || sgd.momentum() != 0;
    this.state0 = needs0 ? zerosLike(names, params) : null;
    this.state1 = adamW != null ? zerosLike(names, params) : null;
  }

  /**
   * A fused SGD stepper over named parameters (float32, contiguous, one device) with the anchor ŵ1 (same names and
   * shapes). The momentum buffers are created on the first {@link #step()}, as LibTorch creates them.
   */
  public static ZeroShotAnchor sgd(List<String> names, List<Tensor> params, List<Tensor> anchor, float lambda, Sgd o) {
    Objects.requireNonNull(o, "sgd options");
    return new ZeroShotAnchor(names, params, anchor, lambda, o, null);
  }

  /** A fused AdamW stepper; exp_avg and exp_avg_sq start at zero, the step count at 0. */
  public static ZeroShotAnchor adamW(List<String> names, List<Tensor> params, List<Tensor> anchor, float lambda,
      AdamW o) {
    Objects.requireNonNull(o, "adamW options");
    return new ZeroShotAnchor(names, params, anchor, lambda, null, o);
  }

  /**
   * One optimizer step on the parameters with the gradient {@code p.grad() + λ(p − ŵ1)}; returns the anchor value R
   * at the parameters before the step. A parameter whose {@code grad()} is undefined gets the anchor gradient alone
   * (LibTorch would skip it; the anchor still pulls it towards ŵ1). The parameters are updated in place.
   */
  public double step() {
    SegmentTable grads = gradients();
    double[] value = new double[1];
    NativeRuntime.ensureLoaded();
    long stream = AnchorCalls.streamFor(params);
    long[] w = params.addressesArray();
    int status;
    if (sgd != null) {
      status = MergetuneNative.mt_anchor_sgd_step_f32(params.device().code(), stream, params.size(),
          params.lengthsArray(), w, anchor.addressesArray(), grads.addressesArray(),
          state0 == null ? null : state0.addressesArray(), lambda, lr, sgd.momentum(), sgd.dampening(),
          sgd.weightDecay(), sgd.nesterov() ? 1 : 0, steps == 0 ? 1 : 0, value, MergetuneNative.MT_CHECK_FINITE);
    } else {
      status = MergetuneNative.mt_anchor_adamw_step_f32(params.device().code(), stream, params.size(),
          params.lengthsArray(), w, anchor.addressesArray(), grads.addressesArray(), state0.addressesArray(),
          state1.addressesArray(), lambda, lr, adamW.beta1(), adamW.beta2(), adamW.eps(), adamW.weightDecay(),
          steps + 1, value, MergetuneNative.MT_CHECK_FINITE);
    }
    AnchorCalls.throwOnFailure(status, params, inputNames(), "base");
    steps++;
    return value[0];
  }

  /** The learning rate of the next steps (the schedules set it before each step). */
  public void setLearningRate(double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
    this.lr = lr;
  }

  public double learningRate() {
    return lr;
  }

  /** Steps taken so far (AdamW's t of the last step). */
  public long steps() {
    return steps;
  }

  /** The optimizer state tensors, in parameter order: SGD momentum buffers, or exp_avg then exp_avg_sq. */
  public List<Tensor> stateTensors() {
    return List.copyOf(stateTensors);
  }

  public float lambda() {
    return lambda;
  }

  /**
   * Restores a stepper saved with {@link #steps()} and {@link #stateTensors()} (values copied in; shapes must match),
   * so a resumed run continues exactly as an uninterrupted one (the Java tests check it bit for bit).
   */
  public void loadState(long steps, List<Tensor> state) {
    if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
    Objects.requireNonNull(state, "state");
    if (state.size() != stateTensors.size()) {
      throw new IllegalArgumentException(state.size() + " state tensors for " + stateTensors.size() + " expected");
    }
    for (int i = 0; i < state.size(); i++) {
      Tensor from = Objects.requireNonNull(state.get(i), "state tensor " + i);
      if (from.numel() != stateTensors.get(i).numel()) {
        throw new IllegalArgumentException("state tensor " + i + " has " + from.numel() + " elements, expected "
            + stateTensors.get(i).numel());
      }
    }
    for (int i = 0; i < state.size(); i++) stateTensors.get(i).copy_(state.get(i).reshape(stateTensors.get(i).sizes()));
    this.steps = steps;
  }

  // ------------------------------------------------------------------------------------------- weight space

  /**
   * R = (λ/2)·Σ(w − w1)², and {@code grad += λ(w − w1)} when {@code grad} is not null. All three tables have the same
   * layout and device; grad must be distinct memory from w and w1.
   */
  public static double weightSpace(SegmentTable w, SegmentTable w1, SegmentTable grad, float lambda) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(w1, "w1");
    w1.requireSameLayout(w, "w1", "w");
    if (grad != null) grad.requireSameLayout(w, "grad", "w");
    requireFinite("lambda", lambda);
    double[] value = new double[1];
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_anchor_f32(w.device().code(), AnchorCalls.streamFor(w), w.size(),
        w.lengthsArray(), w.addressesArray(), w1.addressesArray(), grad == null ? null : grad.addressesArray(), lambda,
        value, MergetuneNative.MT_CHECK_FINITE);
    AnchorCalls.throwOnFailure(status, w, INPUTS, "base");
    return value[0];
  }

  /**
   * The anchor over named LibTorch parameters: returns R and adds λ(p − ŵ1) into each {@code p.grad()} (which is
   * created, zero, where undefined). Call it after {@code backward()} of the other loss terms.
   */
  public static double addToGradients(List<String> names, List<Tensor> params, List<Tensor> anchor, float lambda) {
    List<Tensor> grads = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Tensor p = params.get(i);
      Tensor g = p.grad();
      if (g == null || g.isNull() || !g.defined()) {
        p.mutable_grad().put(torch.zeros_like(p));
        g = p.grad();
      }
      grads.add(g);
    }
    return weightSpace(SegmentTable.ofTensors(names, params), SegmentTable.ofTensors(names, anchor),
        SegmentTable.ofTensors(names, grads), lambda);
  }

  // ------------------------------------------------------------------------------------------- feature space

  /**
   * R = λ·(1 − (1/C)·Σ_c cos(F_c, z_c)) and dR/dF. {@code features} [C, d] (its autograd graph is not used: pass the
   * returned gradient to {@code features.backward(grad)} to splice it in), {@code targets} [C, d] on the same device;
   * both float32. A zero row (undefined cosine) is an IllegalArgumentException.
   */
  public static FeatureResult featureSpace(Tensor features, Tensor targets, float lambda) {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(targets, "targets");
    requireFinite("lambda", lambda);
    NativeRuntime.ensureTorch();
    if (features.dim() != 2 || targets.dim() != 2) {
      throw new IllegalArgumentException("features and targets must be [C, d], got " + features.dim() + "-d and "
          + targets.dim() + "-d");
    }
    long c = features.size(0), d = features.size(1);
    if (targets.size(0) != c || targets.size(1) != d) {
      throw new IllegalArgumentException("targets are [" + targets.size(0) + ", " + targets.size(1)
          + "] but features are [" + c + ", " + d + "]");
    }
    Tensor f = features.detach().contiguous();
    Tensor z = targets.detach().contiguous();
    SegmentTable layout = SegmentTable.ofTensors(List.of("features", "targets"), List.of(f, z));  // checks dtype, device
    Tensor grad = torch.empty_like(f);
    double[] value = new double[1];
    NativeRuntime.ensureLoaded();
    int status = MergetuneNative.mt_anchor_feature_f32(layout.device().code(), AnchorCalls.streamFor(layout), c, d,
        f.data_ptr().address(), z.data_ptr().address(), lambda, value, grad.data_ptr().address(),
        MergetuneNative.MT_CHECK_FINITE);
    AnchorCalls.throwOnFailure(status, null, List.of("features", "w1", "grad", "targets"), "base");
    return new FeatureResult(value[0], grad);
  }

  // ------------------------------------------------------------------------------------------- helpers

  private List<String> inputNames() {
    return List.of("parameter", "anchor", "grad", sgd != null ? "momentum_buf" : "exp_avg", "exp_avg_sq");
  }

  private SegmentTable gradients() {
    List<Tensor> grads = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < paramTensors.size(); i++) {
      Tensor p = paramTensors.get(i);
      Tensor g = p.grad();
      names.add(params.name(i));
      if (g == null || g.isNull() || !g.defined()) {
        while (zeroGrads.size() <= i) zeroGrads.add(null);
        if (zeroGrads.get(i) == null) zeroGrads.set(i, torch.zeros_like(p));
        g = zeroGrads.get(i);
      } else if (!g.is_contiguous()) {
        g = g.contiguous();
      }
      grads.add(g);
    }
    SegmentTable t = SegmentTable.ofTensors(names, grads);
    t.requireSameLayout(params, "gradients", "parameters");
    return t;
  }

  private SegmentTable zerosLike(List<String> names, List<Tensor> params) {
    List<Tensor> zeros = new ArrayList<>();
    for (Tensor p : params) {
      Tensor z = torch.zeros_like(p);
      zeros.add(z);
      stateTensors.add(z);
    }
    return SegmentTable.ofTensors(names, zeros);
  }

  private static void requireFinite(String what, float v) {
    if (!Float.isFinite(v)) throw new IllegalArgumentException(what + " must be finite, got " + v);
  }
}
