// Internal: the CUDA implementations behind the public entry points. Defined in cuda-kernels/*.cu when the
// library is built with CUDA, and by cuda_absent.cpp (returning MT_CUDA_UNAVAILABLE) when it is not.
// Arguments arrive already validated by the public entry point.
#pragma once

#include <cstdint>
#include "mergetune/status.h"

namespace mt::cuda {

mt_status interp_f32(void* stream, int64_t n_segments, const int64_t* lengths, float* const* out,
                     const float* const* base, int32_t n_models, const float* const* models, const float* lambdas,
                     int32_t flags);

mt_status signmax_unify_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* theta0,
                            int32_t n_tasks, const float* const* inputs, float* const* unified, uint32_t* const* masks,
                            double* sum_abs_delta, double* sum_abs_masked, int32_t flags);
mt_status signmax_decouple_f32(void* stream, int64_t n_segments, const int64_t* lengths, float* const* out,
                               const float* const* theta0, const float* const* unified, const uint32_t* const* mask,
                               float lambda, int32_t flags);

// K4b; `threshold` and `scale` as for mt::cpu::dare_f32 (dare_internal.h), computed once by the entry point.
mt_status dare_f32(void* stream, int64_t n_segments, const int64_t* lengths, const uint64_t* tensor_keys,
                   float* const* out, const float* const* base, int32_t n_models, const float* const* models,
                   const float* lambdas, uint32_t threshold, uint64_t seed, int32_t rescale, float scale,
                   int32_t flags);

// K4c (ties.h); the histograms, counts, cutoffs and sign sums are host memory.
mt_status ties_histogram_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* base,
                             int32_t n_models, const float* const* models, int32_t level, const uint32_t* prefixes,
                             int64_t* hist, int32_t flags);
mt_status ties_tie_cutoffs_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* wanted, int64_t* tie_counts, int64_t* cutoffs, int32_t flags);
mt_status ties_sign_census_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* cutoffs, const float* weights, int32_t election, int64_t* sign_sums,
                               int32_t flags);
mt_status ties_merge_f32(void* stream, int64_t n_segments, const int64_t* lengths, float* const* out,
                         const float* const* base, int32_t n_models, const float* const* models,
                         const uint32_t* thresholds, const int64_t* cutoffs, const float* weights, int32_t election,
                         const float* zero_signs, int32_t aggregate, float lambda, int32_t flags);

// ---- K1 (multialpha.h): the call arrives validated by validate_multialpha (multialpha_internal.h).
}  // namespace mt::cuda
namespace mt {
struct MultiAlphaCall;
}
namespace mt::cuda {
mt_status multialpha_f32(void* stream, const MultiAlphaCall& call);
// ---- end K1
}  // namespace mt::cuda
