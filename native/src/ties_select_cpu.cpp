// K4c on the CPU: the per-(model, segment) exact trim (mt_ties_trim_per_segment_f32) in one read of the inputs.
//
// For a pair (model i, segment s) of n elements and keep count k (0 < k < n), with a_j the 31-bit pattern of
// |δ_j| (δ_j = m_j − b_j in fp32; unsigned order of the patterns is the order of |δ|):
//
//   t      = the k-th largest a_j                          (threshold: torch.kthvalue(n − k + 1) of |δ|)
//   r      = k − #{j : a_j > t}                            (how many elements equal to t the top k holds, 1 ≤ r)
//   KEEP_ALL  cutoff = n                                   (every a_j == t kept: the TIES reference's >=)
//   EXACT     cutoff = 1 + the index of the r-th j with a_j == t, or n when r equals their number
//                                                          (exactly k kept, lower indices first among equals)
//   k = 0: t = MT_TIES_KEEP_NONE, cutoff 0;  k >= n: t = 0, cutoff n (everything kept)
//
// Radix selection on the patterns: the first read of the inputs writes a_j into a per-thread buffer and counts
// the top digit (bits 30..20, 2048 bins); the bin holding the rank-k element is picked from the top, its elements
// are copied out of the buffer while the next digit (bits 19..10) is counted, and likewise for the last digit
// (bits 9..0), whose bin is t itself and whose rank inside it is r. The EXACT cutoff rescans the buffer (not the
// inputs) for the r-th a_j == t. So the inputs are read once per pair, where the histogram path reads them three
// times (two histogram levels, the tie cutoffs) and nth_element needs the copy plus a partition; t, r and the
// cutoff are the same integers by definition, so the result equals those paths' (and the CUDA path's, which still
// selects by histograms) bit for bit.
//
// Pairs are independent: the threads take them from a shared counter, largest first. MT_CHECK_FINITE reports the
// first non-finite δ by (segment, element) among the pairs that select (k = 0 and k >= n read nothing).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>
#include <vector>

#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"
#include "ties_internal.h"

namespace mt::cpu {

namespace {

constexpr uint32_t kNonFinite = 0x7f800000u;
constexpr int kTopShift = 20, kMidShift = 10;
constexpr uint32_t kTopBins = 1u << 11, kMidBins = 1u << 10, kLowBins = 1u << 10;
constexpr int64_t kMinParallel = int64_t{1} << 16;  // below this many selected elements in all, one thread

// The bin of a histogram holding the rank-th largest element (rank >= 1), and rank becomes its rank inside it.
uint32_t pick_from_top(const uint32_t* hist, uint32_t bins, int64_t& rank) {
  for (uint32_t b = bins; b-- > 0;) {
    if (rank <= hist[b]) return b;
    rank -= hist[b];
  }
  return 0;  // unreachable: the histogram holds every element and rank <= their number
}

struct Scratch {
  std::vector<uint32_t> mags, top_bin, mid_bin;
  uint32_t top[kTopBins], mid[kMidBins], low[kLowBins];
};

// Fills s.mags with the patterns of pair (m, b) over n elements and counts their top digit. Returns the largest
// pattern (>= kNonFinite: some δ is Inf or NaN).
uint32_t fill(const float* __restrict__ m, const float* __restrict__ b, int64_t n, Scratch& s) {
  s.mags.resize(static_cast<size_t>(n));
  uint32_t* __restrict__ a = s.mags.data();
  std::fill(s.top, s.top + kTopBins, 0u);
  uint32_t worst = 0;
  if (b != nullptr) {
    for (int64_t j = 0; j < n; ++j) a[j] = ties_magnitude_bits(m[j] - b[j]);
  } else {
    for (int64_t j = 0; j < n; ++j) a[j] = ties_magnitude_bits(m[j]);
  }
  for (int64_t j = 0; j < n; ++j) {
    worst = std::max(worst, a[j]);
    s.top[a[j] >> kTopShift] += 1;
  }
  return worst;
}

// t and r of the rank-k element (0 < k < n) from the filled buffer.
void select(int64_t k, Scratch& s, uint32_t* threshold, int64_t* ties) {
  int64_t rank = k;
  const uint32_t hi = pick_from_top(s.top, kTopBins, rank);
  s.top_bin.clear();
  std::fill(s.mid, s.mid + kMidBins, 0u);
  for (uint32_t a : s.mags) {
    if ((a >> kTopShift) != hi) continue;
    s.top_bin.push_back(a);
    s.mid[(a >> kMidShift) & (kMidBins - 1)] += 1;
  }
  const uint32_t mi = pick_from_top(s.mid, kMidBins, rank);
  std::fill(s.low, s.low + kLowBins, 0u);
  for (uint32_t a : s.top_bin) {
    if (((a >> kMidShift) & (kMidBins - 1)) == mi) s.low[a & (kLowBins - 1)] += 1;
  }
  const uint32_t lo = pick_from_top(s.low, kLowBins, rank);
  *threshold = (hi << kTopShift) | (mi << kMidShift) | lo;
  *ties = rank;
}

// EXACT: one past the index of the r-th element equal to t (n when r is all of them).
int64_t exact_cutoff(const Scratch& s, uint32_t t, int64_t r) {
  const uint32_t equal = s.low[t & (kLowBins - 1)];
  if (r >= static_cast<int64_t>(equal)) return static_cast<int64_t>(s.mags.size());
  int64_t seen = 0;
  for (size_t j = 0; j < s.mags.size(); ++j) {
    if (s.mags[j] == t && ++seen == r) return static_cast<int64_t>(j) + 1;
  }
  return static_cast<int64_t>(s.mags.size());  // unreachable
}

}  // namespace

mt_status ties_select_per_segment_f32(int64_t n_segments, const int64_t* lengths, const float* const* base,
                                      int32_t n_models, const float* const* models, const int64_t* keep_counts,
                                      int32_t ties, uint32_t* thresholds, int64_t* cutoffs, int32_t flags) {
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const size_t pairs = static_cast<size_t>(n_models) * static_cast<size_t>(n_segments);
  std::vector<size_t> work;
  int64_t selected = 0;
  for (size_t q = 0; q < pairs; ++q) {
    const int64_t n = lengths[q % static_cast<size_t>(n_segments)], k = keep_counts[q];
    thresholds[q] = k == 0 ? MT_TIES_KEEP_NONE : 0;
    cutoffs[q] = k == 0 ? 0 : n;
    if (k > 0 && k < n) {
      work.push_back(q);
      selected += n;
    }
  }
  std::stable_sort(work.begin(), work.end(), [&](size_t x, size_t y) {
    return lengths[x % static_cast<size_t>(n_segments)] > lengths[y % static_cast<size_t>(n_segments)];
  });
  // Per thread, the first bad element by (segment, element).
  const int32_t threads = std::max<int32_t>(1, std::min<int32_t>(cpu_threads(), static_cast<int32_t>(work.size())));
  const int32_t parts = selected >= kMinParallel ? threads : 1;
  using Where = std::pair<int64_t, int64_t>;
  std::vector<Where> bad(static_cast<size_t>(parts), Where{INT64_MAX, INT64_MAX});
  std::atomic<size_t> next{0};
  parallel_ranges(parts, 1, parts, [&](int32_t part, int64_t, int64_t) {
    Scratch s;
    for (size_t w = next.fetch_add(1); w < work.size(); w = next.fetch_add(1)) {
      const size_t q = work[w];
      const int64_t seg = static_cast<int64_t>(q % static_cast<size_t>(n_segments)), n = lengths[seg];
      const float* b = base != nullptr ? base[seg] : nullptr;
      const uint32_t worst = fill(models[q], b, n, s);
      if (check && worst >= kNonFinite) {
        for (int64_t j = 0; j < n; ++j) {
          if (s.mags[static_cast<size_t>(j)] >= kNonFinite) {
            bad[part] = std::min(bad[part], Where{seg, j});
            break;
          }
        }
        continue;
      }
      int64_t r;
      select(keep_counts[q], s, &thresholds[q], &r);
      if (ties == MT_TIES_TIES_EXACT) cutoffs[q] = exact_cutoff(s, thresholds[q], r);
    }
  });
  const Where f = *std::min_element(bad.begin(), bad.end());
  if (f.first == INT64_MAX) return MT_OK;
  const int64_t seg = f.first, j = f.second;
  std::vector<float> v(static_cast<size_t>(n_models));
  for (int32_t i = 0; i < n_models; ++i) v[i] = models[static_cast<size_t>(i) * n_segments + seg][j];
  const float* b = base != nullptr ? base[seg] : nullptr;
  return report_ties(seg, j, b != nullptr, b != nullptr ? b[j] : 0.0f, v.data(), n_models, 0.0f);
}

}  // namespace mt::cpu
