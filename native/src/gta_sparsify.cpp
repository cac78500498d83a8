// mt_gta_sparsify_f32 (gta.h): the keep bits of one model's delta for mergekit's sparsification methods, and the
// L1 sums of its rescale. Selection by magnitude is exact and deterministic: elements are ordered by (|δ|, index),
// so ties go to the lower index, where torch.argsort leaves them to the implementation (radix selection on the
// float bits of |δ| for large tensors, nth_element on the pairs for small ones: the same set). The L1 sums are
// added in a fixed chunk / lane order (l1_sums), so they do not depend on the thread count. The Philox words are DARE's (dare.h counter layout), so RANDOM masks equal mt_dare_f32's.
// MT_CHECK_FINITE costs no read of its own where a method reads δ anyway: the radix keys' histogram (bins of
// Inf / NaN keys), the L1 sums (non-finite exactly when a δ is); small tensors and DELLA are tested first. Only
// when something is found is δ read again, to name the lowest bad element (the bits are then unspecified).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "cpu_isa.h"      // isa, use_avx512
#include "dare_cpu_isa.h"  // avx512::dare_stats_model
#include "dare_internal.h"  // cpu::dare_mask_bits, dare_keep_threshold
#include "error.h"
#include "mergetune/gta.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"

namespace {

using mt::fail;

inline float delta_at(const float* base, const float* model, int64_t j) {
  return base == nullptr ? model[j] : model[j] - base[j];
}


inline void set_bit(uint32_t* bits, int64_t j) { bits[j >> 5] |= 1u << (j & 31); }

// The first j with a non-finite δ_j, or -1: blocks of 4096 tested without a branch (so the loop vectorises), the
// first bad block then element by element; parts in parallel, the lowest part's hit wins.
int64_t first_non_finite(int64_t n, const float* base, const float* model) {
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int32_t threads = std::max(1, mt::cpu_threads());
  std::vector<int64_t> hit(static_cast<size_t>(threads), -1);
  mt::parallel_ranges(blocks, 16, threads, [&](int32_t p, int64_t b0, int64_t b1) {
    for (int64_t q = b0; q < b1; ++q) {
      const int64_t j0 = q * kBlock, j1 = std::min(n, j0 + kBlock);
      int bad = 0;
      if (base != nullptr) {
        for (int64_t j = j0; j < j1; ++j) bad |= !(std::fabs(model[j] - base[j]) <= 3.4028234663852886e38f);
      } else {
        for (int64_t j = j0; j < j1; ++j) bad |= !(std::fabs(model[j]) <= 3.4028234663852886e38f);
      }
      if (bad) {
        for (int64_t j = j0; j < j1; ++j) {
          if (!std::isfinite(delta_at(base, model, j))) {
            hit[p] = j;
            return;
          }
        }
      }
    }
  });
  for (const int64_t j : hit) {  // parts are in index order
    if (j >= 0) return j;
  }
  return -1;
}

// |δ| with its index, ordered by (|δ|, index).
using Key = std::pair<float, int64_t>;

// Keeps the elements whose rank in (|δ|, index) ascending order is in [lo, hi): small tensors, by nth_element.
void keep_rank_window_small(int64_t n, const float* base, const float* model, int64_t lo, int64_t hi, uint32_t* bits) {
  std::vector<Key> keys(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) keys[j] = {std::fabs(delta_at(base, model, j)), j};
  if (lo > 0) std::nth_element(keys.begin(), keys.begin() + lo, keys.end());
  if (hi < n) std::nth_element(keys.begin() + lo, keys.begin() + hi, keys.end());
  for (int64_t r = lo; r < hi; ++r) set_bit(bits, keys[r].second);
}

// Below this many elements the 2^16-bin histograms of the radix path cost more than nth_element.
constexpr int64_t kRadixMin = int64_t{1} << 16;
constexpr int kBins = 1 << 16;

// The bin holding rank r of a histogram (r < its total); *below = the count in the bins before it.
uint32_t find_bin(const std::vector<int64_t>& hist, int64_t r, int64_t* below) {
  int64_t acc = 0;
  for (uint32_t b = 0;; ++b) {
    if (acc + hist[b] > r) {
      *below = acc;
      return b;
    }
    acc += hist[b];
  }
}

// Keeps the elements whose rank in (|δ|, index) ascending order is in [lo, hi), exactly as
// keep_rank_window_small, by radix selection on the float bits of |δ| (monotone in the value for |δ| >= +0; a NaN δ,
// possible only without MT_CHECK_FINITE, ranks above +Inf): the keys once into a buffer with a histogram of their
// top 16 bits, then the low 16 bits of the two bins that hold ranks lo and hi, then the bits. Ties at the two
// threshold keys go to the lower indices, as the (|δ|, index) order says: each part of the last pass starts its
// count of equal keys where the parts before it ended (from the per-part histograms of the second pass), so the
// result does not depend on the thread count.
//
// With `check`, returns false (and sets no bit) when some δ is not finite: the keys of |δ| = +Inf or NaN are the
// ones with all exponent bits set, i.e. the first pass's bins 0x7F80 and up, so the test costs no extra read.
bool keep_rank_window(int64_t n, const float* base, const float* model, int64_t lo, int64_t hi, uint32_t* bits,
                      bool check) {
  if (n < kRadixMin) {
    if (check && first_non_finite(n, base, model) >= 0) return false;
    if (lo < hi) keep_rank_window_small(n, base, model, lo, hi, bits);
    return true;
  }
  std::vector<uint32_t> keys(static_cast<size_t>(n));
  const int32_t threads = std::max(1, mt::cpu_threads());
  const int64_t groups = (n + 31) / 32;  // parts are whole bit words
  std::vector<std::vector<int64_t>> h1(threads);
  const int32_t parts = mt::parallel_ranges(groups, kRadixMin / 32, threads, [&](int32_t p, int64_t g0, int64_t g1) {
    std::vector<int64_t>& h = h1[p];
    h.assign(kBins, 0);
    const int64_t j1 = std::min(n, g1 * 32);
    for (int64_t j = g0 * 32; j < j1; ++j) {
      uint32_t k;
      const float a = std::fabs(delta_at(base, model, j));
      std::memcpy(&k, &a, sizeof k);
      keys[j] = k;
      ++h[k >> 16];
    }
  });
  std::vector<int64_t> hist(kBins, 0);
  for (int32_t p = 0; p < parts; ++p) {
    for (int b = 0; b < kBins; ++b) hist[b] += h1[p][b];
  }
  if (check) {
    for (int b = 0x7F80; b < kBins; ++b) {
      if (hist[b] != 0) return false;
    }
  }
  if (lo >= hi) return true;
  const bool need_lo = lo > 0, need_hi = hi < n;
  int64_t below_lo = 0, below_hi = 0;
  const uint32_t bin_lo = need_lo ? find_bin(hist, lo, &below_lo) : 0;
  const uint32_t bin_hi = need_hi ? find_bin(hist, hi, &below_hi) : 0;
  // per part: low-16-bit histograms of the two bins (same ranges as the first pass: parallel_ranges is
  // deterministic in its split)
  std::vector<std::vector<int64_t>> h2lo(parts), h2hi(parts);
  mt::parallel_ranges(groups, kRadixMin / 32, threads, [&](int32_t p, int64_t g0, int64_t g1) {
    std::vector<int64_t>& a = h2lo[p];
    std::vector<int64_t>& b = h2hi[p];
    if (need_lo) a.assign(kBins, 0);
    if (need_hi) b.assign(kBins, 0);
    const int64_t j1 = std::min(n, g1 * 32);
    for (int64_t j = g0 * 32; j < j1; ++j) {
      const uint32_t k = keys[j];
      if (need_lo && (k >> 16) == bin_lo) ++a[k & 0xFFFFu];
      if (need_hi && (k >> 16) == bin_hi) ++b[k & 0xFFFFu];
    }
  });
  // the threshold keys, and per part the number of equal keys before it
  auto settle = [&](bool need, uint32_t bin, int64_t below, int64_t r, std::vector<std::vector<int64_t>>& h2,
                    uint32_t* key, int64_t* equal_before, std::vector<int64_t>& equal_at_part) {
    equal_at_part.assign(parts, 0);
    if (!need) return;
    std::vector<int64_t> sum(kBins, 0);
    for (int32_t p = 0; p < parts; ++p) {
      for (int b = 0; b < kBins; ++b) sum[b] += h2[p][b];
    }
    int64_t in_bin_below = 0;
    const uint32_t low = find_bin(sum, r - below, &in_bin_below);
    *key = (bin << 16) | low;
    *equal_before = r - below - in_bin_below;  // elements with key T whose rank is < r
    int64_t acc = 0;
    for (int32_t p = 0; p < parts; ++p) {
      equal_at_part[p] = acc;
      acc += h2[p][low];
    }
  };
  uint32_t key_lo = 0, key_hi = 0;
  int64_t eq_lo = 0, eq_hi = 0;
  std::vector<int64_t> start_lo, start_hi;
  settle(need_lo, bin_lo, below_lo, lo, h2lo, &key_lo, &eq_lo, start_lo);
  settle(need_hi, bin_hi, below_hi, hi, h2hi, &key_hi, &eq_hi, start_hi);
  mt::parallel_ranges(groups, kRadixMin / 32, threads, [&](int32_t p, int64_t g0, int64_t g1) {
    int64_t seen_lo = start_lo[p], seen_hi = start_hi[p];
    const int64_t j1 = std::min(n, g1 * 32);
    // without branches (keep is a coin flip per element): the count of equal keys seen so far decides the ties;
    // with no lower (upper) bound the test is against key 0 and rank 0 (key ~0u and rank n): always true
    const uint32_t klo = need_lo ? key_lo : 0u, khi = need_hi ? key_hi : ~0u;
    const int64_t elo = need_lo ? eq_lo : 0, ehi = need_hi ? eq_hi : n;
    for (int64_t w0 = g0 * 32; w0 < j1; w0 += 32) {
      const int64_t m = std::min<int64_t>(32, j1 - w0);
      uint32_t word = 0;
      for (int64_t q = 0; q < m; ++q) {
        const uint32_t k = keys[w0 + q];
        const bool at_lo = k == klo, at_hi = k == khi;
        const bool above = (k > klo) | (at_lo & (seen_lo >= elo));
        const bool under = (k < khi) | (at_hi & (seen_hi < ehi));
        seen_lo += at_lo;
        seen_hi += at_hi;
        word |= static_cast<uint32_t>(above & under) << q;
      }
      bits[w0 >> 5] |= word;
    }
  });
  return true;
}

// sums = {Σ|δ|, Σ keep·|δ|} in double (δ in fp32, then widened), in a fixed order independent of the thread count:
// chunks of kSumChunk elements, in each 8 lanes (element mod 8) added in element order, the lanes folded in order
// into the chunk's partial, the partials added in chunk order (DARE L1's order, dare_internal.h). With a base on an
// AVX-512 CPU a chunk is DARE L1's own stats loop (avx512::dare_stats_model: the same lanes in the same order over
// the same bit layout, so the same sums). Returns false when Σ|δ| is not finite, i.e. (a double sum of 2^16 widened
// floats cannot overflow) exactly when some δ is not: the finiteness test of RANDOM's only read.
constexpr int64_t kSumChunk = int64_t{1} << 16;

bool l1_sums(int64_t n, const float* base, const float* model, const uint32_t* bits, double* sums) {
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> part_all(static_cast<size_t>(chunks)), part_kept(static_cast<size_t>(chunks));
  const bool wide = base != nullptr && std::strcmp(mt::cpu::isa(), "avx2") == 0 && mt::cpu::use_avx512();
  mt::parallel_ranges(chunks, 1, std::max(1, mt::cpu_threads()), [&](int32_t, int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t j0 = c * kSumChunk, j1 = std::min(n, j0 + kSumChunk);
      double la[8] = {0, 0, 0, 0, 0, 0, 0, 0}, lk[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      if (wide) {
        mt::cpu::avx512::dare_stats_model(model + j0, base + j0, reinterpret_cast<const uint8_t*>(bits), j0, j1 - j0,
                                          la, lk);
      } else {
        int64_t j = j0;
        for (; j + 8 <= j1; j += 8) {
          const uint32_t byte = (bits[j >> 5] >> (j & 31)) & 0xFFu;  // j is a multiple of 8
          for (int q = 0; q < 8; ++q) {
            const double a = std::fabs(static_cast<double>(delta_at(base, model, j + q)));
            la[q] += a;
            lk[q] += (byte & (1u << q)) != 0 ? a : 0.0;
          }
        }
        for (; j < j1; ++j) {
          const double a = std::fabs(static_cast<double>(delta_at(base, model, j)));
          la[j & 7] += a;
          lk[j & 7] += ((bits[j >> 5] >> (j & 31)) & 1u) != 0 ? a : 0.0;
        }
      }
      double all = 0.0, kept = 0.0;
      for (int q = 0; q < 8; ++q) {
        all += la[q];
        kept += lk[q];
      }
      part_all[c] = all;
      part_kept[c] = kept;
    }
  });
  double all = 0.0, kept = 0.0;
  for (int64_t c = 0; c < chunks; ++c) {
    all += part_all[c];
    kept += part_kept[c];
  }
  sums[0] = all;
  sums[1] = kept;
  return all <= DBL_MAX;  // false for +Inf and NaN
}

// The positions 0 .. len − 1 of one row in (key, position) ascending order: a stable LSD radix sort on the 32-bit
// keys, 8 bits a pass, skipping the passes whose digit is the same for every key (the top byte of most |δ|).
void row_order(const uint32_t* key, int64_t len, uint32_t* order, uint32_t* tmp) {
  int64_t count[4][256] = {};
  for (int64_t r = 0; r < len; ++r) {
    for (int d = 0; d < 4; ++d) ++count[d][(key[r] >> (8 * d)) & 0xFFu];
  }
  for (int64_t r = 0; r < len; ++r) order[r] = static_cast<uint32_t>(r);
  for (int d = 0; d < 4; ++d) {
    if (count[d][(key[0] >> (8 * d)) & 0xFFu] == len) continue;  // one digit for all: the order stands
    int64_t at[256];
    int64_t acc = 0;
    for (int v = 0; v < 256; ++v) {
      at[v] = acc;
      acc += count[d][v];
    }
    for (int64_t r = 0; r < len; ++r) {
      const uint32_t o = order[r];
      tmp[at[(key[o] >> (8 * d)) & 0xFFu]++] = o;
    }
    std::memcpy(order, tmp, static_cast<size_t>(len) * sizeof(uint32_t));
  }
}

// DELLA (gta.h): p of every element from its rank along len (rows in parallel; the ranks by row_order on the float
// bits of |δ|, which order |δ| >= +0 as the values do, ties by position = by index as the (|δ|, index) order), then
// keep iff u < p with u from DARE's Philox words (dare_words: the vectorised generator), tiles in parallel.
void della_bits(int64_t n, int64_t outer, int64_t len, int64_t inner, const float* base, const float* model, float lo,
                float width, uint64_t seed, uint64_t tensor_key, uint32_t model_index, uint32_t* bits) {
  std::vector<float> p(static_cast<size_t>(n));
  const int32_t threads = std::max(1, mt::cpu_threads());
  const int64_t rows = outer * inner;
  mt::parallel_ranges(rows, std::max<int64_t>(1, kRadixMin / len), threads, [&](int32_t, int64_t r0, int64_t r1) {
    std::vector<uint32_t> key(static_cast<size_t>(len)), order(static_cast<size_t>(len)), tmp(static_cast<size_t>(len));
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t a = row / inner, c = row % inner;
      for (int64_t r = 0; r < len; ++r) {
        const float v = std::fabs(delta_at(base, model, (a * len + r) * inner + c));
        std::memcpy(&key[r], &v, sizeof v);
      }
      row_order(key.data(), len, order.data(), tmp.data());
      for (int64_t r = 0; r < len; ++r) {
        const float norm = len == 1 ? 0.0f : static_cast<float>(r) / static_cast<float>(len - 1);
        p[(a * len + order[r]) * inner + c] = lo + norm * width;
      }
    }
  });
  constexpr int64_t kTile = 1024;  // a multiple of 32 (whole bit words per tile) and of 4 (whole Philox blocks)
  const int64_t tiles = (n + kTile - 1) / kTile;
  mt::parallel_ranges(tiles, kRadixMin / kTile, threads, [&](int32_t, int64_t t0, int64_t t1) {
    std::vector<uint32_t> words(kTile + 64);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t j0 = t * kTile, m = std::min(kTile, n - j0);
      mt::cpu::dare_words(model_index, tensor_key, seed, j0, m, words.data());
      // u = (w >> 8)·2^-24 is exact in float (an integer below 2^24 times a power of two), so the float product is
      // the double one rounded to float bit for bit; the tests build whole words without a branch (j0 is a
      // multiple of 32)
      const float* __restrict__ pt = p.data() + j0;
      for (int64_t k0 = 0; k0 < m; k0 += 32) {
        const int64_t cnt = std::min<int64_t>(32, m - k0);
        uint32_t word = 0;
        for (int64_t q = 0; q < cnt; ++q) {
          const float u = static_cast<float>(words[k0 + q] >> 8) * 0x1p-24f;
          word |= static_cast<uint32_t>(u < pt[k0 + q]) << q;
        }
        bits[(j0 + k0) >> 5] |= word;
      }
    }
  });
}

}  // namespace

extern "C" mt_status mt_gta_sparsify_f32(int64_t n, int64_t outer, int64_t len, int64_t inner, const float* base,
                                         const float* model, int32_t method, double density, double param,
                                         uint64_t seed, uint64_t tensor_key, int32_t model_index, uint32_t* bits,
                                         double* sums, int32_t flags) {
  mt::clear_error();
  if (n < 0) return fail(MT_INVALID_ARGUMENT, "n must be >= 0, got %lld", (long long)n);
  if (n > 0 && (model == nullptr || bits == nullptr)) return fail(MT_INVALID_ARGUMENT, "model and bits must not be NULL");
  if (!(density > 0.0 && density < 1.0)) {
    return fail(MT_INVALID_ARGUMENT, "density must be in (0, 1) (1 keeps everything: no sparsification), got %g", density);
  }
  if (model_index < 0) return fail(MT_INVALID_ARGUMENT, "model_index must be >= 0");
  // MT_CHECK_FINITE: tested in the first read of δ each method makes (the radix keys, the sums), not in a read of
  // its own; DELLA's rows and small tensors are tested before. The error names the lowest bad element.
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  auto non_finite = [&]() {
    const int64_t j = first_non_finite(n, base, model);
    if (j < 0) return fail(MT_INTERNAL, "a non-finite delta was seen but not found again");
    return mt::fail_at(MT_NON_FINITE, std::isfinite(model[j]) && base != nullptr && !std::isfinite(base[j]) ? MT_INPUT_BASE : model_index,
                       0, j, "non-finite delta at element %lld", (long long)j);
  };
  std::memset(bits, 0, static_cast<size_t>((n + 31) / 32) * sizeof(uint32_t));
  switch (method) {
    case MT_GTA_SPARSIFY_MAGNITUDE: {
      const int64_t k = static_cast<int64_t>(density * static_cast<double>(n));
      if (k <= 0) return fail(MT_INVALID_ARGUMENT, "density %g keeps no element of %lld", density, (long long)n);
      if (!keep_rank_window(n, base, model, n - k, n, bits, check)) return non_finite();
      break;
    }
    case MT_GTA_SPARSIFY_OUTLIERS: {
      if (!(param >= 0.0 && param < 1.0)) return fail(MT_INVALID_ARGUMENT, "gamma must be in [0, 1), got %g", param);
      const int64_t target = static_cast<int64_t>(density * static_cast<double>(n));
      int64_t top = static_cast<int64_t>(param * static_cast<double>(n));
      int64_t bot = n - target - top;
      if (bot < 0) {
        top += bot;
        bot = 0;
      }
      if (!keep_rank_window(n, base, model, bot, n - top, bits, check)) return non_finite();
      break;
    }
    case MT_GTA_SPARSIFY_RANDOM: {
      const float drop = 1.0f - static_cast<float>(density);  // DARE's drop rate (Dare.Options.keepDensity)
      // DARE's own vectorised, threaded mask kernel (dare_cpu.cpp): the same words, the same test
      mt::cpu::dare_mask_bits(static_cast<uint32_t>(model_index), tensor_key, seed, mt::dare_keep_threshold(drop), n,
                              bits);
      break;
    }
    case MT_GTA_SPARSIFY_DELLA: {
      if (!(param >= 0.0) || density - param <= 0.0 || density + param >= 1.0) {
        return fail(MT_INVALID_ARGUMENT, "epsilon %g must keep density ± epsilon in (0, 1) (density %g)", param, density);
      }
      if (outer < 1 || len < 1 || inner < 1 || outer * len * inner != n) {
        return fail(MT_INVALID_ARGUMENT, "shape [%lld, %lld, %lld] does not hold %lld elements", (long long)outer,
                    (long long)len, (long long)inner, (long long)n);
      }
      if (check && first_non_finite(n, base, model) >= 0) return non_finite();
      della_bits(n, outer, len, inner, base, model, static_cast<float>(density - param),
                 static_cast<float>(2.0 * param), seed, tensor_key, static_cast<uint32_t>(model_index), bits);
      break;
    }
    default:
      return fail(MT_INVALID_ARGUMENT, "unknown sparsification method %d", method);
  }
  if (sums != nullptr && !l1_sums(n, base, model, bits, sums) && check) return non_finite();
  return MT_OK;
}
