// K4c on the CPU: the per-(model, segment) exact trim (mt_ties_trim_per_segment_f32) in one or two reads of the
// inputs.
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
// Both paths are radix selections on the patterns, from the top digit down, each digit's bin picked by the rank
// left (pick_from_top), the rank inside the last bin being r:
//   - segments below kLargeSegment, pair by pair: one read of the inputs writes a_j into a per-thread copy (which
//     stays in cache); digits bits 30..20, 19..10, 9..0 on the copy and the shrinking candidates; the EXACT cutoff
//     rescans the copy. The threads take pairs from a shared counter, largest first.
//   - larger segments, every model together: the level-0 histogram pass (bits 30..16), then one scan collecting
//     each model's boundary-bin elements (index, bits 15..0) in index order; the low digit, r and the EXACT
//     cutoff come from those candidates alone (select_large). Two reads, where the histogram route (the CUDA
//     path, ties.cpp) reads three times: two histogram levels and the tie cutoffs.
// t, r and the cutoff are the same integers by definition on every path, so plans (and merges) are bit-identical
// to the histogram route's and the CUDA path's.
//
// MT_CHECK_FINITE reports the first non-finite δ by (segment, element) among what is read: a small pair with
// k = 0 or k >= n reads nothing; a large segment is read for every model when any of its models selects.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "cpu_isa.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "error.h"
#include "parallel.h"
#include "ties_cpu_isa.h"
#include "ties_internal.h"

namespace mt::cpu {

namespace {

constexpr uint32_t kNonFinite = 0x7f800000u;
constexpr int kTopShift = 20, kMidShift = 10;
constexpr uint32_t kTopBins = 1u << 11, kMidBins = 1u << 10, kLowBins = 1u << 10;
constexpr int64_t kMinParallel = int64_t{1} << 16;  // below this many selected elements in all, one thread
// Segments at or above this length are selected by select_large (no copy: two reads of all models together);
// below it a pair's copy stays in cache, so one read per pair is cheapest.
constexpr int64_t kLargeSegment = int64_t{1} << 18;

// The bin of a histogram holding the rank-th largest element (rank >= 1), and rank becomes its rank inside it.
template <typename Count>
uint32_t pick_from_top(const Count* hist, uint32_t bins, int64_t& rank) {
  for (uint32_t b = bins; b-- > 0;) {
    if (rank <= static_cast<int64_t>(hist[b])) return b;
    rank -= static_cast<int64_t>(hist[b]);
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

// A large segment, every model together (see the top of the file).
mt_status select_large(int64_t s, int64_t n_segments, const int64_t* lengths, const float* const* base,
                       int32_t n_models, const float* const* models, const int64_t* keep_counts, int32_t ties,
                       uint32_t* thresholds, int64_t* cutoffs, int32_t flags) {
  const int64_t n = lengths[s];
  const size_t T = static_cast<size_t>(n_models);
  std::vector<const float*> m(T);
  std::vector<uint32_t> prefix(T, MT_TIES_KEEP_NONE);
  std::vector<int64_t> rank(T);
  bool any = false;
  for (size_t i = 0; i < T; ++i) {
    m[i] = models[i * n_segments + s];
    const int64_t k = keep_counts[i * n_segments + s];
    any = any || (k > 0 && k < n);
  }
  if (!any) return MT_OK;
  const float* b = base != nullptr ? base[s] : nullptr;
  std::vector<int64_t> h0(T * MT_TIES_LEVEL0_BINS, 0);
  mt_status st = ties_histogram_f32(1, &n, b != nullptr ? &b : nullptr, n_models, m.data(), 0, nullptr, h0.data(), flags);
  if (st != MT_OK) return relocate_segment(st, s);
  for (size_t i = 0; i < T; ++i) {
    const int64_t k = keep_counts[i * n_segments + s];
    if (k == 0 || k >= n) continue;
    rank[i] = k;
    prefix[i] = pick_from_top(h0.data() + i * MT_TIES_LEVEL0_BINS, MT_TIES_LEVEL0_BINS, rank[i]);
  }
  const int32_t max_parts = cpu_threads();
  struct Found {
    std::vector<std::vector<int64_t>> at;
    std::vector<std::vector<uint16_t>> low;
  };
  std::vector<Found> found(static_cast<size_t>(max_parts));
  const int32_t parts = parallel_ranges(n, kMinParallel, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    Found& f = found[part];
    f.at.assign(T, {});
    f.low.assign(T, {});
    for (size_t i = 0; i < T; ++i) {
      if (prefix[i] == MT_TIES_KEEP_NONE) continue;
      const float* __restrict__ mi = m[i];
      const uint32_t p = prefix[i];
      for (int64_t j = begin; j < end; ++j) {
        const uint32_t a = ties_magnitude_bits(b != nullptr ? mi[j] - b[j] : mi[j]);
        if ((a >> 16) != p) continue;
        f.at[i].push_back(j);
        f.low[i].push_back(static_cast<uint16_t>(a & 0xffffu));
      }
    }
  });
  std::vector<uint32_t> h1(MT_TIES_LEVEL1_BINS);
  for (size_t i = 0; i < T; ++i) {
    if (prefix[i] == MT_TIES_KEEP_NONE) continue;
    std::fill(h1.begin(), h1.end(), 0u);
    for (int32_t part = 0; part < parts; ++part) {
      for (uint16_t l : found[part].low[i]) h1[l] += 1;
    }
    int64_t r = rank[i];
    const uint32_t bin = pick_from_top(h1.data(), MT_TIES_LEVEL1_BINS, r);
    const size_t q = i * n_segments + s;
    thresholds[q] = (prefix[i] << 16) | bin;
    cutoffs[q] = n;
    if (ties != MT_TIES_TIES_EXACT || r >= static_cast<int64_t>(h1[bin])) continue;
    int64_t seen = 0;
    for (int32_t part = 0; part < parts && cutoffs[q] == n; ++part) {
      const Found& f = found[part];
      for (size_t c = 0; c < f.low[i].size(); ++c) {
        if (f.low[i][c] == bin && ++seen == r) {
          cutoffs[q] = f.at[i][c] + 1;
          break;
        }
      }
    }
  }
  return MT_OK;
}

// ---- the window route for large segments (select_window): one read instead of select_large's two.
//
// A sample of the segment (kSampleBlock-element blocks spread evenly over it, about n / kSampleEvery elements per
// model) gives each model a window [lo, hi] of patterns that holds its threshold t with high probability: the
// sample's order statistics kSampleZ standard deviations (binomial) either side of the expected rank of t. One
// scan then counts the elements above hi and collects the in-window elements (index, pattern) in index order, and
// t, r and the EXACT cutoff come from those candidates: t is the (k − above)-th largest candidate, every element
// equal to t is a candidate. Exact, not a guess: the window holds t exactly when above < k <= above + candidates
// (t <= hi and t >= lo), which is checked; where it fails for any model (or some δ is not finite), the segment
// goes to select_large instead, so thresholds, cutoffs and error reports are those of the other routes.

constexpr int64_t kSampleBlock = 64, kSampleEvery = 128, kScanChunk = int64_t{1} << 16;
constexpr double kSampleZ = 5.0;

}  // namespace

namespace generic {
int64_t ties_window_scan(const float* m, const float* b, int64_t n, uint32_t lo, uint32_t hi, uint32_t* idx,
                         uint32_t* pat, int64_t* above, uint32_t* worst) {
  int64_t up = 0, c = 0;
  uint32_t big = 0;
  const uint32_t span = hi - lo;
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t a = ties_magnitude_bits(b != nullptr ? m[j] - b[j] : m[j]);
    big = std::max(big, a);
    up += a > hi ? 1 : 0;
    idx[c] = static_cast<uint32_t>(j);  // written always, kept when in the window
    pat[c] = a;
    c += a - lo <= span ? 1 : 0;
  }
  *worst = std::max(*worst, big);
  *above += up;
  return c;
}
}  // namespace generic

namespace {

// The window of one model from its sample: [lo, hi] around the expected rank of the k-th largest of n (the
// sample is reordered).
void sample_window(std::vector<uint32_t>& sample, int64_t k, int64_t n, uint32_t* lo, uint32_t* hi) {
  const int64_t size = static_cast<int64_t>(sample.size());
  const double m = static_cast<double>(size), p = static_cast<double>(k) / static_cast<double>(n);
  const double centre = p * m, spread = kSampleZ * std::sqrt(m * p * (1.0 - p)) + 2.0;
  const int64_t r_hi = static_cast<int64_t>(std::floor(centre - spread));  // 1-based ranks from the top
  const int64_t r_lo = static_cast<int64_t>(std::ceil(centre + spread));
  auto first = sample.begin();
  *hi = 0xffffffffu;
  if (r_hi >= 1) {
    std::nth_element(sample.begin(), sample.begin() + (r_hi - 1), sample.end(), std::greater<uint32_t>());
    *hi = sample[static_cast<size_t>(r_hi - 1)];
    first = sample.begin() + r_hi;
  }
  *lo = 0u;
  if (r_lo <= size) {
    std::nth_element(first, sample.begin() + (r_lo - 1), sample.end(), std::greater<uint32_t>());
    *lo = sample[static_cast<size_t>(r_lo - 1)];
  }
}

// A large segment by the window route; false (nothing written) where select_large must decide it.
bool select_window(int64_t s, int64_t n_segments, const int64_t* lengths, const float* const* base,
                   int32_t n_models, const float* const* models, const int64_t* keep_counts, int32_t ties,
                   uint32_t* thresholds, int64_t* cutoffs, TiesWindowScan scan) {
  const int64_t n = lengths[s];
  if (n >= (int64_t{1} << 31)) return false;
  const size_t T = static_cast<size_t>(n_models);
  const float* b = base != nullptr ? base[s] : nullptr;
  std::vector<uint32_t> lo(T, 0), hi(T, 0);
  int32_t selecting = 0;
  for (size_t i = 0; i < T; ++i) {
    const int64_t k = keep_counts[i * n_segments + s];
    selecting += k > 0 && k < n ? 1 : 0;
  }
  if (selecting == 0) return true;
  // select_large reads (and checks) every model of a segment where any selects; so would this, for nothing.
  if (selecting < n_models) return false;
  const int64_t blocks = std::max<int64_t>(1, n / (kSampleBlock * kSampleEvery));
  const int64_t stride = n / blocks;
  std::vector<uint32_t> sample;
  for (size_t i = 0; i < T; ++i) {
    const int64_t k = keep_counts[i * n_segments + s];
    const float* m = models[i * n_segments + s];
    sample.clear();
    for (int64_t q = 0; q < blocks; ++q) {
      const int64_t j0 = q * stride, j1 = std::min(n, j0 + kSampleBlock);
      for (int64_t j = j0; j < j1; ++j) sample.push_back(ties_magnitude_bits(b != nullptr ? m[j] - b[j] : m[j]));
    }
    sample_window(sample, k, n, &lo[i], &hi[i]);
  }
  // The scan: per thread share, chunk by chunk (the base chunk stays in cache across the models).
  const int32_t max_parts = cpu_threads();
  struct Part {
    std::vector<std::vector<uint32_t>> idx, pat;
    std::vector<int64_t> above;
    uint32_t worst = 0;
    int64_t begin = 0;
  };
  std::vector<Part> parts(static_cast<size_t>(max_parts));
  const int32_t used = parallel_ranges(n, kMinParallel, max_parts, [&](int32_t part, int64_t begin, int64_t end) {
    Part& p = parts[part];
    p.idx.assign(T, {});
    p.pat.assign(T, {});
    p.above.assign(T, 0);
    p.begin = begin;
    std::vector<uint32_t> ci(static_cast<size_t>(kScanChunk + 16)), cp(static_cast<size_t>(kScanChunk + 16));
    for (int64_t j0 = begin; j0 < end; j0 += kScanChunk) {
      const int64_t len = std::min(kScanChunk, end - j0);
      for (size_t i = 0; i < T; ++i) {
        const float* m = models[i * n_segments + s];
        const int64_t got = scan(m + j0, b != nullptr ? b + j0 : nullptr, len, lo[i], hi[i], ci.data(), cp.data(),
                                 &p.above[i], &p.worst);
        const uint32_t off = static_cast<uint32_t>(j0 - begin);
        for (int64_t c = 0; c < got; ++c) p.idx[i].push_back(ci[c] + off);
        p.pat[i].insert(p.pat[i].end(), cp.begin(), cp.begin() + got);
      }
    }
  });
  for (int32_t p = 0; p < used; ++p) {
    if (parts[p].worst >= kNonFinite) return false;  // select_large reports it
  }
  // Every model's window must hold its threshold before anything is written.
  std::vector<int64_t> above(T, 0), found(T, 0);
  for (size_t i = 0; i < T; ++i) {
    for (int32_t p = 0; p < used; ++p) {
      above[i] += parts[p].above[i];
      found[i] += static_cast<int64_t>(parts[p].pat[i].size());
    }
    const int64_t k = keep_counts[i * n_segments + s];
    if (!(above[i] < k && k <= above[i] + found[i])) return false;
  }
  // t, r and the cutoff per model from its candidates, the threads taking models.
  parallel_ranges(n_models, 1, std::min<int32_t>(max_parts, n_models), [&](int32_t, int64_t i0, int64_t i1) {
    Scratch sc;
    for (size_t i = static_cast<size_t>(i0); i < static_cast<size_t>(i1); ++i) {
      const int64_t k = keep_counts[i * n_segments + s];
      sc.mags.clear();
      for (int32_t p = 0; p < used; ++p) sc.mags.insert(sc.mags.end(), parts[p].pat[i].begin(), parts[p].pat[i].end());
      std::fill(sc.top, sc.top + kTopBins, 0u);
      for (uint32_t a : sc.mags) sc.top[a >> kTopShift] += 1;
      const size_t q = i * n_segments + s;
      int64_t r;
      select(k - above[i], sc, &thresholds[q], &r);
      cutoffs[q] = n;
      if (ties != MT_TIES_TIES_EXACT || r >= static_cast<int64_t>(sc.low[thresholds[q] & (kLowBins - 1)])) continue;
      int64_t seen = 0;
      for (int32_t p = 0; p < used && cutoffs[q] == n; ++p) {
        const std::vector<uint32_t>& pat = parts[p].pat[i];
        for (size_t c = 0; c < pat.size(); ++c) {
          if (pat[c] == thresholds[q] && ++seen == r) {
            cutoffs[q] = parts[p].begin + parts[p].idx[i][c] + 1;
            break;
          }
        }
      }
    }
  });
  return true;
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
    if (k > 0 && k < n && n < kLargeSegment) {
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
  const TiesWindowScan scan = std::strcmp(isa(), "avx2") == 0 && use_avx512() ? avx512::ties_window_scan
                                                                               : generic::ties_window_scan;
  // The large segments in order; a bad element there is reported only if no small segment before it has one.
  for (int64_t seg = 0; seg < n_segments && seg < f.first; ++seg) {
    if (lengths[seg] < kLargeSegment) continue;
    if (select_window(seg, n_segments, lengths, base, n_models, models, keep_counts, ties, thresholds, cutoffs,
                      scan)) {
      continue;
    }
    const mt_status st = select_large(seg, n_segments, lengths, base, n_models, models, keep_counts, ties,
                                      thresholds, cutoffs, flags);
    if (st != MT_OK) return st;
  }
  if (f.first == INT64_MAX) return MT_OK;
  const int64_t seg = f.first, j = f.second;
  std::vector<float> v(static_cast<size_t>(n_models));
  for (int32_t i = 0; i < n_models; ++i) v[i] = models[static_cast<size_t>(i) * n_segments + seg][j];
  const float* b = base != nullptr ? base[seg] : nullptr;
  return report_ties(seg, j, b != nullptr, b != nullptr ? b[j] : 0.0f, v.data(), n_models, 0.0f);
}

}  // namespace mt::cpu
