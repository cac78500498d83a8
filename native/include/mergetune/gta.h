/*
 * mergetune C ABI: generalized task arithmetic (mergekit's GTA family: task_arithmetic, ties, dare_ties,
 * dare_linear, breadcrumbs, breadcrumbs_ties, della, della_linear, and linear without a base), one tensor a call.
 *
 * Apply (mt_gta_f32), one pass over the inputs, per element j (b = base[j], or 0 when base is NULL):
 *
 *     d_i  = keep_i(j) ? m_i[j] − b : 0              keep_i from bit j of keep_bits[i] (NULL: every element)
 *     wd_i = c_i · d_i                               c_i = w_i · r_i (weight times the model's rescale)
 *     NONE:  mixed = Σ_i wd_i,            D = divisor (the caller's Σ_i w_i, 1 where |Σ w| < 1e-8)
 *     SUM:   s = Σ_i wd_i >= 0 ? +1 : −1;  COUNT: s = Σ_i sgn(wd_i) >= 0 ? +1 : −1
 *            a_i = sgn(wd_i) == s;  mixed = Σ_i a_i·wd_i;  D = Σ_i a_i·w_i (1 where it is 0)
 *     out  = b + λ · (normalize ? mixed / D : mixed)
 *
 * in fp32, each operation rounded, models in order, sums starting at +0 (cuda-kernels/gta.cu computes the same
 * expression: gta_internal.h). keep_bits[i] packs element j as bit (j mod 32) of word j / 32.
 *
 * Sparsify (mt_gta_sparsify_f32, CPU memory only): the keep bits of one model's delta δ = m − b (fp32) and the
 * L1 sums Σ|δ|, Σ keep·|δ| (double) that mergekit's rescale uses:
 *   MT_GTA_SPARSIFY_MAGNITUDE    keep the k = ⌊density·n⌋ largest |δ| (ties: lower index first)
 *   MT_GTA_SPARSIFY_OUTLIERS     breadcrumbs: order |δ| ascending (ties: lower index first), with
 *                                t = ⌊density·n⌋, top = ⌊param·n⌋, bot = n − t − top (if bot < 0: top += bot, bot = 0)
 *                                keep ranks [bot, n − top)
 *   MT_GTA_SPARSIFY_RANDOM       DARE: keep iff (w >> 8) >= ⌈p·2^24⌉, p = 1 − density in fp32, w DARE's Philox word of
 *                                (seed, model_index, tensor_key, j) (dare.h), so the masks are DARE's bit for bit
 *   MT_GTA_SPARSIFY_DELLA        della_magprune: the tensor as [outer, len, inner]; along len each element's rank
 *                                r ∈ 1..len by |δ| ascending (ties: lower index first), p = (density − param) +
 *                                ((r − 1)/(len − 1))·2·param in fp32 (0 where len = 1); keep iff u < p with
 *                                u = (w >> 8)·2^-24, w the same Philox word as RANDOM
 * base may be NULL (b = 0). sums may be NULL (then RANDOM reads no tensor data). The sums are added in a fixed order,
 * whatever the thread count: per chunk of 2^16 elements, 8 lanes (element mod 8) in element order, folded in lane
 * order, chunks in order.
 */
#ifndef MERGETUNE_GTA_H
#define MERGETUNE_GTA_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_GTA_CONSENSUS_NONE 0
#define MT_GTA_CONSENSUS_SUM 1
#define MT_GTA_CONSENSUS_COUNT 2

#define MT_GTA_SPARSIFY_MAGNITUDE 0
#define MT_GTA_SPARSIFY_OUTLIERS 1
#define MT_GTA_SPARSIFY_RANDOM 2
#define MT_GTA_SPARSIFY_DELLA 3

/* At most this many models a call. */
#define MT_GTA_MAX_MODELS 256

/* out may alias base or a model exactly; flags: MT_CHECK_FINITE. keep_bits may be NULL (no masks at all). */
mt_status mt_gta_f32(int32_t device, void* stream, int64_t n, float* out, const float* base, int32_t n_models,
                     const float* const* models, const uint32_t* const* keep_bits, const float* coefs,
                     const float* weights, int32_t consensus, int32_t normalize, float divisor, float lambda,
                     int32_t flags);

/* bits holds ⌈n/32⌉ words; outer · len · inner must be n (only DELLA reads the shape). sums: {Σ|δ|, Σ keep·|δ|}. */
mt_status mt_gta_sparsify_f32(int64_t n, int64_t outer, int64_t len, int64_t inner, const float* base,
                              const float* model, int32_t method, double density, double param, uint64_t seed,
                              uint64_t tensor_key, int32_t model_index, uint32_t* bits, double* sums, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
