// Internal: the tile loops of K4c's census and merge on the CPU (ties_internal.h's per-element rule), included by
// ties_cpu.cpp (portable), ties_cpu_avx2.cpp (-mavx2) and ties_cpu_avx512.cpp (-mavx512f/bw/dq/vl) inside their own
// namespaces, so the three twins are one source and the compiler's vectoriser picks the lane width.
//
// For a tile of len elements (lanes = elements) the models are visited in order and each element's accumulator is
// updated by ties_update / ties_update_max (the double mass in double lanes, the fp32 sums in float lanes): the
// loop over the models is outside the loop over the elements, which changes no operation's order for any one
// element, and every operation is the one rounding the scalar rule makes (no FMA: these files are compiled with
// -ffp-contract=off and without -mfma), so every twin gives the same bits.
//
// The tile is split at each model's tie cutoff so ties_kept's position test is a constant per loop; the result
// and sign loops are specialised on the election and the aggregate (compile-time constants), so each loop is
// branch-free. GCC only if-converts these loops when they stand alone and without its dominator optimisations
// (cmake/CMakeLists.txt: -fno-tree-dominator-opts for all three files).
//
// MT_TIES_LOOPS_NS must be defined to the namespace name before inclusion.
#include <algorithm>
#include <cstdint>

#include "ties_cpu_isa.h"
#include "ties_internal.h"

namespace mt::cpu::MT_TIES_LOOPS_NS {

// Model values m (minus bb when not NULL) into the accumulators over [lo, hi), ties_kept's position test fixed by
// kAt (0: below the cutoff, 1: not). Returns the largest magnitude pattern seen.
template <int64_t kAt>
__attribute__((noinline)) static uint32_t accumulate_run(const float* __restrict__ m, const float* __restrict__ bb,
                                                         int64_t lo, int64_t hi, uint32_t t, float w,
                                                         double* __restrict__ mass, int32_t* __restrict__ count,
                                                         float* __restrict__ pos, float* __restrict__ neg,
                                                         float* __restrict__ wpos, float* __restrict__ wneg) {
  uint32_t worst = 0;
  if (bb != nullptr) {
    for (int64_t e = lo; e < hi; ++e) {
      const float d = m[e] - bb[e];
      const uint32_t a = ties_magnitude_bits(d);
      worst = std::max(worst, a);
      ties_update(d, ties_kept(a, t, kAt, 1), w, mass[e], count[e], pos[e], neg[e], wpos[e], wneg[e]);
    }
  } else {
    for (int64_t e = lo; e < hi; ++e) {
      const float d = m[e];
      const uint32_t a = ties_magnitude_bits(d);
      worst = std::max(worst, a);
      ties_update(d, ties_kept(a, t, kAt, 1), w, mass[e], count[e], pos[e], neg[e], wpos[e], wneg[e]);
    }
  }
  return worst;
}

// The running maxima of MT_TIES_DISJOINT_MAX over [lo, hi) (a loop of its own, so the other aggregates pay
// nothing for them).
template <int64_t kAt>
__attribute__((noinline)) static void accumulate_max_run(const float* __restrict__ m, const float* __restrict__ bb,
                                                         int64_t lo, int64_t hi, uint32_t t, float w,
                                                         float* __restrict__ pmax, float* __restrict__ nmax) {
  if (bb != nullptr) {
    for (int64_t e = lo; e < hi; ++e) {
      const float d = m[e] - bb[e];
      ties_update_max(d, ties_kept(ties_magnitude_bits(d), t, kAt, 1), w, pmax[e], nmax[e]);
    }
  } else {
    for (int64_t e = lo; e < hi; ++e) {
      const float d = m[e];
      ties_update_max(d, ties_kept(ties_magnitude_bits(d), t, kAt, 1), w, pmax[e], nmax[e]);
    }
  }
}

static uint32_t accumulate(const TiesTileIn& in, const TiesTileAcc& acc, int64_t len, bool with_max) {
  std::fill(acc.mass, acc.mass + len, 0.0);
  std::fill(acc.count, acc.count + len, 0);
  std::fill(acc.pos, acc.pos + len, 0.0f);
  std::fill(acc.neg, acc.neg + len, 0.0f);
  std::fill(acc.wpos, acc.wpos + len, 0.0f);
  std::fill(acc.wneg, acc.wneg + len, 0.0f);
  if (with_max) {
    std::fill(acc.pmax, acc.pmax + len, 0.0f);
    std::fill(acc.nmax, acc.nmax + len, 0.0f);
  }
  uint32_t worst = 0;
  for (int32_t i = 0; i < in.n_models; ++i) {
    const float* m = in.models[i];
    const int64_t c = in.cuts[i];
    const uint32_t t = in.thresholds[i];
    const float w = in.weights[i];
    worst = std::max(worst, accumulate_run<0>(m, in.base, 0, c, t, w, acc.mass, acc.count, acc.pos, acc.neg,
                                              acc.wpos, acc.wneg));
    worst = std::max(worst, accumulate_run<1>(m, in.base, c, len, t, w, acc.mass, acc.count, acc.pos, acc.neg,
                                              acc.wpos, acc.wneg));
    if (with_max) {
      accumulate_max_run<0>(m, in.base, 0, c, t, w, acc.pmax, acc.nmax);
      accumulate_max_run<1>(m, in.base, c, len, t, w, acc.pmax, acc.nmax);
    }
  }
  return worst;
}

// ties_result per element, the float operations in its order. Returns whether every result is finite.
template <int32_t kElection, int32_t kAggregate, bool kHasBase>
__attribute__((noinline)) static bool results_for(const TiesTileAcc& acc, int64_t len,
                                                  const float* __restrict__ base, float z, float lambda,
                                                  float* __restrict__ result) {
  const double* __restrict__ mass = acc.mass;
  const int32_t* __restrict__ count = acc.count;
  const float* __restrict__ pos = acc.pos;
  const float* __restrict__ neg = acc.neg;
  const float* __restrict__ wpos = acc.wpos;
  const float* __restrict__ wneg = acc.wneg;
  const float* __restrict__ pmax = acc.pmax;
  const float* __restrict__ nmax = acc.nmax;
  uint32_t finite = 1;
  for (int64_t e = 0; e < len; ++e) {
    const TiesAcc a{mass[e], count[e], pos[e], neg[e], wpos[e], wneg[e],
                    kAggregate == MT_TIES_DISJOINT_MAX ? pmax[e] : 0.0f,
                    kAggregate == MT_TIES_DISJOINT_MAX ? nmax[e] : 0.0f};
    const float r = ties_result(a, kElection, z, kAggregate, lambda, kHasBase, kHasBase ? base[e] : 0.0f);
    result[e] = r;
    finite &= ties_magnitude_bits(r) < 0x7f800000u ? 1u : 0u;
  }
  return finite != 0;
}

template <int32_t kElection, int32_t kAggregate>
static bool results_any_base(const TiesTileAcc& acc, int64_t len, const float* base, float z, float lambda,
                             float* result) {
  return base != nullptr ? results_for<kElection, kAggregate, true>(acc, len, base, z, lambda, result)
                         : results_for<kElection, kAggregate, false>(acc, len, base, z, lambda, result);
}

static bool results(const TiesTileAcc& acc, int64_t len, const float* base, float z, float lambda,
                    int32_t election, int32_t aggregate, float* result) {
  const bool count = election == MT_TIES_ELECT_COUNT;
  if (aggregate == MT_TIES_DISJOINT_MAX) {
    return count ? results_any_base<MT_TIES_ELECT_COUNT, MT_TIES_DISJOINT_MAX>(acc, len, base, z, lambda, result)
                 : results_any_base<MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_MAX>(acc, len, base, z, lambda, result);
  }
  if (aggregate == MT_TIES_DISJOINT_MEAN) {
    return count ? results_any_base<MT_TIES_ELECT_COUNT, MT_TIES_DISJOINT_MEAN>(acc, len, base, z, lambda, result)
                 : results_any_base<MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_MEAN>(acc, len, base, z, lambda, result);
  }
  return count ? results_any_base<MT_TIES_ELECT_COUNT, MT_TIES_DISJOINT_SUM>(acc, len, base, z, lambda, result)
               : results_any_base<MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_SUM>(acc, len, base, z, lambda, result);
}

// Σ_e sign(score_e) over the tile (the census; a zero score counts 0).
template <int32_t kElection>
__attribute__((noinline)) static int64_t sign_sum_for(const TiesTileAcc& acc, int64_t len) {
  int32_t sum = 0;  // |sum| <= len <= kTiesTile
  for (int64_t e = 0; e < len; ++e) {
    if constexpr (kElection == MT_TIES_ELECT_COUNT) {
      sum += static_cast<int32_t>(acc.count[e] > 0) - static_cast<int32_t>(acc.count[e] < 0);
    } else {
      sum += static_cast<int32_t>(acc.mass[e] > 0.0) - static_cast<int32_t>(acc.mass[e] < 0.0);
    }
  }
  return sum;
}

static int64_t sign_sum(const TiesTileAcc& acc, int64_t len, int32_t election) {
  return election == MT_TIES_ELECT_COUNT ? sign_sum_for<MT_TIES_ELECT_COUNT>(acc, len)
                                         : sign_sum_for<MT_TIES_ELECT_MASS>(acc, len);
}

// The level-0 patterns' top bits (a >> 16) of one model over [lo, hi) into keys; returns the largest pattern.
__attribute__((noinline)) static uint32_t level0_keys(const float* __restrict__ m, const float* __restrict__ bb,
                                                      int64_t n, uint16_t* __restrict__ keys) {
  uint32_t worst = 0;
  if (bb != nullptr) {
    for (int64_t e = 0; e < n; ++e) {
      const uint32_t a = ties_magnitude_bits(m[e] - bb[e]);
      worst = std::max(worst, a);
      keys[e] = static_cast<uint16_t>(a >> 16);
    }
  } else {
    for (int64_t e = 0; e < n; ++e) {
      const uint32_t a = ties_magnitude_bits(m[e]);
      worst = std::max(worst, a);
      keys[e] = static_cast<uint16_t>(a >> 16);
    }
  }
  return worst;
}

}  // namespace mt::cpu::MT_TIES_LOOPS_NS
