// mt_ties_*: validate once, then run the CPU or CUDA implementation; plus the per-segment trim built from the
// selection primitives (CUDA) or by ties_select_cpu.cpp's one-read radix selection (CPU), the radix-select bin picker and the shared error report.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cuda_backend.h"
#include "error.h"
#include "mergetune/device.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "mergetune/ties.h"
#include "ties_internal.h"

namespace mt {

namespace {
const char* describe(float v) { return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"); }

mt_status check_choice(const char* what, int32_t v, int32_t a, const char* an, int32_t b, const char* bn) {
  if (v == a || v == b) return MT_OK;
  return fail(MT_INVALID_ARGUMENT, "%s must be %s (%d) or %s (%d), got %d", what, an, a, bn, b, v);
}

mt_status check_per_model(const char* what, const void* p, int64_t n_segments) {
  if (n_segments > 0 && p == nullptr) return fail(MT_INVALID_ARGUMENT, "%s is NULL", what);
  return MT_OK;
}

mt_status check_weights(const float* weights, int32_t n_models) {
  if (weights == nullptr) return fail(MT_INVALID_ARGUMENT, "weights is NULL");
  for (int32_t i = 0; i < n_models; ++i) {
    if (!std::isfinite(weights[i])) return fail_at(MT_INVALID_ARGUMENT, i, -1, -1, "weights[%d] is not finite", i);
  }
  return MT_OK;
}
}  // namespace

mt_status validate_ties_tables(int32_t device, int64_t n_segments, const int64_t* lengths, float* const* out,
                               const float* const* base, int32_t n_models, const float* const* models) {
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n_segments < 0) return fail(MT_INVALID_ARGUMENT, "n_segments must be >= 0, got %lld", (long long)n_segments);
  if (n_models < 1) return fail(MT_INVALID_ARGUMENT, "n_models must be >= 1, got %d", n_models);
  if (n_segments == 0) return MT_OK;
  if (lengths == nullptr) return fail(MT_INVALID_ARGUMENT, "lengths is NULL with n_segments = %lld", (long long)n_segments);
  if (models == nullptr) return fail(MT_INVALID_ARGUMENT, "models table is NULL");
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    if (n < 0) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1, "segment %lld has negative length %lld", (long long)s,
                     (long long)n);
    }
    if (n > std::numeric_limits<int64_t>::max() - total) return fail(MT_INVALID_ARGUMENT, "total length overflows int64");
    total += n;
    if (n == 0) continue;
    if (base != nullptr && base[s] == nullptr) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, s, -1, "base segment %lld is NULL", (long long)s);
    }
    if (out != nullptr && out[s] == nullptr) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "out segment %lld is NULL", (long long)s);
    }
    for (int32_t i = 0; i < n_models; ++i) {
      const float* m = models[i * n_segments + s];
      if (m == nullptr) return fail_at(MT_INVALID_ARGUMENT, i, s, -1, "model %d segment %lld is NULL", i, (long long)s);
      // Exact aliasing is an elementwise overwrite after the read; partial overlap is not.
      if (out != nullptr && out[s] != m && out[s] < m + n && m < out[s] + n) {
        return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1,
                       "out segment %lld partially overlaps model %d's segment", (long long)s, i);
      }
    }
    if (out != nullptr && base != nullptr && out[s] != base[s] && out[s] < base[s] + n && base[s] < out[s] + n) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "out segment %lld partially overlaps base's segment",
                     (long long)s);
    }
  }
  return MT_OK;
}

mt_status report_ties(int64_t segment, int64_t element, bool has_base, float base_value, const float* model_values,
                      int32_t n_models, float result) {
  const long long s = segment, e = element;
  if (has_base && !std::isfinite(base_value)) {
    return fail_at(MT_NON_FINITE, MT_INPUT_BASE, segment, element,
                   "non-finite value %s in base, segment %lld, element %lld", describe(base_value), s, e);
  }
  for (int32_t i = 0; i < n_models; ++i) {
    if (!std::isfinite(model_values[i])) {
      return fail_at(MT_NON_FINITE, i, segment, element, "non-finite value %s in model %d, segment %lld, element %lld",
                     describe(model_values[i]), i, s, e);
    }
  }
  for (int32_t i = 0; has_base && i < n_models; ++i) {
    const float d = model_values[i] - base_value;
    if (!std::isfinite(d)) {
      return fail_at(MT_NON_FINITE, i, segment, element,
                     "delta of model %d (model - base) overflows fp32 to %s at segment %lld, element %lld", i,
                     describe(d), s, e);
    }
  }
  return fail_at(MT_NON_FINITE, MT_INPUT_OUTPUT, segment, element,
                 "result %s at segment %lld, element %lld from finite inputs (fp32 overflow)", describe(result), s, e);
}

}  // namespace mt

using mt::fail;

extern "C" mt_status mt_ties_pick_bin(const int64_t* hist, int32_t bins, int64_t rank, int32_t* bin,
                                      int64_t* rank_in_bin) {
  mt::clear_error();
  if (hist == nullptr || bin == nullptr || rank_in_bin == nullptr) return fail(MT_INVALID_ARGUMENT, "NULL argument");
  if (bins < 1) return fail(MT_INVALID_ARGUMENT, "bins must be >= 1, got %d", bins);
  if (rank < 1) return fail(MT_INVALID_ARGUMENT, "rank must be >= 1, got %lld", (long long)rank);
  int64_t above = 0;
  for (int32_t b = bins - 1; b >= 0; --b) {
    if (hist[b] < 0) return fail(MT_INVALID_ARGUMENT, "hist[%d] is negative", b);
    if (above + hist[b] >= rank) {
      *bin = b;
      *rank_in_bin = rank - above;
      return MT_OK;
    }
    above += hist[b];
  }
  return fail(MT_INVALID_ARGUMENT, "the histogram holds %lld elements, fewer than rank %lld", (long long)above,
              (long long)rank);
}

extern "C" mt_status mt_ties_histogram_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                           const float* const* base, int32_t n_models, const float* const* models,
                                           int32_t level, const uint32_t* prefixes, int64_t* hist, int32_t flags) {
  mt::clear_error();
  mt_status st = mt::validate_ties_tables(device, n_segments, lengths, nullptr, base, n_models, models);
  if (st != MT_OK) return st;
  if (level != 0 && level != 1) return fail(MT_INVALID_ARGUMENT, "level must be 0 or 1, got %d", level);
  if (hist == nullptr) return fail(MT_INVALID_ARGUMENT, "hist is NULL");
  if (level == 1 && prefixes == nullptr) return fail(MT_INVALID_ARGUMENT, "prefixes is NULL at level 1");
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::ties_histogram_f32(stream, n_segments, lengths, base, n_models, models, level, prefixes, hist,
                                        flags);
  }
  return mt::cpu::ties_histogram_f32(n_segments, lengths, base, n_models, models, level, prefixes, hist, flags);
}

extern "C" mt_status mt_ties_tie_cutoffs_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                             const float* const* base, int32_t n_models, const float* const* models,
                                             const uint32_t* thresholds, const int64_t* wanted, int64_t* tie_counts,
                                             int64_t* cutoffs, int32_t flags) {
  mt::clear_error();
  mt_status st = mt::validate_ties_tables(device, n_segments, lengths, nullptr, base, n_models, models);
  if (st == MT_OK) st = mt::check_per_model("thresholds", thresholds, n_segments);
  if (st == MT_OK) st = mt::check_per_model("wanted", wanted, n_segments);
  if (st == MT_OK) st = mt::check_per_model("tie_counts", tie_counts, n_segments);
  if (st == MT_OK) st = mt::check_per_model("cutoffs", cutoffs, n_segments);
  if (st != MT_OK) return st;
  for (int64_t k = 0; k < n_segments * n_models; ++k) {
    if (wanted[k] < 0) return fail(MT_INVALID_ARGUMENT, "wanted[%lld] is negative", (long long)k);
  }
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::ties_tie_cutoffs_f32(stream, n_segments, lengths, base, n_models, models, thresholds, wanted,
                                          tie_counts, cutoffs, flags);
  }
  return mt::cpu::ties_tie_cutoffs_f32(n_segments, lengths, base, n_models, models, thresholds, wanted, tie_counts,
                                       cutoffs, flags);
}

namespace {

// For each (model, segment) pair with 0 < k < length: the k-th largest magnitude pattern t (threshold) and how
// many elements equal to t the top k include (ties), so that exactly k elements are kept by "a > t, or a == t
// among the first `ties` such elements". k = 0 gives MT_TIES_KEEP_NONE, k >= length gives t = 0 with every
// element kept (ties = the number of zero magnitudes is then irrelevant: the cutoff is the length).

// By two histogram levels, one segment at a time (the CUDA path: the histograms come back to the host, 2–4 MB per
// segment and model group; the CPU selects in one read instead, ties_select_cpu.cpp, with the same t, r and
// cutoffs by definition). Level-1 bins are single values, so the rank inside the final bin is the tie count.

mt_status select_by_histogram(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                              const float* const* base, int32_t n_models, const float* const* models,
                              const int64_t* keep_counts, uint32_t* thresholds, int64_t* ties, int32_t flags) {
  const size_t T = static_cast<size_t>(n_models);
  std::vector<int64_t> h0(T * MT_TIES_LEVEL0_BINS), h1(T * MT_TIES_LEVEL1_BINS), rank(T);
  std::vector<uint32_t> prefix(T);
  std::vector<const float*> one_models(T);
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    bool any = false;
    for (size_t i = 0; i < T; ++i) {
      const size_t k = i * n_segments + s;
      one_models[i] = models[k];
      rank[i] = keep_counts[k];
      prefix[i] = MT_TIES_KEEP_NONE;
      ties[k] = 0;
      if (keep_counts[k] == 0) {
        thresholds[k] = MT_TIES_KEEP_NONE;
      } else if (keep_counts[k] >= n) {
        thresholds[k] = 0;
      } else {
        any = true;
      }
    }
    if (!any) continue;
    const float* one_base = base != nullptr ? base[s] : nullptr;
    const float* const* b = base != nullptr ? &one_base : nullptr;
    std::fill(h0.begin(), h0.end(), 0);
    mt_status st = mt_ties_histogram_f32(device, stream, 1, &lengths[s], b, n_models, one_models.data(), 0, nullptr,
                                         h0.data(), flags);
    if (st != MT_OK) return mt::relocate_segment(st, s);
    for (size_t i = 0; i < T; ++i) {
      if (rank[i] == 0 || rank[i] >= n) continue;
      int32_t bin;
      st = mt_ties_pick_bin(h0.data() + i * MT_TIES_LEVEL0_BINS, MT_TIES_LEVEL0_BINS, rank[i], &bin, &rank[i]);
      if (st != MT_OK) return st;
      prefix[i] = static_cast<uint32_t>(bin);
    }
    std::fill(h1.begin(), h1.end(), 0);
    st = mt_ties_histogram_f32(device, stream, 1, &lengths[s], b, n_models, one_models.data(), 1, prefix.data(),
                               h1.data(), flags);
    if (st != MT_OK) return mt::relocate_segment(st, s);
    for (size_t i = 0; i < T; ++i) {
      if (prefix[i] == MT_TIES_KEEP_NONE) continue;
      int32_t bin;
      int64_t r;
      st = mt_ties_pick_bin(h1.data() + i * MT_TIES_LEVEL1_BINS, MT_TIES_LEVEL1_BINS, rank[i], &bin, &r);
      if (st != MT_OK) return st;
      thresholds[i * n_segments + s] = (prefix[i] << 16) | static_cast<uint32_t>(bin);
      ties[i * n_segments + s] = r;
    }
  }
  return MT_OK;
}

}  // namespace

extern "C" mt_status mt_ties_trim_per_segment_f32(int32_t device, void* stream, int64_t n_segments,
                                                  const int64_t* lengths, const float* const* base, int32_t n_models,
                                                  const float* const* models, const int64_t* keep_counts, int32_t ties,
                                                  uint32_t* thresholds, int64_t* cutoffs, int32_t flags) {
  mt::clear_error();
  mt_status st = mt::validate_ties_tables(device, n_segments, lengths, nullptr, base, n_models, models);
  if (st == MT_OK) st = mt::check_per_model("keep_counts", keep_counts, n_segments);
  if (st == MT_OK) st = mt::check_per_model("thresholds", thresholds, n_segments);
  if (st == MT_OK) st = mt::check_per_model("cutoffs", cutoffs, n_segments);
  if (st == MT_OK) {
    st = mt::check_choice("ties", ties, MT_TIES_TIES_KEEP_ALL, "MT_TIES_TIES_KEEP_ALL", MT_TIES_TIES_EXACT,
                          "MT_TIES_TIES_EXACT");
  }
  if (st != MT_OK) return st;
  const int64_t pairs = n_segments * n_models;
  for (int64_t k = 0; k < pairs; ++k) {
    if (keep_counts[k] < 0) return fail(MT_INVALID_ARGUMENT, "keep_counts[%lld] is negative", (long long)k);
  }
  if (device == MT_DEVICE_CPU) {
    // One read of the inputs per (model, segment) and a radix selection in a copy (ties_select_cpu.cpp).
    return mt::cpu::ties_select_per_segment_f32(n_segments, lengths, base, n_models, models, keep_counts, ties,
                                                thresholds, cutoffs, flags);
  }
  std::vector<int64_t> wanted(static_cast<size_t>(pairs)), equal(static_cast<size_t>(pairs));
  st = select_by_histogram(device, stream, n_segments, lengths, base, n_models, models, keep_counts, thresholds,
                           wanted.data(), flags);
  if (st != MT_OK) return st;
  bool partial = false;
  for (int64_t k = 0; k < pairs; ++k) {
    const int64_t n = lengths[k % n_segments];
    cutoffs[k] = thresholds[k] == MT_TIES_KEEP_NONE ? 0 : n;  // KEEP_ALL, keep everything, keep nothing
    partial = partial || (ties == MT_TIES_TIES_EXACT && keep_counts[k] > 0 && keep_counts[k] < n);
    if (ties != MT_TIES_TIES_EXACT || keep_counts[k] == 0 || keep_counts[k] >= n) wanted[k] = INT64_MAX;
  }
  if (!partial) return MT_OK;
  // Exactly k: the cutoff after the wanted-th element equal to the threshold (the others ask for all of them).
  std::vector<int64_t> cut(static_cast<size_t>(pairs));
  st = mt_ties_tie_cutoffs_f32(device, stream, n_segments, lengths, base, n_models, models, thresholds,
                               wanted.data(), equal.data(), cut.data(), flags);
  if (st != MT_OK) return st;
  for (int64_t k = 0; k < pairs; ++k) {
    if (wanted[k] != INT64_MAX) cutoffs[k] = cut[k];
  }
  return MT_OK;
}

extern "C" mt_status mt_ties_sign_census_f32(int32_t device, void* stream, int64_t n_segments,
                                             const int64_t* lengths, const float* const* base, int32_t n_models,
                                             const float* const* models, const uint32_t* thresholds,
                                             const int64_t* cutoffs, const float* weights, int32_t election,
                                             int64_t* sign_sums, int32_t flags) {
  mt::clear_error();
  mt_status st = mt::validate_ties_tables(device, n_segments, lengths, nullptr, base, n_models, models);
  if (st == MT_OK) st = mt::check_per_model("thresholds", thresholds, n_segments);
  if (st == MT_OK) st = mt::check_per_model("cutoffs", cutoffs, n_segments);
  if (st == MT_OK) st = mt::check_per_model("sign_sums", sign_sums, n_segments);
  if (st == MT_OK) st = mt::check_weights(weights, n_models);
  if (st == MT_OK) {
    st = mt::check_choice("election", election, MT_TIES_ELECT_MASS, "MT_TIES_ELECT_MASS", MT_TIES_ELECT_COUNT,
                          "MT_TIES_ELECT_COUNT");
  }
  if (st != MT_OK) return st;
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::ties_sign_census_f32(stream, n_segments, lengths, base, n_models, models, thresholds, cutoffs,
                                          weights, election, sign_sums, flags);
  }
  return mt::cpu::ties_sign_census_f32(n_segments, lengths, base, n_models, models, thresholds, cutoffs, weights,
                                       election, sign_sums, flags);
}

extern "C" mt_status mt_ties_merge_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                       float* const* out, const float* const* base, int32_t n_models,
                                       const float* const* models, const uint32_t* thresholds, const int64_t* cutoffs,
                                       const float* weights, int32_t election, const float* zero_signs,
                                       int32_t aggregate, float lambda, int32_t flags) {
  mt::clear_error();
  mt_status st = MT_OK;
  if (n_segments > 0 && out == nullptr) st = mt::fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, -1, -1, "out table is NULL");
  if (st == MT_OK) st = mt::validate_ties_tables(device, n_segments, lengths, out, base, n_models, models);
  if (st == MT_OK) st = mt::check_per_model("thresholds", thresholds, n_segments);
  if (st == MT_OK) st = mt::check_per_model("cutoffs", cutoffs, n_segments);
  if (st == MT_OK) st = mt::check_per_model("zero_signs", zero_signs, n_segments);
  if (st == MT_OK) st = mt::check_weights(weights, n_models);
  if (st == MT_OK) {
    st = mt::check_choice("election", election, MT_TIES_ELECT_MASS, "MT_TIES_ELECT_MASS", MT_TIES_ELECT_COUNT,
                          "MT_TIES_ELECT_COUNT");
  }
  if (st == MT_OK && aggregate != MT_TIES_DISJOINT_SUM && aggregate != MT_TIES_DISJOINT_MEAN &&
      aggregate != MT_TIES_DISJOINT_MAX) {
    st = fail(MT_INVALID_ARGUMENT,
              "aggregate must be MT_TIES_DISJOINT_SUM (0), MT_TIES_DISJOINT_MEAN (1) or MT_TIES_DISJOINT_MAX (2), got %d",
              aggregate);
  }
  if (st == MT_OK && !std::isfinite(lambda)) st = fail(MT_INVALID_ARGUMENT, "lambda is not finite");
  for (int64_t s = 0; st == MT_OK && s < n_segments; ++s) {
    const float z = zero_signs[s];
    if (z != 1.0f && z != 0.0f && z != -1.0f) {
      st = mt::fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1, "zero_signs[%lld] must be -1, 0 or +1, got %g",
                       (long long)s, static_cast<double>(z));
    }
  }
  if (st != MT_OK) return st;
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::ties_merge_f32(stream, n_segments, lengths, out, base, n_models, models, thresholds, cutoffs,
                                    weights, election, zero_signs, aggregate, lambda, flags);
  }
  return mt::cpu::ties_merge_f32(n_segments, lengths, out, base, n_models, models, thresholds, cutoffs, weights,
                                 election, zero_signs, aggregate, lambda, flags);
}
