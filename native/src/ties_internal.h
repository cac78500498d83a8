// Internal: K4c (mt_ties_*) pieces shared by the public entry points, the CPU kernels and the CUDA kernels.
//
// The per-element arithmetic lives here once, so both devices round identically: δ = m − b, v = w ⊗ δ, the fp32
// running sums of the positive and negative v (and of their weights) in model order, the double mass, the integer
// count. The result picks the elected side's sums afterwards, which is the same as summing the selected v in
// model order (the other side's terms are simply not in that sum).
#pragma once

#include <cstdint>
#include <cstring>

#include "mergetune/ties.h"

#ifdef __CUDACC__
#define MT_TIES_FN __host__ __device__ __forceinline__
#else
#define MT_TIES_FN inline
#endif
// Explicit roundings in device code (nvcc would otherwise contract a·b + c into an FMA); host code has no FMA
// (the library is built without -mfma).
#ifdef __CUDA_ARCH__
#define MT_FADD(a, b) __fadd_rn((a), (b))
#define MT_FMUL(a, b) __fmul_rn((a), (b))
#define MT_FDIV(a, b) __fdiv_rn((a), (b))
#else
#define MT_FADD(a, b) ((a) + (b))
#define MT_FMUL(a, b) ((a) * (b))
#define MT_FDIV(a, b) ((a) / (b))
#endif

namespace mt {

// The 31-bit pattern of |x|: unsigned order of these is the order of |x| for every finite x.
MT_TIES_FN uint32_t ties_magnitude_bits(float x) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(x) & 0x7fffffffu;
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  return u & 0x7fffffffu;
#endif
}

MT_TIES_FN bool ties_kept(uint32_t magnitude, uint32_t threshold, int64_t j, int64_t cutoff) {
  return magnitude > threshold || (magnitude == threshold && j < cutoff);
}

struct TiesAcc {
  double mass;
  int32_t count;
  float pos, neg;    // Σ of the positive / negative v, model order
  float wpos, wneg;  // Σ of their weights, model order
  float pmax, nmax;  // max of the positive v, max of |v| over the negative v (MT_TIES_DISJOINT_MAX)
};

MT_TIES_FN void ties_init(TiesAcc& a) {
  a.mass = 0.0;
  a.count = 0;
  a.pos = a.neg = a.wpos = a.wneg = 0.0f;
  a.pmax = a.nmax = 0.0f;
}

// Adds model i's value at one element: δ (already m − b), whether it survived the trim, its weight. Branch-free
// (so the CPU loops vectorise): a term that does not apply adds +0, which leaves every running sum bit for bit as
// it was — none of them can be −0 (they start at +0 and an exact cancellation rounds to +0).
MT_TIES_FN void ties_update(float delta, bool kept, float weight, double& mass, int32_t& count, float& pos,
                            float& neg, float& wpos, float& wneg) {
  const float v = kept ? MT_FMUL(weight, delta) : 0.0f;
  const bool up = v > 0.0f, down = v < 0.0f;
  mass += static_cast<double>(v);
  count += static_cast<int32_t>(up) - static_cast<int32_t>(down);
  pos = MT_FADD(pos, up ? v : 0.0f);
  neg = MT_FADD(neg, down ? v : 0.0f);
  wpos = MT_FADD(wpos, up ? weight : 0.0f);
  wneg = MT_FADD(wneg, down ? weight : 0.0f);
}

// The running maxima of MT_TIES_DISJOINT_MAX (exact: no rounding; a term that does not apply offers +0, which
// never raises a maximum that starts at +0).
MT_TIES_FN void ties_update_max(float delta, bool kept, float weight, float& pmax, float& nmax) {
  const float v = kept ? MT_FMUL(weight, delta) : 0.0f;
  const float up = v > 0.0f ? v : 0.0f, down = v < 0.0f ? -v : 0.0f;
  pmax = up > pmax ? up : pmax;
  nmax = down > nmax ? down : nmax;
}

MT_TIES_FN void ties_add(TiesAcc& a, float delta, bool kept, float weight) {
  ties_update(delta, kept, weight, a.mass, a.count, a.pos, a.neg, a.wpos, a.wneg);
  ties_update_max(delta, kept, weight, a.pmax, a.nmax);
}

// The elected sign: +1, −1, or the segment's zero sign where the score is 0.
MT_TIES_FN float ties_elect(const TiesAcc& a, int32_t election, float zero_sign) {
  if (election == MT_TIES_ELECT_COUNT) return a.count > 0 ? 1.0f : (a.count < 0 ? -1.0f : zero_sign);
  return a.mass > 0.0 ? 1.0f : (a.mass < 0.0 ? -1.0f : zero_sign);
}

// The aggregated delta of the elected side (e == 0 selects the negative side, as the reference does; the max
// aggregate is then 0 · max = 0).
MT_TIES_FN float ties_aggregate(const TiesAcc& a, float elected, int32_t aggregate) {
  if (aggregate == MT_TIES_DISJOINT_MAX) return MT_FMUL(elected, elected > 0.0f ? a.pmax : a.nmax);
  const float sum = elected > 0.0f ? a.pos : a.neg;
  if (aggregate != MT_TIES_DISJOINT_MEAN) return sum;
  const float d = elected > 0.0f ? a.wpos : a.wneg;
  return MT_FDIV(sum, d == 0.0f ? 1.0f : d);
}

MT_TIES_FN float ties_result(const TiesAcc& a, int32_t election, float zero_sign, int32_t aggregate, float lambda,
                             bool has_base, float base) {
  const float scaled = MT_FMUL(lambda, ties_aggregate(a, ties_elect(a, election, zero_sign), aggregate));
  return has_base ? MT_FADD(base, scaled) : scaled;
}

// Argument checks shared by the entry points (device-independent). `out` may be NULL for the passes that write
// no tensor; `per_model` names the per-(model, segment) arrays a call needs.
mt_status validate_ties_tables(int32_t device, int64_t n_segments, const int64_t* lengths, float* const* out,
                               const float* const* base, int32_t n_models, const float* const* models);

// Names the first non-finite input of an element (base, then the models in order), else the model whose δ
// overflowed, else the result (`result` is what the merge computed; NaN-free passes give 0).
mt_status report_ties(int64_t segment, int64_t element, bool has_base, float base_value, const float* model_values,
                      int32_t n_models, float result);

namespace cpu {
mt_status ties_histogram_f32(int64_t n_segments, const int64_t* lengths, const float* const* base, int32_t n_models,
                             const float* const* models, int32_t level, const uint32_t* prefixes, int64_t* hist,
                             int32_t flags);
mt_status ties_tie_cutoffs_f32(int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* wanted, int64_t* tie_counts, int64_t* cutoffs, int32_t flags);
mt_status ties_sign_census_f32(int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* cutoffs, const float* weights, int32_t election, int64_t* sign_sums,
                               int32_t flags);
// mt_ties_trim_per_segment_f32 on the CPU, final thresholds and cutoffs (ties_select_cpu.cpp).
mt_status ties_select_per_segment_f32(int64_t n_segments, const int64_t* lengths, const float* const* base,
                                      int32_t n_models, const float* const* models, const int64_t* keep_counts,
                                      int32_t ties, uint32_t* thresholds, int64_t* cutoffs, int32_t flags);
mt_status ties_merge_f32(int64_t n_segments, const int64_t* lengths, float* const* out, const float* const* base,
                         int32_t n_models, const float* const* models, const uint32_t* thresholds,
                         const int64_t* cutoffs, const float* weights, int32_t election, const float* zero_signs,
                         int32_t aggregate, float lambda, int32_t flags);
}  // namespace cpu

}  // namespace mt
