/*
 * mergetune C ABI: K4b, DARE (drop and rescale) fused with task arithmetic, over segment tables.
 *
 *     out[s][j] = base[s][j] + Σ_i λ_i · r_i,s · keep_i,s(j) · (models[i][s][j] − base[s][j])
 *
 * keep_i,s(j) = 1 with probability 1 − drop_rate, drawn from a counter-based RNG (Philox4x32-10) keyed only on
 * (seed, model index i, the segment's tensor key, element index j), so a mask never depends on the device, the
 * thread count, the order of the tensors, or how a checkpoint is sharded:
 *
 *     counter = (j / 4, i, tensor_key & 0xffffffff, tensor_key >> 32),  key = (seed & 0xffffffff, seed >> 32)
 *     w = Philox4x32-10(counter, key)[j % 4];   u = (w >> 8) · 2^-24 ∈ [0, 1);   keep ⟺ u >= drop_rate
 *
 * tensor_keys[s] is chosen by the caller (the Java side uses a 64-bit hash of the tensor's name), and element
 * indices are relative to the start of the segment, so a segment must be a whole tensor. A segment may hold at most
 * 2^34 elements (the 32-bit counter word j / 4 must not wrap, or masks would repeat); longer ones are refused.
 *
 * Rescale r_i,s:
 *   MT_DARE_RESCALE_INVERSE  r = 1 / (1 − drop_rate)   (the original DARE; computed once in float)
 *   MT_DARE_RESCALE_L1       r = Σ_j |δ| / Σ_j |keep·δ| over the segment, in double, then rounded to float
 *                            (mergekit since 2025: the tensor's L1 norm is preserved); 0 when nothing is kept
 *   MT_DARE_RESCALE_NONE     r = 1
 *
 * Device, aliasing, accumulation order and MT_CHECK_FINITE as in interp.h (out may alias base or a model exactly).
 * CPU and CUDA masks are bit-identical, and so are the results for INVERSE and NONE; with L1 the double sums may
 * differ in their last bits between devices, so r (and the result) agree to rounding.
 */
#ifndef MERGETUNE_DARE_H
#define MERGETUNE_DARE_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_DARE_RESCALE_NONE 0
#define MT_DARE_RESCALE_INVERSE 1
#define MT_DARE_RESCALE_L1 2

/* drop_rate in [0, 1); models is model-major (models[i·n_segments + s]). */
mt_status mt_dare_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                      const uint64_t* tensor_keys, float* const* out, const float* const* base, int32_t n_models,
                      const float* const* models, const float* lambdas, float drop_rate, uint64_t seed,
                      int32_t rescale, int32_t flags);

/* The Philox4x32-10 block of (counter, key) — exposed so callers and tests can reproduce the masks. */
void mt_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

#ifdef __cplusplus
}
#endif

#endif
