// Internal: K5 (scratch_interp.h) shared by the entry points, the CPU loops and the CUDA kernels.
#pragma once

#include <cstdint>

#include "mergetune/scratch_interp.h"

namespace mt {

// Names the first non-finite input of an element (base = ŵ2 or grad_w, then the indexed inputs), or the result.
mt_status report_scratch_non_finite(bool accumulate, int64_t segment, int64_t element, float base_value,
                                    const float* indexed_values, int32_t n_indexed);

namespace cpu {
mt_status scratch_interp_f32(int64_t n_segments, const int64_t* lengths, const float* const* w,
                             const float* const* w2hat, int32_t n_alphas, const float* alphas, float* const* scratch,
                             int32_t flags);
mt_status scratch_grad_accumulate_f32(int64_t n_segments, const int64_t* lengths, float* const* grad_w,
                                      int32_t n_sets, const float* const* grad_scratch, const float* coeffs,
                                      int32_t flags);
}  // namespace cpu

namespace cuda {
mt_status scratch_interp_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* w,
                             const float* const* w2hat, int32_t n_alphas, const float* alphas, float* const* scratch,
                             int32_t flags);
mt_status scratch_grad_accumulate_f32(void* stream, int64_t n_segments, const int64_t* lengths, float* const* grad_w,
                                      int32_t n_sets, const float* const* grad_scratch, const float* coeffs,
                                      int32_t flags);
}  // namespace cuda

}  // namespace mt
