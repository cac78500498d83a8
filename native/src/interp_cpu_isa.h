// Internal: the ISA-specific fused passes of the CPU interpolation kernel and the run-time choice between them.
#pragma once

#include <cstdint>

#include "cpu_isa.h"

namespace mt::cpu {

constexpr int64_t kTile = 1024;    // elements per L1 tile (and per NaN-check granule)
constexpr int32_t kMaxFused = 8;   // the fused single pass exists for 0..kMaxFused models

namespace avx2 {
// One unaliased run of n elements with n_models <= kMaxFused; returns the first non-finite index or -1 and then
// fills *bad_base / bad_models from the (intact) inputs. `stream` selects non-temporal stores.
int64_t fused_run(int32_t n_models, float* out, const float* base, const float* const* models, const float* lambdas,
                  int64_t n, bool check, bool stream, float* bad_base, float* bad_models);
}  // namespace avx2

}  // namespace mt::cpu
