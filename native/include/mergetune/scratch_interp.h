/*
 * mergetune C ABI: K5, the weight-space interpolation of end-to-end MergeTune, over segment tables.
 *
 * The LMC term β·E_α L2(ŵ2 + α(w − ŵ2)) evaluates the loss at interpolated weights. Forward: write them into
 * scratch parameter sets; backward: the chain rule of the interpolation, ∂/∂w = α·∇L at the scratch point:
 *
 *     scratch_k = ŵ2 + α_k·(w − ŵ2)                            k = 0 .. n_alphas−1, one pass over w and ŵ2
 *     grad_w   += Σ_k c_k·grad_k,   c_k = (float)(ω_k·α_k)     k = 0 .. n_sets−1, one pass (c_k: double product)
 *
 * fp32, each operation rounded on its own (no FMA): scratch = ŵ2 + α·(w − ŵ2) with the rounding of K4a (interp.h
 * with base ŵ2 and one model w, bit for bit), and acc = grad_w; acc = acc + c_k·grad_k in k order. CPU and CUDA are
 * bit-identical. Error per element against exact arithmetic: at most 3·2^-24·(|ŵ2| + |α(w − ŵ2)|) for the scratch
 * and (n_sets + 1)·2^-24·(|grad_w| + Σ|c_k·grad_k|) for the accumulation (plus the rounding of c_k).
 *
 * Tables: scratch and grad_scratch are set-major (scratch[k·n_segments + s]); all tables share the lengths.
 * Devices as in interp.h. Aliasing: a scratch set may be exactly w or ŵ2 (the result replaces it; each element is
 * read before it is written), and grad_w may be exactly one of the grad_scratch sets; two scratch sets must not be
 * the same memory, and partial overlaps are undefined.
 *
 * MT_CHECK_FINITE: an element whose result is not finite (any NaN/Inf input makes it so) is not stored, and the
 * call returns MT_NON_FINITE naming the first such element: mt_last_error_input() is MT_INPUT_BASE for ŵ2 (resp.
 * grad_w), a set index k for w (always 0 in scratch calls) resp. grad_k, MT_INPUT_OUTPUT for an overflow.
 */
#ifndef MERGETUNE_SCRATCH_INTERP_H
#define MERGETUNE_SCRATCH_INTERP_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

mt_status mt_scratch_interp_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                const float* const* w, const float* const* w2hat, int32_t n_alphas,
                                const float* alphas, float* const* scratch, int32_t flags);

/* omegas may be NULL (all ω = 1). */
mt_status mt_scratch_grad_accumulate_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                         float* const* grad_w, int32_t n_sets, const float* const* grad_scratch,
                                         const float* alphas, const float* omegas, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
