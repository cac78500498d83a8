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

}  // namespace mt::cuda
