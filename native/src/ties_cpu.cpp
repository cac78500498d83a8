// K4c on the CPU: TIES selection passes (magnitude histograms, tie cutoffs), the sign census and the merge.
//
// Every pass is a fork-join over the flat range of all segments (parallel_ranges), each thread walking its share
// as pieces of segments, tile by tile (kTile elements): for a tile, the models are visited in order and each
// element's accumulator (ties_internal.h: the one float expression both devices compute) is updated, so a tile
// reads each model's values once and contiguously.
//
// Histograms: each thread counts into its own 32-bit bins and adds them into the caller's 64-bit histogram under
// a lock, at the end of its share and whenever its counts could overflow. Tie cutoffs: per thread and (model,
// segment) the number of elements equal to the threshold; the wanted-th of them is then found by rescanning only
// the one thread-share that holds it. Census: per thread and segment Σ sign(score), added in thread order
// (integers: the order does not matter).
//
// MT_CHECK_FINITE: δ = m − b is non-finite exactly when m, b or the difference is, so every pass tests each δ (and
// the merge its results); the first bad element by flat index is reported through report_ties, and the merge
// stores no value of a bad element (its inputs stay intact when out aliases one).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"
#include "ties_internal.h"

namespace mt::cpu {

namespace {

constexpr int64_t kTile = 1024;
constexpr int64_t kMinPerThread = int64_t{1} << 16;
constexpr uint32_t kNonFinite = 0x7f800000u;  // magnitude patterns at or above this are Inf / NaN
constexpr int64_t kNoBad = INT64_MAX;

struct Table {
  int64_t n_segments;
  const int64_t* lengths;
  const float* const* base;  // may be NULL: the models are deltas
  int32_t n_models;
  const float* const* models;
  std::vector<int64_t> starts;  // n_segments + 1 flat starts

  Table(int64_t S, const int64_t* len, const float* const* b, int32_t T, const float* const* m)
      : n_segments(S), lengths(len), base(b), n_models(T), models(m), starts(static_cast<size_t>(S) + 1, 0) {
    for (int64_t s = 0; s < S; ++s) starts[s + 1] = starts[s] + len[s];
  }
  int64_t total() const { return starts[static_cast<size_t>(n_segments)]; }
  const float* model(int32_t i, int64_t s) const { return models[static_cast<size_t>(i) * n_segments + s]; }
  const float* base_of(int64_t s) const { return base != nullptr ? base[s] : nullptr; }

  // Calls fn(segment, first element, count) for the pieces of segments covering flat [begin, end).
  template <typename Fn>
  void pieces(int64_t begin, int64_t end, Fn&& fn) const {
    int64_t s = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (int64_t at = begin; at < end && s < n_segments; ++s) {
      const int64_t lo = std::max(at, starts[s]), hi = std::min(end, starts[s + 1]);
      if (hi > lo) fn(s, lo - starts[s], hi - lo);
      at = hi;
    }
  }

  mt_status report(int64_t flat, float result) const {
    const int64_t s = std::upper_bound(starts.begin(), starts.end(), flat) - starts.begin() - 1;
    const int64_t j = flat - starts[s];
    std::vector<float> v(static_cast<size_t>(n_models));
    for (int32_t i = 0; i < n_models; ++i) v[i] = model(i, s)[j];
    const float* b = base_of(s);
    return report_ties(s, j, b != nullptr, b != nullptr ? b[j] : 0.0f, v.data(), n_models, result);
  }
};

inline float delta_at(const float* m, const float* b, int64_t j) { return b != nullptr ? m[j] - b[j] : m[j]; }

// The first bad flat index over all thread shares.
int64_t first_bad(const std::vector<int64_t>& bad) {
  int64_t f = kNoBad;
  for (int64_t b : bad) f = std::min(f, b);
  return f;
}

}  // namespace

mt_status ties_histogram_f32(int64_t n_segments, const int64_t* lengths, const float* const* base, int32_t n_models,
                             const float* const* models, int32_t level, const uint32_t* prefixes, int64_t* hist,
                             int32_t flags) {
  const Table tab(n_segments, lengths, base, n_models, models);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const size_t bins = level == 0 ? MT_TIES_LEVEL0_BINS : MT_TIES_LEVEL1_BINS;
  const size_t T = static_cast<size_t>(n_models);
  const int32_t max_parts = cpu_threads();
  std::vector<int64_t> bad(static_cast<size_t>(max_parts), kNoBad);
  std::mutex merge;
  parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    std::vector<uint32_t> local(T * bins, 0);
    int64_t pending = 0;
    auto flush = [&]() {
      std::lock_guard<std::mutex> lock(merge);
      for (size_t k = 0; k < local.size(); ++k) hist[k] += local[k];
      std::fill(local.begin(), local.end(), 0u);
      pending = 0;
    };
    tab.pieces(begin, end, [&](int64_t s, int64_t j0, int64_t n) {
      const float* b = tab.base_of(s);
      for (int64_t t0 = 0; t0 < n; t0 += kTile) {
        const int64_t len = std::min(kTile, n - t0);
        if (pending + len > (int64_t{1} << 31)) flush();
        pending += len;
        for (size_t i = 0; i < T; ++i) {
          const float* m = tab.model(static_cast<int32_t>(i), s);
          uint32_t* h = local.data() + i * bins;
          uint32_t worst = 0;
          if (level == 0) {
            for (int64_t e = j0 + t0; e < j0 + t0 + len; ++e) {
              const uint32_t a = ties_magnitude_bits(delta_at(m, b, e));
              worst = std::max(worst, a);
              h[a >> 16] += 1;
            }
          } else if (prefixes[i] != MT_TIES_KEEP_NONE) {
            const uint32_t p = prefixes[i];
            for (int64_t e = j0 + t0; e < j0 + t0 + len; ++e) {
              const uint32_t a = ties_magnitude_bits(delta_at(m, b, e));
              worst = std::max(worst, a);
              if ((a >> 16) == p) h[a & 0xffffu] += 1;
            }
          }
          if (check && worst >= kNonFinite) {
            for (int64_t e = j0 + t0; e < j0 + t0 + len; ++e) {
              if (ties_magnitude_bits(delta_at(m, b, e)) >= kNonFinite) {
                bad[part] = std::min(bad[part], tab.starts[s] + e);
                break;
              }
            }
          }
        }
      }
    });
    flush();
  });
  const int64_t f = first_bad(bad);
  return f == kNoBad ? MT_OK : tab.report(f, 0.0f);
}

mt_status ties_tie_cutoffs_f32(int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* wanted, int64_t* tie_counts, int64_t* cutoffs, int32_t flags) {
  const Table tab(n_segments, lengths, base, n_models, models);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const size_t pairs = static_cast<size_t>(n_models) * static_cast<size_t>(n_segments);
  const int32_t max_parts = cpu_threads();
  std::vector<std::vector<int64_t>> counts(static_cast<size_t>(max_parts));
  std::vector<int64_t> part_begin(static_cast<size_t>(max_parts), 0), part_end(static_cast<size_t>(max_parts), 0);
  std::vector<int64_t> bad(static_cast<size_t>(max_parts), kNoBad);
  const int32_t parts = parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    part_begin[part] = begin;
    part_end[part] = end;
    std::vector<int64_t>& c = counts[part];
    c.assign(pairs, 0);
    tab.pieces(begin, end, [&](int64_t s, int64_t j0, int64_t n) {
      const float* b = tab.base_of(s);
      for (int32_t i = 0; i < n_models; ++i) {
        const size_t q = static_cast<size_t>(i) * n_segments + s;
        const float* m = tab.model(i, s);
        const uint32_t t = thresholds[q];
        int64_t equal = 0;
        uint32_t worst = 0;
        for (int64_t e = j0; e < j0 + n; ++e) {
          const uint32_t a = ties_magnitude_bits(delta_at(m, b, e));
          worst = std::max(worst, a);
          equal += a == t ? 1 : 0;
        }
        c[q] += equal;
        if (check && worst >= kNonFinite) {
          for (int64_t e = j0; e < j0 + n; ++e) {
            if (ties_magnitude_bits(delta_at(m, b, e)) >= kNonFinite) {
              bad[part] = std::min(bad[part], tab.starts[s] + e);
              break;
            }
          }
        }
      }
    });
  });
  const int64_t f = first_bad(bad);
  if (f != kNoBad) return tab.report(f, 0.0f);
  for (size_t q = 0; q < pairs; ++q) {
    const int64_t s = static_cast<int64_t>(q % static_cast<size_t>(n_segments));
    const int32_t i = static_cast<int32_t>(q / static_cast<size_t>(n_segments));
    int64_t total = 0;
    for (int32_t p = 0; p < parts; ++p) total += counts[p][q];
    tie_counts[q] = total;
    const int64_t want = wanted[q];
    if (want == 0) {
      cutoffs[q] = 0;
      continue;
    }
    if (want >= total) {
      cutoffs[q] = lengths[s];
      continue;
    }
    // The share holding the want-th equal element, then a scan of its piece of segment s.
    int64_t before = 0;
    int32_t p = 0;
    while (before + counts[p][q] < want) before += counts[p++][q];
    const int64_t lo = std::max(part_begin[p], tab.starts[s]) - tab.starts[s];
    const int64_t hi = std::min(part_end[p], tab.starts[s + 1]) - tab.starts[s];
    const float* m = tab.model(i, s);
    const float* b = tab.base_of(s);
    const uint32_t t = thresholds[q];
    for (int64_t e = lo; e < hi; ++e) {
      if (ties_magnitude_bits(delta_at(m, b, e)) == t && ++before == want) {
        cutoffs[q] = e + 1;
        break;
      }
    }
  }
  return MT_OK;
}

namespace {

// One tile's accumulators, structure of arrays so the per-model loop vectorises.
struct TileAcc {
  std::vector<double> mass;
  std::vector<int32_t> count;
  std::vector<float> pos, neg, wpos, wneg, pmax, nmax;
  TileAcc()
      : mass(kTile), count(kTile), pos(kTile), neg(kTile), wpos(kTile), wneg(kTile), pmax(kTile), nmax(kTile) {}
  TiesAcc at(int64_t e) const {
    return TiesAcc{mass[e], count[e], pos[e], neg[e], wpos[e], wneg[e], pmax[e], nmax[e]};
  }
};

// Model values m (minus bb when not NULL) into the accumulators over [lo, hi), with ties_kept's position test
// fixed by kAt (0: below the cutoff, 1: not). Returns the largest magnitude pattern seen. Not inlined: GCC only
// if-converts and vectorises these loops when they stand alone (with this file's flags, cmake/CMakeLists.txt).
template <int64_t kAt>
__attribute__((noinline)) uint32_t accumulate_run(const float* __restrict__ m, const float* __restrict__ bb,
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
__attribute__((noinline)) void accumulate_max_run(const float* __restrict__ m, const float* __restrict__ bb,
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

// Models in order over elements [j0, j0 + len) of segment s (with the maxima too when `with_max`). Returns whether every δ was finite (only tested when
// `check`).
bool accumulate_tile(const Table& tab, int64_t s, int64_t j0, int64_t len, const uint32_t* thresholds,
                     const int64_t* cutoffs, const float* weights, bool check, TileAcc& acc,
                     bool with_max = false) {
  const float* b = tab.base_of(s);
  std::fill(acc.mass.begin(), acc.mass.begin() + len, 0.0);
  std::fill(acc.count.begin(), acc.count.begin() + len, 0);
  std::fill(acc.pos.begin(), acc.pos.begin() + len, 0.0f);
  std::fill(acc.neg.begin(), acc.neg.begin() + len, 0.0f);
  std::fill(acc.wpos.begin(), acc.wpos.begin() + len, 0.0f);
  std::fill(acc.wneg.begin(), acc.wneg.begin() + len, 0.0f);
  if (with_max) {
    std::fill(acc.pmax.begin(), acc.pmax.begin() + len, 0.0f);
    std::fill(acc.nmax.begin(), acc.nmax.begin() + len, 0.0f);
  }
  double* __restrict__ mass = acc.mass.data();
  int32_t* __restrict__ count = acc.count.data();
  float* __restrict__ pos = acc.pos.data();
  float* __restrict__ neg = acc.neg.data();
  float* __restrict__ wpos = acc.wpos.data();
  float* __restrict__ wneg = acc.wneg.data();
  bool ok = true;
  for (int32_t i = 0; i < tab.n_models; ++i) {
    const size_t q = static_cast<size_t>(i) * tab.n_segments + s;
    const float* __restrict__ m = tab.model(i, s) + j0;
    const float* __restrict__ bb = b != nullptr ? b + j0 : nullptr;
    const uint32_t t = thresholds[q];
    // Element e is below the cutoff when e < c: the tile splits into [0, c) and [c, len), where ties_kept's
    // position test is a constant (so the loops are branch-free, like the base / no-base choice).
    const int64_t c = std::min(std::max(cutoffs[q] - j0, int64_t{0}), len);
    const float w = weights[i];
    uint32_t worst = 0;
    worst = std::max(worst, accumulate_run<0>(m, bb, 0, c, t, w, mass, count, pos, neg, wpos, wneg));
    worst = std::max(worst, accumulate_run<1>(m, bb, c, len, t, w, mass, count, pos, neg, wpos, wneg));
    if (with_max) {
      accumulate_max_run<0>(m, bb, 0, c, t, w, acc.pmax.data(), acc.nmax.data());
      accumulate_max_run<1>(m, bb, c, len, t, w, acc.pmax.data(), acc.nmax.data());
    }
    ok = ok && !(check && worst >= kNonFinite);
  }
  return ok;
}

// The first element of a tile with a non-finite δ of any model.
int64_t first_bad_delta(const Table& tab, int64_t s, int64_t j0, int64_t len) {
  const float* b = tab.base_of(s);
  for (int64_t e = 0; e < len; ++e) {
    for (int32_t i = 0; i < tab.n_models; ++i) {
      if (ties_magnitude_bits(delta_at(tab.model(i, s), b, j0 + e)) >= kNonFinite) return e;
    }
  }
  return len;
}

// A tile's results: ties_result per element, specialised on the election and the aggregate (compile-time
// constants, so the loop is branch-free and vectorises; the float operations are ties_result's, in its order).
// Returns whether every result is finite.
template <int32_t kElection, int32_t kAggregate, bool kHasBase>
bool tile_results_for(const TileAcc& acc, int64_t len, const float* __restrict__ base, float z, float lambda,
                      float* __restrict__ result) {
  uint32_t finite = 1;
  for (int64_t e = 0; e < len; ++e) {
    const TiesAcc a{acc.mass[e], acc.count[e], acc.pos[e],  acc.neg[e],
                    acc.wpos[e], acc.wneg[e],  acc.pmax[e], acc.nmax[e]};
    const float r = ties_result(a, kElection, z, kAggregate, lambda, kHasBase, kHasBase ? base[e] : 0.0f);
    result[e] = r;
    finite &= ties_magnitude_bits(r) < kNonFinite ? 1u : 0u;
  }
  return finite != 0;
}

// One specialised tile_results_for, chosen once per call; `base` is NULL when the models are deltas.
using TileResults = bool (*)(const TileAcc&, int64_t, const float*, float, float, float*);

template <int32_t kElection, int32_t kAggregate>
bool tile_results_any_base(const TileAcc& acc, int64_t len, const float* base, float z, float lambda, float* result) {
  return base != nullptr ? tile_results_for<kElection, kAggregate, true>(acc, len, base, z, lambda, result)
                         : tile_results_for<kElection, kAggregate, false>(acc, len, base, z, lambda, result);
}

TileResults tile_results(int32_t election, int32_t aggregate) {
  const bool count = election == MT_TIES_ELECT_COUNT, mean = aggregate == MT_TIES_DISJOINT_MEAN;
  if (aggregate == MT_TIES_DISJOINT_MAX) {
    return count ? tile_results_any_base<MT_TIES_ELECT_COUNT, MT_TIES_DISJOINT_MAX>
                 : tile_results_any_base<MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_MAX>;
  }
  if (count) {
    return mean ? tile_results_any_base<MT_TIES_ELECT_COUNT, MT_TIES_DISJOINT_MEAN>
                : tile_results_any_base<MT_TIES_ELECT_COUNT, MT_TIES_DISJOINT_SUM>;
  }
  return mean ? tile_results_any_base<MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_MEAN>
              : tile_results_any_base<MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_SUM>;
}

}  // namespace

mt_status ties_sign_census_f32(int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* cutoffs, const float* weights, int32_t election, int64_t* sign_sums,
                               int32_t flags) {
  const Table tab(n_segments, lengths, base, n_models, models);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const int32_t max_parts = cpu_threads();
  std::vector<std::vector<int64_t>> sums(static_cast<size_t>(max_parts));
  std::vector<int64_t> bad(static_cast<size_t>(max_parts), kNoBad);
  const int32_t parts = parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    TileAcc acc;
    std::vector<int64_t>& sum = sums[part];
    sum.assign(static_cast<size_t>(n_segments), 0);
    tab.pieces(begin, end, [&](int64_t s, int64_t j0, int64_t n) {
      for (int64_t t0 = 0; t0 < n && bad[part] == kNoBad; t0 += kTile) {
        const int64_t len = std::min(kTile, n - t0);
        if (!accumulate_tile(tab, s, j0 + t0, len, thresholds, cutoffs, weights, check, acc)) {
          bad[part] = tab.starts[s] + j0 + t0 + first_bad_delta(tab, s, j0 + t0, len);
          return;
        }
        int64_t local = 0;
        for (int64_t e = 0; e < len; ++e) local += static_cast<int64_t>(ties_elect(acc.at(e), election, 0.0f));
        sum[s] += local;
      }
    });
  });
  const int64_t f = first_bad(bad);
  if (f != kNoBad) return tab.report(f, 0.0f);
  for (int64_t s = 0; s < n_segments; ++s) {
    int64_t v = 0;
    for (int32_t p = 0; p < parts; ++p) v += sums[p][s];
    sign_sums[s] = v;
  }
  return MT_OK;
}

mt_status ties_merge_f32(int64_t n_segments, const int64_t* lengths, float* const* out, const float* const* base,
                         int32_t n_models, const float* const* models, const uint32_t* thresholds,
                         const int64_t* cutoffs, const float* weights, int32_t election, const float* zero_signs,
                         int32_t aggregate, float lambda, int32_t flags) {
  const Table tab(n_segments, lengths, base, n_models, models);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const int32_t max_parts = cpu_threads();
  std::vector<int64_t> bad(static_cast<size_t>(max_parts), kNoBad);
  std::vector<float> bad_result(static_cast<size_t>(max_parts), 0.0f);
  const TileResults finish = tile_results(election, aggregate);
  const bool with_max = aggregate == MT_TIES_DISJOINT_MAX;
  parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    TileAcc acc;
    std::vector<float> result(kTile);
    tab.pieces(begin, end, [&](int64_t s, int64_t j0, int64_t n) {
      const float* b = tab.base_of(s);
      float* o = out[s];
      const float z = zero_signs[s];
      for (int64_t t0 = 0; t0 < n; t0 += kTile) {
        const int64_t j = j0 + t0, len = std::min(kTile, n - t0);
        const bool finite = accumulate_tile(tab, s, j, len, thresholds, cutoffs, weights, check, acc, with_max);
        const bool all = finish(acc, len, b != nullptr ? b + j : nullptr, z, lambda, result.data()) || !check;
        if (finite && all) {
          std::memcpy(o + j, result.data(), sizeof(float) * static_cast<size_t>(len));
          continue;
        }
        // Store the good elements; remember the first bad one (its inputs stay as they were).
        const int64_t bad_delta = finite ? len : first_bad_delta(tab, s, j, len);
        for (int64_t e = 0; e < len; ++e) {
          if (e == bad_delta || !std::isfinite(result[e])) {
            if (tab.starts[s] + j + e < bad[part]) {
              bad[part] = tab.starts[s] + j + e;
              bad_result[part] = result[e];
            }
            continue;
          }
          if (e > bad_delta && first_bad_delta(tab, s, j + e, 1) == 0) continue;
          o[j + e] = result[e];
        }
      }
    });
  });
  int64_t f = kNoBad;
  float r = 0.0f;
  for (int32_t p = 0; p < max_parts; ++p) {
    if (bad[p] < f) {
      f = bad[p];
      r = bad_result[p];
    }
  }
  return f == kNoBad ? MT_OK : tab.report(f, r);
}

}  // namespace mt::cpu
