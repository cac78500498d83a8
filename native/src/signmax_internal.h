// Internal: K3 (mt_signmax_*) pieces shared by the public entry points, the CPU kernels and the CUDA kernels.
#pragma once

#include <cstdint>
#include "mergetune/signmax.h"

namespace mt {

// Chunks: both devices cut every segment into chunks that start at multiples of 32 elements inside the segment,
// so each mask word belongs to exactly one chunk (and, on CUDA, to exactly one warp). The per-(task, segment)
// sums are combined from per-chunk partials in chunk order, so they do not depend on the CPU thread count.

// Checks the arguments of mt_signmax_unify_f32 that do not depend on the device.
mt_status validate_signmax_unify(int32_t device, int64_t n_segments, const int64_t* lengths,
                                 const float* const* theta0, int32_t n_tasks, const float* const* inputs,
                                 float* const* unified, uint32_t* const* masks);
// Same for mt_signmax_decouple_f32.
mt_status validate_signmax_decouple(int32_t device, int64_t n_segments, const int64_t* lengths, float* const* out,
                                    const float* const* theta0, const float* const* unified,
                                    const uint32_t* const* mask, float lambda);

// Names the first non-finite input of a unify element: θ0 (when has_theta0), then the tasks in order; when all
// are finite, the task whose delta input − θ0 overflowed fp32. `inputs` holds the element of each task.
mt_status report_signmax_unify(int64_t segment, int64_t element, bool has_theta0, float theta0_value,
                               const float* inputs, int32_t n_tasks);
// Names the first non-finite of θ0 (MT_INPUT_BASE), U (input 0) and the result (MT_INPUT_OUTPUT) of a decouple
// element, in that order. `bit` is the element's mask bit.
mt_status report_signmax_decouple(int64_t segment, int64_t element, float theta0_value, float unified_value,
                                  bool bit, float lambda);

// The decouple result of one element, as both devices compute it: θ0 exactly where the bit is 0, else
// θ0 + (λ·U), two fp32 roundings, no FMA.
inline float signmax_decouple_one(float theta0_value, float unified_value, bool bit, float lambda) {
  const float scaled = lambda * unified_value;
  return bit ? theta0_value + scaled : theta0_value;
}

namespace cpu {
mt_status signmax_unify_f32(int64_t n_segments, const int64_t* lengths, const float* const* theta0, int32_t n_tasks,
                            const float* const* inputs, float* const* unified, uint32_t* const* masks,
                            double* sum_abs_delta, double* sum_abs_masked, int32_t flags);
mt_status signmax_decouple_f32(int64_t n_segments, const int64_t* lengths, float* const* out,
                               const float* const* theta0, const float* const* unified, const uint32_t* const* mask,
                               float lambda, int32_t flags);
}  // namespace cpu

}  // namespace mt
