// K5: entry points, validation, the non-finite report and the CPU loops (fork-join over the flat range, as K4a).
//
// Each tile's inputs are copied before any of its outputs is stored, which is what makes the exact aliasing of
// scratch_interp.h safe; with the check, an element with a non-finite result keeps its old outputs.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "error.h"
#include "mergetune/device.h"
#include "parallel.h"
#include "scratch_interp_internal.h"

namespace mt {

namespace {

constexpr int64_t kMinPerThread = int64_t{1} << 17;
constexpr int64_t kTile = 1024;  // floats per L1 tile
constexpr int32_t kMaxSets = 64;  // per-element registers of the loops below
inline bool fin(float v) { return std::fabs(v) <= FLT_MAX; }
const char* describe(float v) { return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"); }

mt_status validate(int32_t device, int64_t n_segments, const int64_t* lengths, const float* const* base,
                   const char* base_name, int32_t n_indexed, const float* const* indexed, const char* indexed_name,
                   int64_t indexed_tables, const float* coeffs, const char* coeff_name, const float* const* outs,
                   int32_t n_outs, const char* out_name) {
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n_segments < 0) return fail(MT_INVALID_ARGUMENT, "n_segments must be >= 0, got %lld", (long long)n_segments);
  if (n_indexed < 1 || n_indexed > kMaxSets) {
    return fail(MT_INVALID_ARGUMENT, "the number of %ss must be in [1, %d], got %d", coeff_name, kMaxSets, n_indexed);
  }
  if (coeffs == nullptr) return fail(MT_INVALID_ARGUMENT, "%ss is NULL", coeff_name);
  for (int32_t k = 0; k < n_indexed; ++k) {
    if (!std::isfinite(coeffs[k])) return fail_at(MT_INVALID_ARGUMENT, k, -1, -1, "%s %d is not finite", coeff_name, k);
  }
  if (n_segments == 0) return MT_OK;
  if (lengths == nullptr) return fail(MT_INVALID_ARGUMENT, "lengths is NULL with n_segments = %lld", (long long)n_segments);
  if (base == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, -1, -1, "%s table is NULL", base_name);
  if (indexed == nullptr) return fail(MT_INVALID_ARGUMENT, "%s table is NULL", indexed_name);
  if (outs == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, -1, -1, "%s table is NULL", out_name);
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    if (n < 0) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1, "segment %lld has negative length %lld", (long long)s, (long long)n);
    if (n > std::numeric_limits<int64_t>::max() - total) return fail(MT_INVALID_ARGUMENT, "total length overflows int64");
    total += n;
    if (n == 0) continue;
    if (base[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, s, -1, "%s segment %lld is NULL", base_name, (long long)s);
    for (int64_t k = 0; k < indexed_tables; ++k) {
      if (indexed[k * n_segments + s] == nullptr) {
        return fail_at(MT_INVALID_ARGUMENT, static_cast<int32_t>(k), s, -1, "%s %lld segment %lld is NULL", indexed_name,
                       (long long)k, (long long)s);
      }
    }
    for (int32_t k = 0; k < n_outs; ++k) {
      const float* o = outs[k * n_segments + s];
      if (o == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "%s %d segment %lld is NULL", out_name, k, (long long)s);
      for (int32_t j = 0; j < k; ++j) {
        if (outs[j * n_segments + s] == o) {
          return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "%s %d and %d segment %lld are the same memory",
                         out_name, j, k, (long long)s);
        }
      }
    }
  }
  return MT_OK;
}

struct Bad {
  int64_t segment = -1, element = -1;
};

// Runs body(segment, lo, hi) over the flat range in thread parts; body returns the first bad element or -1.
template <class Body>
Bad run_flat(int64_t n_segments, const int64_t* lengths, Body&& body) {
  std::vector<int64_t> starts(n_segments + 1, 0);
  for (int64_t s = 0; s < n_segments; ++s) starts[s + 1] = starts[s] + lengths[s];
  const int32_t threads = std::max(1, cpu_threads());
  std::vector<Bad> bad(threads);
  parallel_ranges(starts[n_segments], kMinPerThread, threads, [&](int32_t part, int64_t begin, int64_t end) {
    int64_t s = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (int64_t pos = begin; pos < end; ++s) {
      const int64_t lo = pos - starts[s], hi = std::min(end, starts[s + 1]) - starts[s];
      if (hi > lo) {
        const int64_t e = body(s, lo, hi);
        if (e >= 0) {
          bad[part] = Bad{s, e};
          return;
        }
      }
      pos = starts[s] + hi;
    }
  });
  for (const Bad& b : bad) {
    if (b.segment >= 0) return b;
  }
  return Bad{};
}

}  // namespace

mt_status report_scratch_non_finite(bool accumulate, int64_t segment, int64_t element, float base_value,
                                    const float* indexed_values, int32_t n_indexed) {
  const char* base_name = accumulate ? "grad_w" : "w2hat";
  if (!std::isfinite(base_value)) {
    return fail_at(MT_NON_FINITE, MT_INPUT_BASE, segment, element, "non-finite value %s in %s, segment %lld, element %lld",
                   describe(base_value), base_name, (long long)segment, (long long)element);
  }
  for (int32_t k = 0; k < n_indexed; ++k) {
    if (!std::isfinite(indexed_values[k])) {
      if (!accumulate) {
        return fail_at(MT_NON_FINITE, 0, segment, element, "non-finite value %s in w, segment %lld, element %lld",
                       describe(indexed_values[k]), (long long)segment, (long long)element);
      }
      return fail_at(MT_NON_FINITE, k, segment, element,
                     "non-finite value %s in grad_scratch %d, segment %lld, element %lld", describe(indexed_values[k]),
                     k, (long long)segment, (long long)element);
    }
  }
  return fail_at(MT_NON_FINITE, MT_INPUT_OUTPUT, segment, element,
                 "result non-finite at segment %lld, element %lld from finite inputs (fp32 overflow)",
                 (long long)segment, (long long)element);
}

namespace cpu {

// Both loops work in L1 tiles: the inputs of a tile are first copied into local buffers, so outputs may alias
// inputs exactly and the per-α / per-set loops vectorise; with the check, a tile whose results are all finite is
// stored whole, and a tile with a bad element is stored element by element, skipping the bad ones.

mt_status scratch_interp_f32(int64_t n_segments, const int64_t* lengths, const float* const* w,
                             const float* const* w2hat, int32_t n_alphas, const float* alphas, float* const* scratch,
                             int32_t flags) {
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const Bad bad = run_flat(n_segments, lengths, [&](int64_t s, int64_t lo, int64_t hi) -> int64_t {
    alignas(64) float xt[kTile], bt[kTile];
    float* out[kMaxSets];
    for (int32_t k = 0; k < n_alphas; ++k) out[k] = scratch[k * n_segments + s];
    int64_t first = -1;
    for (int64_t t = lo; t < hi; t += kTile) {
      const int len = static_cast<int>(std::min(kTile, hi - t));
      std::copy(w[s] + t, w[s] + t + len, xt);
      std::copy(w2hat[s] + t, w2hat[s] + t + len, bt);
      int tile_bad = 0;
      if (check) {
        for (int32_t k = 0; k < n_alphas; ++k) {
          const float a = alphas[k];
          for (int j = 0; j < len; ++j) tile_bad |= !fin(bt[j] + a * (xt[j] - bt[j]));
        }
      }
      if (!tile_bad) {
        for (int32_t k = 0; k < n_alphas; ++k) {
          const float a = alphas[k];
          float* o = out[k] + t;
          for (int j = 0; j < len; ++j) o[j] = bt[j] + a * (xt[j] - bt[j]);
        }
        continue;
      }
      for (int j = 0; j < len; ++j) {
        bool ok = true;
        for (int32_t k = 0; k < n_alphas; ++k) ok = ok && fin(bt[j] + alphas[k] * (xt[j] - bt[j]));
        if (!ok) {
          if (first < 0) first = t + j;
          continue;
        }
        for (int32_t k = 0; k < n_alphas; ++k) out[k][t + j] = bt[j] + alphas[k] * (xt[j] - bt[j]);
      }
    }
    return first;
  });
  if (bad.segment < 0) return MT_OK;
  const float xv = w[bad.segment][bad.element];
  return report_scratch_non_finite(false, bad.segment, bad.element, w2hat[bad.segment][bad.element], &xv, 1);
}

mt_status scratch_grad_accumulate_f32(int64_t n_segments, const int64_t* lengths, float* const* grad_w,
                                      int32_t n_sets, const float* const* grad_scratch, const float* coeffs,
                                      int32_t flags) {
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const Bad bad = run_flat(n_segments, lengths, [&](int64_t s, int64_t lo, int64_t hi) -> int64_t {
    alignas(64) float acc[kTile];
    float* gw = grad_w[s];
    int64_t first = -1;
    for (int64_t t = lo; t < hi; t += kTile) {
      const int len = static_cast<int>(std::min(kTile, hi - t));
      std::copy(gw + t, gw + t + len, acc);
      for (int32_t k = 0; k < n_sets; ++k) {
        const float c = coeffs[k];
        const float* g = grad_scratch[k * n_segments + s] + t;
        for (int j = 0; j < len; ++j) acc[j] = acc[j] + c * g[j];
      }
      int tile_bad = 0;
      if (check) {
        for (int j = 0; j < len; ++j) tile_bad |= !fin(acc[j]);
      }
      if (!tile_bad) {
        std::copy(acc, acc + len, gw + t);
        continue;
      }
      for (int j = 0; j < len; ++j) {
        if (!fin(acc[j])) {
          if (first < 0) first = t + j;
          continue;
        }
        gw[t + j] = acc[j];
      }
    }
    return first;
  });
  if (bad.segment < 0) return MT_OK;
  float v[kMaxSets];
  for (int32_t k = 0; k < n_sets; ++k) v[k] = grad_scratch[k * n_segments + bad.segment][bad.element];
  return report_scratch_non_finite(true, bad.segment, bad.element, grad_w[bad.segment][bad.element], v, n_sets);
}

}  // namespace cpu

}  // namespace mt

extern "C" mt_status mt_scratch_interp_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                           const float* const* w, const float* const* w2hat, int32_t n_alphas,
                                           const float* alphas, float* const* scratch, int32_t flags) {
  mt::clear_error();
  const mt_status st = mt::validate(device, n_segments, lengths, w2hat, "w2hat", n_alphas, w, "w", 1, alphas, "alpha",
                                    scratch, n_alphas, "scratch");
  if (st != MT_OK) return st;
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::scratch_interp_f32(stream, n_segments, lengths, w, w2hat, n_alphas, alphas, scratch, flags);
  }
  return mt::cpu::scratch_interp_f32(n_segments, lengths, w, w2hat, n_alphas, alphas, scratch, flags);
}

extern "C" mt_status mt_scratch_grad_accumulate_f32(int32_t device, void* stream, int64_t n_segments,
                                                    const int64_t* lengths, float* const* grad_w, int32_t n_sets,
                                                    const float* const* grad_scratch, const float* alphas,
                                                    const float* omegas, int32_t flags) {
  mt::clear_error();
  const mt_status st = mt::validate(device, n_segments, lengths, grad_w, "grad_w", n_sets, grad_scratch,
                                    "grad_scratch", n_sets, alphas, "alpha", grad_w, 1, "grad_w");
  if (st != MT_OK) return st;
  if (omegas != nullptr) {
    for (int32_t k = 0; k < n_sets; ++k) {
      if (!std::isfinite(omegas[k])) return mt::fail_at(MT_INVALID_ARGUMENT, k, -1, -1, "omega %d is not finite", k);
    }
  }
  float coeffs[64];
  for (int32_t k = 0; k < n_sets; ++k) {
    coeffs[k] = static_cast<float>((omegas != nullptr ? static_cast<double>(omegas[k]) : 1.0) * static_cast<double>(alphas[k]));
  }
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::scratch_grad_accumulate_f32(stream, n_segments, lengths, grad_w, n_sets, grad_scratch, coeffs, flags);
  }
  return mt::cpu::scratch_grad_accumulate_f32(n_segments, lengths, grad_w, n_sets, grad_scratch, coeffs, flags);
}
