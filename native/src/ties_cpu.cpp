// K4c on the CPU: TIES selection passes (magnitude histograms, tie cutoffs), the sign census and the merge.
//
// Every pass is a fork-join over the flat range of all segments (parallel_ranges), each thread walking its share
// as pieces of segments, tile by tile (kTile elements): for a tile, the models are visited in order and each
// element's accumulator (ties_internal.h: the one float expression both devices compute) is updated, so a tile
// reads each model's values once and contiguously. The census, merge and level-0 histogram tile loops are
// ties_cpu_loops.h, compiled three times (portable here, ties_cpu_avx2.cpp, ties_cpu_avx512.cpp) and chosen per
// call by ties_loops(): the same source and the same bits on every twin.
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

#include "cpu_isa.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"
#include "ties_cpu_isa.h"
#include "ties_internal.h"

#define MT_TIES_LOOPS_NS ties_generic_loops
#include "ties_cpu_loops.h"

namespace mt::cpu {

namespace generic {
const TiesLoops ties_loops{ties_generic_loops::accumulate, ties_generic_loops::results, ties_generic_loops::sign_sum,
                           ties_generic_loops::level0_keys};
}  // namespace generic

const TiesLoops& ties_loops() {
  if (std::strcmp(isa(), "avx2") != 0) return generic::ties_loops;
  return use_avx512() ? avx512::ties_loops : avx2::ties_loops;
}

namespace {

constexpr int64_t kTile = kTiesTile;
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
  const TiesLoops& loops = ties_loops();
  parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    std::vector<uint32_t> local(T * bins, 0);
    std::vector<uint16_t> keys(static_cast<size_t>(kTile));
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
            // The keys in a vector loop (ties_cpu_loops.h), then the counts.
            worst = loops.level0_keys(m + j0 + t0, b != nullptr ? b + j0 + t0 : nullptr, len, keys.data());
            for (int64_t e = 0; e < len; ++e) h[keys[e]] += 1;
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

// One tile's accumulators, structure of arrays (ties_cpu_isa.h), owned by one thread.
struct TileAcc {
  std::vector<double> mass;
  std::vector<int32_t> count;
  std::vector<float> pos, neg, wpos, wneg, pmax, nmax;
  TileAcc()
      : mass(kTile), count(kTile), pos(kTile), neg(kTile), wpos(kTile), wneg(kTile), pmax(kTile), nmax(kTile) {}
  TiesTileAcc view() {
    return TiesTileAcc{mass.data(), count.data(), pos.data(), neg.data(), wpos.data(), wneg.data(), pmax.data(),
                       nmax.data()};
  }
};

// One tile's inputs (ties_cpu_isa.h) for elements [j0, j0 + len) of segment s, in caller-owned arrays of
// n_models entries.
struct TileInputs {
  std::vector<const float*> models;
  std::vector<uint32_t> thresholds;
  std::vector<int64_t> cuts;
  explicit TileInputs(int32_t n_models)
      : models(static_cast<size_t>(n_models)), thresholds(static_cast<size_t>(n_models)),
        cuts(static_cast<size_t>(n_models)) {}
  TiesTileIn at(const Table& tab, int64_t s, int64_t j0, int64_t len, const uint32_t* thresh, const int64_t* cutoffs,
                const float* weights) {
    for (int32_t i = 0; i < tab.n_models; ++i) {
      const size_t q = static_cast<size_t>(i) * tab.n_segments + s;
      models[i] = tab.model(i, s) + j0;
      thresholds[i] = thresh[q];
      // Element e is below the cutoff when e < c: the tile splits into [0, c) and [c, len).
      cuts[i] = std::min(std::max(cutoffs[q] - j0, int64_t{0}), len);
    }
    const float* b = tab.base_of(s);
    return TiesTileIn{tab.n_models, models.data(), b != nullptr ? b + j0 : nullptr, thresholds.data(), cuts.data(),
                      weights};
  }
};

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
  const TiesLoops& loops = ties_loops();
  const int32_t parts = parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    TileAcc store;
    const TiesTileAcc acc = store.view();
    TileInputs inputs(n_models);
    std::vector<int64_t>& sum = sums[part];
    sum.assign(static_cast<size_t>(n_segments), 0);
    tab.pieces(begin, end, [&](int64_t s, int64_t j0, int64_t n) {
      for (int64_t t0 = 0; t0 < n && bad[part] == kNoBad; t0 += kTile) {
        const int64_t len = std::min(kTile, n - t0);
        const TiesTileIn in = inputs.at(tab, s, j0 + t0, len, thresholds, cutoffs, weights);
        if (loops.accumulate(in, acc, len, false) >= kNonFinite && check) {
          bad[part] = tab.starts[s] + j0 + t0 + first_bad_delta(tab, s, j0 + t0, len);
          return;
        }
        sum[s] += loops.sign_sum(acc, len, election);
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
  const TiesLoops& loops = ties_loops();
  const bool with_max = aggregate == MT_TIES_DISJOINT_MAX;
  parallel_ranges(tab.total(), kMinPerThread, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    TileAcc store;
    const TiesTileAcc acc = store.view();
    TileInputs inputs(n_models);
    std::vector<float> result(kTile);
    tab.pieces(begin, end, [&](int64_t s, int64_t j0, int64_t n) {
      const float* b = tab.base_of(s);
      float* o = out[s];
      const float z = zero_signs[s];
      for (int64_t t0 = 0; t0 < n; t0 += kTile) {
        const int64_t j = j0 + t0, len = std::min(kTile, n - t0);
        const TiesTileIn in = inputs.at(tab, s, j, len, thresholds, cutoffs, weights);
        const bool finite = loops.accumulate(in, acc, len, with_max) < kNonFinite || !check;
        const bool all = loops.results(acc, len, b != nullptr ? b + j : nullptr, z, lambda, election, aggregate,
                                       result.data()) || !check;
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
