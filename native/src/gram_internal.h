// Internal: mt_gram_f32's device halves (gram.h).
#pragma once

#include <cstdint>
#include "mergetune/gram.h"

namespace mt {
constexpr int64_t kGramChunk = int64_t{1} << 16;
namespace cpu {
mt_status gram_f32(int64_t n, const float* base, int32_t k, const float* const* inputs, double* gram, int32_t flags);
}
namespace cuda {
mt_status gram_f32(void* stream, int64_t n, const float* base, int32_t k, const float* const* inputs, double* gram,
                   int32_t flags);
}
}  // namespace mt
