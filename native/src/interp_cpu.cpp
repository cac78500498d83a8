// K4a on the CPU: out = base + Σ_i λ_i·(model_i − base), segment tables, fp32, fork-join over the flat range.
//
// Each thread takes a contiguous share of the concatenated segments. With up to eight models and no aliasing, one
// fused streaming pass reads every input once and writes out once — (n_models + 2)·4 bytes per element, the floor.
// In-place calls and larger model counts accumulate L1-sized tiles in a local buffer first (see tiled_run). On AVX2
// CPUs the fused pass is interp_cpu_avx2.cpp, which also streams outputs of kStreamBytes and more past the cache.
// The finiteness check rides on the accumulator already in registers: any NaN/Inf input makes the result
// non-finite (0·Inf and Inf−Inf are NaN), so checking results alone catches every bad input at no extra pass.
#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "interp_cpu.h"
#include "interp_cpu_isa.h"
#include "interp_report.h"
#include "parallel.h"

namespace mt::cpu {

namespace {
// Set by mt_set_cpu_isa (set_isa); nullptr: the default below.
std::atomic<const char*> g_isa_override{nullptr};
}  // namespace

const char* isa() {
  if (const char* o = g_isa_override.load(std::memory_order_relaxed); o != nullptr) return o;
  static const char* const chosen = [] {
    const char* forced = std::getenv("MERGETUNE_CPU_ISA");
    if (forced != nullptr && std::strcmp(forced, "generic") == 0) return "generic";
    return __builtin_cpu_supports("avx2") ? "avx2" : "generic";
  }();
  return chosen;
}

bool set_isa(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_isa_override.store(nullptr, std::memory_order_relaxed);
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_isa_override.store("generic", std::memory_order_relaxed);
    return true;
  }
  if (std::strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2")) {
    g_isa_override.store("avx2", std::memory_order_relaxed);
    return true;
  }
  return false;
}

namespace {

constexpr int64_t kMinPerThread = int64_t{1} << 17;

// A run whose output aliases an input (in-place) or that has more than kMaxFused models: each L1-sized tile is
// accumulated in a local buffer and checked before it is stored, so the inputs of a bad element can still be read
// for the report. Returns the index (relative to the run) of the first non-finite result, or -1; on a hit, the
// inputs at that element are copied to *bad_base / bad_models.
int64_t tiled_run(float* out, const float* base, const float* const* models, const float* lambdas,
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

// The common case, N <= kMaxFused models and no aliasing: one streaming pass, every input read once and the
// result stored straight away (the inputs stay intact, so a bad element is reported from them afterwards).
// This is the portable version (SSE2 by autovectorisation); interp_cpu_avx2.cpp has the AVX2 one.
template <int N>
int64_t fused_run(float* __restrict__ out, const float* __restrict__ base, const float* const* models,
                  const float* lambdas, int64_t n, bool check, float* bad_base, float* bad_models) {
  const float* m[N > 0 ? N : 1];
  float l[N > 0 ? N : 1];
  for (int i = 0; i < N; ++i) {
    m[i] = models[i];
    l[i] = lambdas[i];
  }
  for (int64_t t = 0; t < n; t += kTile) {
    const int64_t end = std::min(n, t + kTile);
    int bad = 0;
    for (int64_t k = t; k < end; ++k) {
      const float b = base[k];
      float acc = b;
      for (int i = 0; i < N; ++i) acc += l[i] * (m[i][k] - b);
      out[k] = acc;
      bad |= !(std::fabs(acc) <= FLT_MAX);
    }
    if (check && bad) {
      for (int64_t k = t; k < end; ++k) {
        if (std::isfinite(out[k])) continue;
        *bad_base = base[k];
        for (int i = 0; i < N; ++i) bad_models[i] = m[i][k];
        return k;
      }
    }
  }
  return -1;
}

int64_t interp_run(float* out, const float* base, const float* const* models, const float* lambdas,
                   int32_t n_models, int64_t n, bool check, bool stream, bool avx2, float* bad_base,
                   float* bad_models) {
  bool aliased = out == base;
  for (int32_t i = 0; i < n_models; ++i) aliased |= out == models[i];
  if (!aliased && avx2 && n_models <= kMaxFused) {
    return avx2::fused_run(n_models, out, base, models, lambdas, n, check, stream, bad_base, bad_models);
  }
  if (!aliased) {
    switch (n_models) {
      case 0: return fused_run<0>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 1: return fused_run<1>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 2: return fused_run<2>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 3: return fused_run<3>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 4: return fused_run<4>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 5: return fused_run<5>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 6: return fused_run<6>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 7: return fused_run<7>(out, base, models, lambdas, n, check, bad_base, bad_models);
      case 8: return fused_run<8>(out, base, models, lambdas, n, check, bad_base, bad_models);
      default: break;
    }
  }
  return tiled_run(out, base, models, lambdas, n_models, n, check, bad_base, bad_models);
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
  const bool stream = total * static_cast<int64_t>(sizeof(float)) >= kStreamBytes;
  const bool avx2 = std::strcmp(isa(), "avx2") == 0;
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
                                     stream, avx2, &fb.base_value, fb.model_values.data());
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
