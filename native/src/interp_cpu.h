// Internal: the CPU implementation of mt_interp_f32 (arguments already validated).
#pragma once

#include <cstdint>
#include "mergetune/interp.h"

namespace mt::cpu {
mt_status interp_f32(int64_t n_segments, const int64_t* lengths, float* const* out, const float* const* base,
                     int32_t n_models, const float* const* models, const float* lambdas, int32_t flags);
}
