/*
 * mergetune C ABI: K2, the zero-shot anchor of MergeTune (isotropic Hessian proxy of the pre-training loss).
 *
 * Weight space (paper form, linear probe / E2E fine-tuning), over segment tables, with d = w − w1:
 *
 *     R = (λ/2)·Σ d²                       value, accumulated in double from d = (double)w − (double)w1
 *     grad += λ·d                          fp32: grad = fma(d_f, λ, grad), d_f = w − w1 rounded to float
 *
 * and two fused optimizer steps that read w, w1, the loss gradient g and the optimizer state once, with the
 * effective gradient ĝ = fma(d_f, λ, g) = g + λ(w − w1). They reproduce LibTorch 2.x's torch::optim::SGD and
 * torch::optim::AdamW (torch/csrc/api/src/optim/{sgd,adamw}.cpp) operation by operation on fp32 tensors, with each
 * double hyper-parameter rounded to float as ATen does for a Scalar, and ATen's CPU kernels' roundings
 * (add with alpha is a fused multiply-add, addcmul / addcdiv are self + (s·a)·b and self + (s·a)/b):
 *
 *   SGD (momentum μ, dampening δ, weight decay wd, nesterov):
 *     ĝ = fma(w, wd, ĝ)                        if wd != 0
 *     buf = ĝ (first step) | fma(ĝ, 1 − δ, buf·μ)   if μ != 0
 *     ĝ = nesterov ? fma(buf, μ, ĝ) : buf       if μ != 0
 *     w = fma(ĝ, −lr, w)
 *   AdamW (β1, β2, eps, decoupled weight decay wd, step t >= 1 counted after the increment; no amsgrad):
 *     w = w·(1 − lr·wd)                        if wd != 0 (ĝ was taken at the w before the decay)
 *     m = fma(ĝ, 1 − β1, m·β1)
 *     v = v·β2 + ((1 − β2)·ĝ)·ĝ
 *     w = w + (−lr/(1 − β1^t) · m) / (sqrt(v) / sqrt(1 − β2^t) + eps)
 *   The value R at the w before the step is returned as well when `value` is not NULL.
 *
 * Feature space (reference code of CoOp / KgCoOp), F [C, dim] row-major (not normalised), z [C, dim]:
 *
 *     R = λ·(1 − (1/C)·Σ_c cos(F_c, z_c)),   cos = ⟨F_c, z_c⟩ / (|F_c|·|z_c|)
 *     dR/dF_c = −(λ/C)·(z_c / (|F_c|·|z_c|) − cos_c·F_c / |F_c|²)
 *   z need not be normalised (its norm is computed; the reference passes normalised z, for which this is the
 *   same). Dot products and norms in double; a zero row of F or z is MT_INVALID_ARGUMENT (the cosine is undefined).
 *
 * Determinism: every double sum has a fixed order that depends on neither the thread count nor the device. A
 * segment is cut into blocks of MT_ANCHOR_BLOCK elements from its start; element i of a block adds into lane
 * i mod 256 (in increasing i), the 256 lanes are added in a fixed binary tree (lane t += lane t + s, s = 128 .. 1),
 * and the block sums are added in table order. Feature-space rows use the same lanes and tree over dim. The CPU and
 * CUDA paths therefore give bit-identical values, gradients, weights and optimizer states.
 *
 * Tables and devices as in interp.h: pointers all host (MT_DEVICE_CPU) or all device memory of the current CUDA
 * device (MT_DEVICE_CUDA, on `stream`); `value` is host memory, and a CUDA call that returns it (or checks for
 * non-finite values) synchronises the stream. Aliasing: every table must be distinct memory from every other
 * (w1 and g are read while w and the state are written); partial overlaps are undefined.
 *
 * With MT_CHECK_FINITE, an element whose inputs or results are not finite is left unchanged (all its outputs) and
 * the call returns MT_NON_FINITE naming the first such element; mt_last_error_input() is one of the
 * MT_ANCHOR_INPUT_* below (MT_INPUT_OUTPUT for an overflow from finite inputs). The other elements are updated, so a
 * caller should treat w, grad and the state as unusable after that error. Without the flag nothing is checked.
 */
#ifndef MERGETUNE_ANCHOR_H
#define MERGETUNE_ANCHOR_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_ANCHOR_BLOCK 4096

/* mt_last_error_input() values of the anchor calls. */
#define MT_ANCHOR_INPUT_W 0
#define MT_ANCHOR_INPUT_W1 1
#define MT_ANCHOR_INPUT_GRAD 2
#define MT_ANCHOR_INPUT_STATE0 3 /* the SGD momentum buffer, AdamW's exp_avg; feature space: z */
#define MT_ANCHOR_INPUT_STATE1 4 /* AdamW's exp_avg_sq */

/* R = (λ/2)·Σ(w − w1)² into *value (may be NULL), and grad += λ(w − w1) when grad is not NULL. */
mt_status mt_anchor_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                        const float* const* w, const float* const* w1, float* const* grad, float lambda,
                        double* value, int32_t flags);

/* One SGD step on w with the anchored gradient g + λ(w − w1). momentum_buf may be NULL when momentum == 0;
 * first_step != 0 initialises it to the gradient (LibTorch's state creation) instead of reading it. */
mt_status mt_anchor_sgd_step_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                 float* const* w, const float* const* w1, const float* const* grad,
                                 float* const* momentum_buf, float lambda, double lr, double momentum,
                                 double dampening, double weight_decay, int32_t nesterov, int32_t first_step,
                                 double* value, int32_t flags);

/* One AdamW step (t = step >= 1, the count after this step's increment; exp_avg / exp_avg_sq start at zero). */
mt_status mt_anchor_adamw_step_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                   float* const* w, const float* const* w1, const float* const* grad,
                                   float* const* exp_avg, float* const* exp_avg_sq, float lambda, double lr,
                                   double beta1, double beta2, double eps, double weight_decay, int64_t step,
                                   double* value, int32_t flags);

/* Feature space: *value (host, not NULL) and, when grad_features is not NULL, dR/dF written into it ([C, dim],
 * overwritten, not accumulated). features and targets are [n_classes, dim] row-major, on `device`. Errors name the
 * class row as mt_last_error_segment() and the column as mt_last_error_element(); the input is MT_ANCHOR_INPUT_W
 * for features and MT_ANCHOR_INPUT_STATE0 for targets. */
mt_status mt_anchor_feature_f32(int32_t device, void* stream, int64_t n_classes, int64_t dim, const float* features,
                                const float* targets, float lambda, double* value, float* grad_features,
                                int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
