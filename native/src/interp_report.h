// Internal: shared by the CPU and CUDA interpolation paths.
#pragma once

#include <cstdint>
#include "mergetune/status.h"

namespace mt {

// Names the first non-finite input of element (segment, element), or the result when every input is finite
// (overflow), and sets the error. `model_values` holds that element of each model in model order.
mt_status report_non_finite(int64_t segment, int64_t element, float base_value, const float* model_values,
                            int32_t n_models, float out_value);

// Checks the arguments of mt_interp_f32 that do not depend on the device; returns MT_OK or a described error.
mt_status validate_interp(int32_t device, int64_t n_segments, const int64_t* lengths, float* const* out,
                          const float* const* base, int32_t n_models, const float* const* models,
                          const float* lambdas);

}  // namespace mt
