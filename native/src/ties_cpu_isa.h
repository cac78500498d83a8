// Internal: the three CPU twins of K4c's tile loops (ties_cpu_loops.h): portable (ties_cpu.cpp), AVX2
// (ties_cpu_avx2.cpp) and AVX-512 (ties_cpu_avx512.cpp), chosen once per call (ties_loops(): isa() and
// use_avx512(), cpu_isa.h, so MERGETUNE_CPU_ISA and mt_set_cpu_isa / mt_set_cpu_avx512 choose for TIES too).
// Every twin gives the same bits.
#pragma once

#include <cstdint>

namespace mt::cpu {

constexpr int64_t kTiesTile = 1024;  // elements per tile

// One tile's inputs: per model its values at the tile's first element, its threshold, its cutoff relative to the
// tile (clamped to [0, len]) and its weight; base at the tile's first element or NULL (the models are deltas).
struct TiesTileIn {
  int32_t n_models;
  const float* const* models;
  const float* base;
  const uint32_t* thresholds;
  const int64_t* cuts;
  const float* weights;
};

// One tile's accumulators (kTiesTile each), structure of arrays.
struct TiesTileAcc {
  double* mass;
  int32_t* count;
  float *pos, *neg, *wpos, *wneg, *pmax, *nmax;
};

struct TiesLoops {
  // Zeroes the accumulators and adds the models in order (the maxima too when with_max); returns the largest |δ|
  // pattern seen (>= 0x7f800000: some δ is not finite).
  uint32_t (*accumulate)(const TiesTileIn& in, const TiesTileAcc& acc, int64_t len, bool with_max);
  // ties_result of every element into result; false when some result is not finite.
  bool (*results)(const TiesTileAcc& acc, int64_t len, const float* base, float z, float lambda, int32_t election,
                  int32_t aggregate, float* result);
  // Σ sign(score) over the tile.
  int64_t (*sign_sum)(const TiesTileAcc& acc, int64_t len, int32_t election);
  // keys[e] = |δ_e| pattern >> 16 over n elements; returns the largest pattern.
  uint32_t (*level0_keys)(const float* m, const float* b, int64_t n, uint16_t* keys);
};

namespace generic {
extern const TiesLoops ties_loops;
}
namespace avx2 {
extern const TiesLoops ties_loops;
}
namespace avx512 {
extern const TiesLoops ties_loops;
}

// The twin this call runs (cpu_isa.h's choice).
const TiesLoops& ties_loops();

// The window scan of the per-segment trim (ties_select_cpu.cpp): over n elements of one model (a = the pattern of
// |m − b|, or of |m| when b is NULL), *above += #{a > hi}; the elements with lo <= a <= hi are written in index
// order as (index, pattern) to idx / pat (room for n + 16 entries each), and their number returned; *worst is
// raised to the largest a. Integers only: the twins agree exactly.
using TiesWindowScan = int64_t (*)(const float* m, const float* b, int64_t n, uint32_t lo, uint32_t hi, uint32_t* idx,
                                   uint32_t* pat, int64_t* above, uint32_t* worst);
namespace generic {
int64_t ties_window_scan(const float* m, const float* b, int64_t n, uint32_t lo, uint32_t hi, uint32_t* idx,
                         uint32_t* pat, int64_t* above, uint32_t* worst);
}
namespace avx512 {
int64_t ties_window_scan(const float* m, const float* b, int64_t n, uint32_t lo, uint32_t hi, uint32_t* idx,
                         uint32_t* pat, int64_t* above, uint32_t* worst);
}

}  // namespace mt::cpu
