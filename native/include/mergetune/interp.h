/*
 * mergetune C ABI: K4a, weighted interpolation / task arithmetic over segment tables.
 *
 *     out[s][j] = base[s][j] + sum_i lambdas[i] * (models[i][s][j] - base[s][j])
 *
 * Task arithmetic is base = θ0 with one λ_i per task model; WiSE-FT is one model with λ = α.
 *
 * Segment tables: a parameter set is passed as n_segments pointers with their element counts (lengths[s]);
 * models is model-major: models[i * n_segments + s] is segment s of model i. All tables share the lengths.
 * Pointers are all host memory (device MT_DEVICE_CPU) or all device memory of the current CUDA device
 * (MT_DEVICE_CUDA, launched on `stream`, a cudaStream_t; NULL is the legacy default stream).
 *
 * out may alias base or a model segment exactly (in-place update); partial overlaps are undefined.
 * Accumulation is fp32 in the delta form above. Error bound against exact arithmetic, per element:
 *     |out - exact| <= (n_models + 2) * 2^-24 * (|base| + sum_i |lambdas[i] * (models[i] - base)|)
 * which the tests check at 1e-6 relative to that scale.
 *
 * With MT_CHECK_FINITE, a NaN/Inf in any input or result is reported as MT_NON_FINITE, with
 * mt_last_error_input/segment/element naming the first culprit; `out` is then unspecified (it is a caller
 * buffer: callers that write files write them only after success). The check costs no extra pass over memory on
 * the CPU; on CUDA it costs one stream synchronisation.
 */
#ifndef MERGETUNE_INTERP_H
#define MERGETUNE_INTERP_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

mt_status mt_interp_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                        float* const* out, const float* const* base, int32_t n_models,
                        const float* const* models, const float* lambdas, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
