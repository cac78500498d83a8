// Internal: the CPU twins of mt_gta_f32's tile loop (gta_cpu_loops.h portable and AVX2; gta_cpu_avx512.cpp),
// chosen at run time (cpu_isa.h).
#pragma once

#include <cstdint>

namespace mt::cpu {
namespace generic {
bool gta_tile_entry(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                    const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                    int32_t normalize, float divisor, float lambda, bool check, float* scratch);
}
namespace avx2 {
bool gta_tile_entry(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                    const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                    int32_t normalize, float divisor, float lambda, bool check, float* scratch);
}
namespace avx512 {
bool gta_tile_entry(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                    const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                    int32_t normalize, float divisor, float lambda, bool check, float* scratch);
}
}  // namespace mt::cpu
