/*
 * mergetune C ABI: the Gram matrix of a tensor's inputs, for the merges whose coefficients come from angles
 * (slerp, model_stock), one tensor a call:
 *
 *     d_i = x_i − b  (fp32; b = 0 where base is NULL);   gram[i·k + j] = Σ_e d_i[e]·d_j[e]   in double
 *
 * The CPU sums run in fixed chunks of 2^16 elements added in chunk order (8 lanes inside a chunk), CUDA in fixed
 * per-block partials added on the host in block order: neither depends on the thread count or scheduling, and
 * the two devices agree to rounding. k <= 16. flags: MT_CHECK_FINITE (a non-finite d is MT_NON_FINITE, named).
 */
#ifndef MERGETUNE_GRAM_H
#define MERGETUNE_GRAM_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_GRAM_MAX_INPUTS 16

mt_status mt_gram_f32(int32_t device, void* stream, int64_t n, const float* base, int32_t k,
                      const float* const* inputs, double* gram, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
