// The AVX2 twin of mt_gta_f32's tile loop: gta_cpu_loops.h compiled with -mavx2 (cmake: every *_avx2.cpp).
// No FMA is enabled, so every product and sum is rounded as in the portable twin: the same bits.
#define MT_GTA_TILE_NS gta_avx2_loops
#include "gta_cpu_loops.h"
#include "gta_cpu_isa.h"

namespace mt::cpu::avx2 {
bool gta_tile_entry(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                    const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                    int32_t normalize, float divisor, float lambda, bool check, float* scratch) {
  return gta_avx2_loops::gta_tile(t, n, out, base, n_models, models, keep_bits, coefs, weights, consensus, normalize,
                                  divisor, lambda, check, scratch);
}
}  // namespace mt::cpu::avx2
