/*
 * mergetune C ABI: K3, the sign-consistent max merge of ConDU / EMR-Merging ("elect, mask, rescale"), with
 * bit-packed triggers.
 *
 * Unify, per element j over the T task deltas δ^i (given directly, or as models θ_i with θ0: δ^i = θ_i − θ0 in
 * fp32, taken on the fly):
 *
 *     flag_j = +1 if Σ_i δ^i_j > 0 else −1            (the sum in double, i = 0..T−1 in order; an exact tie is −1)
 *     M^i_j  = [δ^i_j · flag_j > 0]                    (strict: an exact zero never gets mask 1)
 *     U_j    = flag_j · max_i |δ^i_j · M^i_j|           (0 when no task agrees)
 *
 * and, per task i and segment s, the two sums the rescaler needs (double):
 *
 *     sum_abs_delta[i·n_segments + s]  = Σ_{j∈s} |δ^i_j|
 *     sum_abs_masked[i·n_segments + s] = Σ_{j∈s} |M^i_j · U_j|
 *
 * The rescaler itself, λ^i = (Σ_s sum_abs_delta/len_s) / (Σ_s sum_abs_masked/len_s) (per-tensor means, as the
 * reference code computes it), is the caller's: it is a handful of doubles.
 *
 * Decouple, for one task: out = θ0 + λ · M ⊙ U (out may alias θ0; an element with mask 0 is θ0 exactly).
 *
 * Masks: bit-packed, task-major. masks[i·n_segments + s] points to ceil(lengths[s] / 32) uint32 words for task i,
 * segment s; bit k of word w is element 32·w + k; unused high bits of the last word are 0. For ViT-B/16 that is
 * ~18.7 MB per task instead of the reference's one byte per element.
 *
 * Tables and devices as in interp.h: all pointers host (MT_DEVICE_CPU) or all device memory of the current CUDA
 * device (MT_DEVICE_CUDA, on `stream`); the sums arrays are always host memory, and a CUDA call with sums
 * synchronises the stream to fill them. Results are deterministic (no float atomics): the CPU and CUDA U and masks
 * are bit-identical; the double sums agree to rounding.
 *
 * With MT_CHECK_FINITE, a NaN/Inf in an input is reported as MT_NON_FINITE with mt_last_error_input() = the task
 * index (MT_INPUT_BASE for θ0), and the segment and element.
 */
#ifndef MERGETUNE_SIGNMAX_H
#define MERGETUNE_SIGNMAX_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* theta0 == NULL: `inputs` are the deltas. Otherwise `inputs` are the task models and δ = input − θ0.
 * inputs is task-major: inputs[i·n_segments + s]. sum_abs_delta / sum_abs_masked may be NULL (not computed). */
mt_status mt_signmax_unify_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                               const float* const* theta0, int32_t n_tasks, const float* const* inputs,
                               float* const* unified, uint32_t* const* masks, double* sum_abs_delta,
                               double* sum_abs_masked, int32_t flags);

/* out = θ0 + lambda · M ⊙ U for one task; mask[s] is that task's bit words of segment s. */
mt_status mt_signmax_decouple_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                  float* const* out, const float* const* theta0, const float* const* unified,
                                  const uint32_t* const* mask, float lambda, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif
