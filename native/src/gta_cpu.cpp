// mt_gta_f32 on the CPU (the maths: gta.h and gta_internal.h). Fork-join over the range in parts that start at
// multiples of 32 elements (a keep-bit word never straddles two threads); each thread walks its part tile by tile
// (gta_cpu_loops.h), one read of every input per tile, the tile computed into a local buffer and checked before
// it is stored, so out may alias base or a model and the inputs of a bad element are still intact for the report.
// On AVX2 CPUs the tiles run in gta_cpu_avx2.cpp: the same source and the same bits; on AVX-512 CPUs
// (cpu::use_avx512()) in gta_cpu_avx512.cpp: element-major, masks read as bits, the same bits again.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu_isa.h"
#include "gta_cpu_isa.h"
#include "interp_report.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"

#define MT_GTA_TILE_NS gta_generic_loops
#include "gta_cpu_loops.h"

namespace mt::cpu {

namespace generic {
bool gta_tile_entry(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                    const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                    int32_t normalize, float divisor, float lambda, bool check, float* scratch) {
  return gta_generic_loops::gta_tile(t, n, out, base, n_models, models, keep_bits, coefs, weights, consensus,
                                     normalize, divisor, lambda, check, scratch);
}
}  // namespace generic

mt_status gta_f32(int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                  const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                  int32_t normalize, float divisor, float lambda, int32_t flags) {
  if (n == 0) return MT_OK;
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const bool avx2 = std::strcmp(isa(), "avx2") == 0;
  const bool wide = avx2 && use_avx512();  // gta_cpu_avx512.cpp: the same bits, element-major
  constexpr int64_t kTile = gta_generic_loops::kGtaTile;
  const int64_t tiles = (n + kTile - 1) / kTile;
  std::atomic<int64_t> first_bad{-1};
  parallel_ranges(tiles, 64, cpu_threads(), [&](int32_t, int64_t lo, int64_t hi) {
    std::vector<float> scratch(5 * kTile);  // gta_tile's 4 float tiles and its keep words
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t t = q * kTile, len = std::min(kTile, n - t);
      const bool fine = wide   ? avx512::gta_tile_entry(t, len, out, base, n_models, models, keep_bits, coefs, weights,
                                                        consensus, normalize, divisor, lambda, check, scratch.data())
                        : avx2 ? avx2::gta_tile_entry(t, len, out, base, n_models, models, keep_bits, coefs, weights,
                                                    consensus, normalize, divisor, lambda, check, scratch.data())
                             : generic::gta_tile_entry(t, len, out, base, n_models, models, keep_bits, coefs,
                                                       weights, consensus, normalize, divisor, lambda, check,
                                                       scratch.data());
      if (!fine) {  // locate the first bad element of the tile from the intact inputs
        for (int64_t k = t; k < t + len; ++k) {
          bool bad = base != nullptr && !std::isfinite(base[k]);
          for (int32_t i = 0; i < n_models && !bad; ++i) bad = !std::isfinite(models[i][k]);
          if (!bad) {
            float mv[MT_GTA_MAX_MODELS];
            for (int32_t i = 0; i < n_models; ++i) mv[i] = models[i][k];
            bad = !std::isfinite(gta_element(base == nullptr ? 0.0f : base[k], mv, keep_bits, k, n_models, coefs,
                                             weights, consensus, normalize, divisor, lambda));
          }
          if (bad) {
            int64_t cur = first_bad.load();
            while ((cur < 0 || k < cur) && !first_bad.compare_exchange_weak(cur, k)) {}
            break;
          }
        }
        return;  // this part stops at its first bad tile; nothing after it matters
      }
    }
  });
  const int64_t k = first_bad.load();
  if (k >= 0) {
    float mv[MT_GTA_MAX_MODELS];
    for (int32_t i = 0; i < n_models; ++i) mv[i] = models[i][k];
    const float b = base == nullptr ? 0.0f : base[k];
    return report_non_finite(0, k, b, mv, n_models,
                             gta_element(b, mv, keep_bits, k, n_models, coefs, weights, consensus, normalize,
                                         divisor, lambda));
  }
  return MT_OK;
}

}  // namespace mt::cpu
