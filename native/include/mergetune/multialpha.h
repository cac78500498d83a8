/*
 * mergetune C ABI: K1, the multi-α interpolated loss of MergeTune, forward and backward fused.
 *
 * B rows (images) b, C classes c, K points α_k with weights ω_k, a logit scale s:
 *
 *     z_k[b,c] = s · (A[b,c] + α_k·D[b,c]) · r_k[c]
 *     r_k[c]   = (n0[c] + 2α_k·n1[c] + α_k²·n2[c])^(-1/2)      re-normalised mode (n0, n1, n2 given)
 *     r_k[c]   = 1                                             plain mode (n0 = n1 = n2 = NULL)
 *
 * Re-normalised mode is the CoOp/KgCoOp text side of methods.md §1.2: the mixed class embedding
 * m = g + α(F − g) is re-normalised, so with the normalised image feature v̂, A = v̂·g, D = v̂·(F − g),
 * n0 = |g|², n1 = ⟨g, F − g⟩, n2 = |F − g|². Plain mode is the PromptKD image side / linear heads (§1.3).
 *
 *     L_k   = (1/B) Σ_b ℓ(z_k[b,:], target_b),        total = Σ_k ω_k·L_k
 *
 * ℓ, p = softmax(z):
 *   mt_multialpha_ce_f32  cross-entropy with label smoothing ε, as torch's cross_entropy(label_smoothing = ε):
 *                         q = (1 − ε)·onehot(label) + ε/C,  ℓ = −Σ_c q_c·log p_c
 *   mt_multialpha_kl_f32  KL to given soft targets P (rows need not sum to 1), as torch's
 *                         kl_div(log_softmax(z), P, reduction = 'batchmean'):  ℓ = Σ_c P_c·(log P_c − log p_c),
 *                         with 0·log 0 = 0 (torch's xlogy)
 *
 * Gradients of the total (G_k = dtotal/dz_k = (ω_k/B)·(p·Σ_c q_c − q), q = P for KL):
 *
 *     dA[b,c] = s·Σ_k G_k[b,c]·r_k[c]              dD[b,c] = s·Σ_k α_k·G_k[b,c]·r_k[c]
 *     H_k[c]  = Σ_b G_k[b,c]·s·(A + α_k·D)[b,c]    (the gradient w.r.t. r_k[c])
 *     dn0[c]  = −½·Σ_k H_k[c]·r_k³     dn1[c] = −Σ_k α_k·H_k[c]·r_k³     dn2[c] = −½·Σ_k α_k²·H_k[c]·r_k³
 *
 * Layout: A, D, P, dA, dD row-major [B, C]; labels int32 [B]; n*, dn* [C]; losses [K]; total one float.
 * Memory: every array is host memory (MT_DEVICE_CPU) or memory of the current CUDA device (MT_DEVICE_CUDA, the
 * kernels run on `stream`), except alphas and weights, which are always host arrays (K floats). Outputs may be
 * NULL to skip them (dn* must be NULL in plain mode); outputs must not overlap inputs.
 *
 * Numerics: fp32 in and out. Per row and point, z, exp(z − max) and p are fp32; the row sums (Σ exp, Σ q·z) are
 * double on the CPU and fp32 fixed-tree block reductions on CUDA; H, the losses and the total are reduced over rows
 * in double in a fixed order on both devices, r_k and the n-gradient factors are computed in double. Results do
 * not depend on the CPU thread count (bit for bit), and CUDA results are deterministic (no float atomics); CPU and
 * CUDA agree to rounding. Against the double reference (multialpha_ref.h) the tests hold, per output array,
 * max|got − ref| <= 1e-6·(1 + max_{b,c,k}|z|)·max|ref| (the fp32 rounding of a logit is |z|·2^-24, and
 * everything downstream is linear in it), and for the losses |got − ref| <= 1e-6·(1 + max|z|)·(1 + |ref|); the
 * worst seen on the CPU is 3.1e-8 on that scale.
 *
 * Checks: B, C >= 1, 1 <= K <= MT_MULTIALPHA_MAX_POINTS; A, D, targets non-NULL; n0, n1, n2 all given or all
 * NULL; α_k, ω_k, s finite; ε in [0, 1); labels in [0, C); the argument of r_k, n0 + 2α·n1 + α²·n2, finite and
 * > 0 for every (k, c). On the CPU all of these are checked always; on CUDA, where labels and n* are device
 * memory, the labels and the r_k argument are checked under MT_CHECK_FINITE only (without it an out-of-range label
 * or a non-positive argument gives NaN losses and gradients, never a wild read).
 * With MT_CHECK_FINITE, NaN/Inf in A, D, n*, P (and P < 0) and a non-finite result are reported: the status is
 * MT_NON_FINITE (MT_INVALID_ARGUMENT for P < 0), mt_last_error_input() names the array (MT_MA_INPUT_*),
 * mt_last_error_segment() the row (−1 for n*) and mt_last_error_element() the class; the outputs are then
 * unspecified. On CUDA the check costs one stream synchronisation; without it the call is asynchronous.
 */
#ifndef MERGETUNE_MULTIALPHA_H
#define MERGETUNE_MULTIALPHA_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_MULTIALPHA_MAX_POINTS 64

/* mt_last_error_input() values of K1's errors. */
#define MT_MA_INPUT_A 0
#define MT_MA_INPUT_D 1
#define MT_MA_INPUT_N0 2
#define MT_MA_INPUT_N1 3
#define MT_MA_INPUT_N2 4
#define MT_MA_INPUT_TARGETS 5 /* labels or P */
#define MT_MA_INPUT_RESULT 6  /* a loss or gradient overflowed from finite inputs */

mt_status mt_multialpha_ce_f32(int32_t device, void* stream, int64_t rows, int64_t classes, const float* a,
                               const float* d, const float* n0, const float* n1, const float* n2,
                               const int32_t* labels, float smoothing, int32_t n_points, const float* alphas,
                               const float* weights, float scale, float* losses, float* total, float* grad_a,
                               float* grad_d, float* grad_n0, float* grad_n1, float* grad_n2, int32_t flags);

mt_status mt_multialpha_kl_f32(int32_t device, void* stream, int64_t rows, int64_t classes, const float* a,
                               const float* d, const float* n0, const float* n1, const float* n2,
                               const float* targets, int32_t n_points, const float* alphas, const float* weights,
                               float scale, float* losses, float* total, float* grad_a, float* grad_d,
                               float* grad_n0, float* grad_n1, float* grad_n2, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
