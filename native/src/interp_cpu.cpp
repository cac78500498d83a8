// K4a on the CPU: out = base + Σ_i λ_i·(model_i − base), segment tables, fp32, fork-join over the flat range.
//
// Each thread walks its share of the concatenated segments in L1-sized tiles: the tile's accumulator starts as
// base, takes each model's weighted delta in turn (one streaming read per input), and is then stored. Inputs are
// read exactly once and out written once, so the kernel moves (n_models + 2)·4 bytes per element — the floor.
// The finiteness check rides on the accumulator already in registers: any NaN/Inf input makes the result
// non-finite (0·Inf and Inf−Inf are NaN), so checking results alone catches every bad input at no extra pass.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "interp_cpu.h"
#include "interp_report.h"
#include "parallel.h"

namespace mt::cpu {

namespace {

constexpr int64_t kTile = 1024;
constexpr int64_t kMinPerThread = int64_t{1} << 17;

// One contiguous run inside a segment; returns the index (relative to the run) of the first non-finite
// result, or -1. On a hit, the inputs at that element are copied to *bad_base / bad_models before the tile is
// stored, since out may alias an input.
int64_t interp_run(float* out, const float* base, const float* const* models, const float* lambdas,
                   int32_t n_models, int64_t n, bool check, float* bad_base, float* bad_models) {
  alignas(64) float acc[kTile];
  for (int64_t t = 0; t < n; t += kTile) {
    const int64_t len = std::min(kTile, n - t);
    const float* b = base + t;
    for (int64_t k = 0; k < len; ++k) acc[k] = b[k];
    for (int32_t i = 0; i < n_models; ++i) {
      const float* m = models[i] + t;
      const float l = lambdas[i];
      for (int64_t k = 0; k < len; ++k) acc[k] += l * (m[k] - b[k]);
    }
    int bad = 0;
    if (check) {
      for (int64_t k = 0; k < len; ++k) bad |= !(std::fabs(acc[k]) <= FLT_MAX);
    }
    if (bad) {
      for (int64_t k = 0; k < len; ++k) {
        if (std::isfinite(acc[k])) continue;
        *bad_base = b[k];
        for (int32_t i = 0; i < n_models; ++i) bad_models[i] = models[i][t + k];
        out[t + k] = acc[k];
        return t + k;
      }
    }
    float* o = out + t;
    for (int64_t k = 0; k < len; ++k) o[k] = acc[k];
  }
  return -1;
}

struct FirstBad {
  int64_t segment = -1;
  int64_t element = -1;
  float base_value = 0;
  std::vector<float> model_values;
  float out_value = 0;
};

}  // namespace

mt_status interp_f32(int64_t n_segments, const int64_t* lengths, float* const* out, const float* const* base,
                     int32_t n_models, const float* const* models, const float* lambdas, int32_t flags) {
  std::vector<int64_t> starts(n_segments + 1, 0);  // flat offset of each segment
  for (int64_t s = 0; s < n_segments; ++s) starts[s + 1] = starts[s] + lengths[s];
  const int64_t total = starts[n_segments];
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const int32_t threads = std::max(1, cpu_threads());
  std::vector<FirstBad> first_bad(threads);

  parallel_ranges(total, kMinPerThread, threads, [&](int32_t part, int64_t begin, int64_t end) {
    std::vector<const float*> seg_models(n_models);
    int64_t s = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (int64_t pos = begin; pos < end; ++s) {
      const int64_t lo = pos - starts[s], hi = std::min(end, starts[s + 1]) - starts[s];
      if (hi <= lo) continue;  // empty segment
      for (int32_t i = 0; i < n_models; ++i) seg_models[i] = models[i * n_segments + s] + lo;
      FirstBad& fb = first_bad[part];
      fb.model_values.resize(n_models);
      const int64_t bad = interp_run(out[s] + lo, base[s] + lo, seg_models.data(), lambdas, n_models, hi - lo, check,
                                     &fb.base_value, fb.model_values.data());
      if (bad >= 0) {
        fb.segment = s;
        fb.element = lo + bad;
        fb.out_value = out[s][lo + bad];
        return;
      }
      pos = starts[s] + hi;
    }
  });

  for (const FirstBad& fb : first_bad) {  // parts are in flat order, so the first hit is the lowest index
    if (fb.segment < 0) continue;
    return report_non_finite(fb.segment, fb.element, fb.base_value, fb.model_values.data(), n_models, fb.out_value);
  }
  return MT_OK;
}

}  // namespace mt::cpu
