// K4b on the CPU: DARE (drop and rescale) fused with task arithmetic, fp32, with double L1 sums.
//
//     c_i,s = λ_i ⊗ r_i,s;   acc = base;   acc = keep ? acc ⊕ (c_i,s ⊗ (m_i − base)) : acc   (i in order)
//
// (dare_internal.h: the same expression as the CUDA kernel, so NONE and INVERSE results agree bit for bit.)
//
// Apply pass: fork-join over the flat range as in K4a. Each thread walks its share tile by tile (kTile elements):
// the keep mask of a model over a tile is one run of Philox blocks (counter j / 4, so a tile that starts inside a
// block recomputes that block), the tile is accumulated in a local buffer and checked before it is stored, so out
// may alias base or a model and the inputs of a bad element are still intact for the report.
//
// L1 stats pass (before the apply pass): every segment is cut into chunks of kChunk elements (multiples of 4);
// per chunk and model, Σ|δ| and Σ|keep·δ| go into 8 double lanes (element mod 8), folded in order into one
// partial, and the partials of a segment are added in chunk order: independent of the thread count. The pass keeps
// the masks it drew as one bit per element and model (models·n/8 bytes per call), and the apply pass reads them
// back instead of running Philox a second time: the same masks, so the same results, at half L1's Philox work.
// The two passes run group by group: consecutive segments whose inputs fit a cache budget (half the L3, capped;
// a larger segment alone), stats then apply for one group before the next, so the apply pass reads what the stats
// pass has just brought into cache and the bit buffer is one group's. Every chunk, partial and order is the same
// as over the whole call (the coefficients are per segment), so the sums and results do not depend on the groups.
// A bad input is still reported before any overflowing result: after an apply-pass overflow, the inputs of the
// later groups are tested first (error path only); on an error, groups before the bad one are already written.
//
// On AVX2 CPUs the Philox blocks, the apply loop and the L1 loop run in dare_cpu_avx2.cpp: eight blocks / elements
// a step, bit for bit the same masks, results and sums. On AVX-512 CPUs (cpu::use_avx512()) they run in
// dare_cpu_avx512.cpp: sixteen blocks a step, the masks as bits (never expanded to words), the same bits again.
// The stats pass there draws its bits straight into the L1 buffer.
//
// MT_CHECK_FINITE: a NaN/Inf input is reported even where it was dropped (it is an input), so every input of a
// tile is tested, not only the results; the first bad element (by flat index) is named through
// report_non_finite (base, then the models in order, then the result).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <unistd.h>  // sysconf

#include "cpu_isa.h"  // isa(), kStreamBytes, avx2::store_fence
#include "dare_cpu_isa.h"
#include "dare_cpu_loops.h"
#include "dare_internal.h"
#include "interp_report.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"
#include "philox.h"

namespace mt::cpu {

namespace {

constexpr int64_t kTile = 1024;               // elements per tile (a multiple of 4)
constexpr int64_t kChunk = int64_t{1} << 16;  // elements per L1 stats chunk (a multiple of kTile)
constexpr int kLanes = 8;
constexpr int64_t kBatch = 64;                // Philox blocks side by side on the portable path
constexpr int64_t kMinPerThread = int64_t{1} << 16;
constexpr int64_t kGroupCap = int64_t{256} << 20;  // L1 group budget cap (bytes of inputs), see l1_group_bytes

inline bool finite_f(float v) { return std::fabs(v) <= FLT_MAX; }

struct FirstBad {
  int64_t segment = -1;
  int64_t element = -1;
};

// What every pass needs about the call.
struct Ctx {
  int64_t n_segments;
  const int64_t* lengths;
  const uint64_t* keys;
  float* const* out;
  const float* const* base;
  int32_t n_models;
  const float* const* models;
  const float* coef;  // [i · n_segments + s]
  uint32_t threshold;
  uint32_t k0, k1;    // the Philox key: the seed
  bool check;
  bool avx2;          // isa() is "avx2"
  bool avx512;        // and cpu::use_avx512()
  bool stream;        // AVX2, and the output is at least kStreamBytes: written with non-temporal stores
  // L1 only: the masks the stats pass drew, one bit per element and model, for the apply pass (null: draw them).
  // Model i's bits of segment s start at bit bytes_per_model·8·i + bit_at[s] (bit_at[s] a multiple of 64, so the
  // stats pass's threads, which split at chunk boundaries, never write the same byte).
  uint8_t* bits = nullptr;
  const int64_t* bit_at = nullptr;
  int64_t bytes_per_model = 0;
};

// Per-thread scratch.
struct Scratch {
  std::vector<uint32_t> words;  // Philox output of the blocks of one tile (kTile + 4 words)
  std::vector<uint32_t> keep;   // 0 / 1 per element of the tile (AVX2: 0 / ~0 per element of its blocks)
  std::vector<float> acc;
  std::vector<uint64_t> bits;   // AVX-512: the keep bits of a tile's blocks (17 words, and 4 readable bytes after)
  alignas(64) uint32_t x0[kBatch], x1[kBatch], x2[kBatch], x3[kBatch];  // the counters of a batch of blocks
  Scratch() : words(kTile + 8), keep(kTile + 64), acc(kTile), bits(kTile / 64 + 4) {}
};

// What the loop after keep_mask reads next: model i + 1 over this tile, or after the last model the base and
// model 0 over the next tile (up to `limit`). The AVX2 keep_mask asks for it while it computes.
struct Upcoming {
  const float* pf[2] = {nullptr, nullptr};
  int64_t n[2] = {0, 0};
  Upcoming() = default;
  Upcoming(const Ctx& c, int32_t i, int64_t s, int64_t t, int64_t len, int64_t limit) {
    if (i + 1 < c.n_models) {
      pf[0] = c.models[(i + 1) * c.n_segments + s] + t;
      n[0] = len;
    } else if (t + len < limit) {
      pf[0] = c.base[s] + t + len;
      pf[1] = c.models[s] + t + len;  // model 0
      n[0] = n[1] = std::min(kTile, limit - t - len);
    }
  }
};

// The Philox words of blocks q0 .. q0 + nb − 1 in element order (words[4·b + w]), on the portable path.
void philox_words_generic(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t key0,
                          uint32_t key1, Scratch& w, uint32_t* __restrict__ words) {
  // Up to kBatch blocks side by side, one round at a time over all of them (philox4x32_10 with the loops swapped):
  // GCC vectorises the loop over the blocks (SSE2 pmuludq), where a loop of whole philox4x32_10 calls stays
  // scalar. The same rounds on every block, so the same words.
  for (int64_t b0 = 0; b0 < nb; b0 += kBatch) {
    const int64_t cnt = std::min<int64_t>(kBatch, nb - b0);
    uint32_t* __restrict__ x0 = w.x0;
    uint32_t* __restrict__ x1 = w.x1;
    uint32_t* __restrict__ x2 = w.x2;
    uint32_t* __restrict__ x3 = w.x3;
    for (int64_t j = 0; j < cnt; ++j) {
      x0[j] = q0 + static_cast<uint32_t>(b0 + j);
      x1[j] = c1;
      x2[j] = c2;
      x3[j] = c3;
    }
    uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      for (int64_t j = 0; j < cnt; ++j) philox4x32_round(x0[j], x1[j], x2[j], x3[j], k0, k1);
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    for (int64_t j = 0; j < cnt; ++j) {
      words[4 * (b0 + j) + 0] = x0[j];
      words[4 * (b0 + j) + 1] = x1[j];
      words[4 * (b0 + j) + 2] = x2[j];
      words[4 * (b0 + j) + 3] = x3[j];
    }
  }
}

// The keep flags (non-zero: kept) of elements j0 .. j0 + n − 1 of segment s, model i (n <= kTile): the result
// points at the flag of j0.
const uint32_t* keep_mask(const Ctx& c, int32_t i, int64_t s, int64_t j0, int64_t n, Scratch& w,
                          const Upcoming& next) {
  const int64_t q0 = j0 >> 2, nb = ((j0 + n - 1) >> 2) - q0 + 1;
  const uint32_t c1 = static_cast<uint32_t>(i);
  const uint32_t c2 = static_cast<uint32_t>(c.keys[s]), c3 = static_cast<uint32_t>(c.keys[s] >> 32);
  if (c.avx2) {  // at most 257 blocks: 33 sets of 8, 1056 flags
    avx2::dare_keep_blocks(static_cast<uint32_t>(q0), nb, c1, c2, c3, c.k0, c.k1, c.threshold, w.keep.data(), next.pf,
                           next.n);
    return w.keep.data() + (j0 & 3);
  }
  uint32_t* __restrict__ words = w.words.data();
  philox_words_generic(static_cast<uint32_t>(q0), nb, c1, c2, c3, c.k0, c.k1, w, words);
  const uint32_t* __restrict__ from = words + (j0 & 3);
  uint32_t* __restrict__ keep = w.keep.data();
  const uint32_t t = c.threshold;
  for (int64_t k = 0; k < n; ++k) keep[k] = dare_keep(from[k], t) ? 1u : 0u;
  return keep;
}

// AVX-512: the keep bits of elements j0 .. j0 + n − 1 of segment s, model i (n <= kTile), in w.bits from bit
// j0 & 3 on.
const uint8_t* keep_bits(const Ctx& c, int32_t i, int64_t s, int64_t j0, int64_t n, Scratch& w, const Upcoming& next) {
  const int64_t q0 = j0 >> 2, nb = ((j0 + n - 1) >> 2) - q0 + 1;
  avx512::dare_keep_bits(static_cast<uint32_t>(q0), nb, static_cast<uint32_t>(i), static_cast<uint32_t>(c.keys[s]),
                         static_cast<uint32_t>(c.keys[s] >> 32), c.k0, c.k1, c.threshold, w.bits.data(), next.pf,
                         next.n);
  return reinterpret_cast<const uint8_t*>(w.bits.data());
}

// Index (in the tile) of the first element with a non-finite input or result, or -1.
int64_t first_bad_in_tile(const Ctx& c, int64_t s, int64_t t, int64_t n, const float* acc) {
  const float* b = c.base[s] + t;
  for (int64_t k = 0; k < n; ++k) {
    bool bad = !finite_f(b[k]) || (acc != nullptr && !finite_f(acc[k]));
    for (int32_t i = 0; i < c.n_models && !bad; ++i) bad = !finite_f(c.models[i * c.n_segments + s][t + k]);
    if (acc == nullptr) {  // the stats pass: δ itself may overflow
      for (int32_t i = 0; i < c.n_models && !bad; ++i) bad = !finite_f(c.models[i * c.n_segments + s][t + k] - b[k]);
    }
    if (bad) return k;
  }
  return -1;
}

// The apply pass over elements [lo, hi) of segment s; returns the first bad element (segment-relative) or -1.
int64_t apply_run(const Ctx& c, int64_t s, int64_t lo, int64_t hi, Scratch& w) {
  float* __restrict__ acc = w.acc.data();
  for (int64_t t = lo; t < hi; t += kTile) {
    const int64_t n = std::min(kTile, hi - t);
    const float* __restrict__ b = c.base[s] + t;
    int bad = 0;
    for (int64_t k = 0; k < n; ++k) {
      acc[k] = b[k];
      bad |= !finite_f(b[k]);
    }
    for (int32_t i = 0; i < c.n_models; ++i) {
      const float* __restrict__ m = c.models[i * c.n_segments + s] + t;
      const float ci = c.coef[i * c.n_segments + s];
      if (c.avx512) {
        const bool stored = c.bits != nullptr;
        const uint8_t* bits = stored ? c.bits + static_cast<int64_t>(i) * c.bytes_per_model
                                     : keep_bits(c, i, s, t, n, w, Upcoming(c, i, s, t, n, hi));
        const int64_t at = stored ? c.bit_at[s] + t : (t & 3);
        bad |= !avx512::dare_apply_model(acc, m, b, bits, at, ci, n);
        continue;
      }
      const uint32_t* __restrict__ keep;
      if (c.bits != nullptr) {
        const uint8_t* bits = c.bits + static_cast<int64_t>(i) * c.bytes_per_model;
        if (c.avx2) {
          avx2::dare_unpack_keep(bits, c.bit_at[s] + t, n, w.keep.data());
        } else {
          generic::dare_unpack_keep(bits, c.bit_at[s] + t, n, w.keep.data());
        }
        keep = w.keep.data();
      } else {
        keep = keep_mask(c, i, s, t, n, w, Upcoming(c, i, s, t, n, hi));
      }
      const bool fine = c.avx2 ? avx2::dare_apply_model(acc, m, b, keep, ci, n)
                               : generic::dare_apply_model(acc, m, b, keep, ci, n);
      bad |= !fine;
    }
    if (c.check) {
      for (int64_t k = 0; k < n; ++k) bad |= !finite_f(acc[k]);
      if (bad) {
        const int64_t k = first_bad_in_tile(c, s, t, n, acc);
        if (k >= 0) return t + k;
      }
    }
    if (c.avx2) {
      avx2::dare_store_tile(c.out[s] + t, acc, n, c.stream);
    } else {
      std::memcpy(c.out[s] + t, acc, static_cast<size_t>(n) * sizeof(float));
    }
  }
  return -1;
}

struct Chunk {
  int64_t segment;
  int64_t start;  // inside the segment, a multiple of kChunk
  int64_t flat;
  int64_t len;
};

// Σ|δ| and Σ|keep·δ| of one chunk for every model into partial_abs / partial_kept (n_models each); on a
// non-finite input or δ (with the check) fills *bad and returns false.
bool stats_chunk(const Ctx& c, const Chunk& ch, double* partial_abs, double* partial_kept, Scratch& w,
                 std::vector<double>& lanes_abs, std::vector<double>& lanes_kept, FirstBad* bad) {
  const int64_t s = ch.segment;
  const int32_t N = c.n_models;
  std::fill(lanes_abs.begin(), lanes_abs.end(), 0.0);
  std::fill(lanes_kept.begin(), lanes_kept.end(), 0.0);
  for (int64_t t = ch.start; t < ch.start + ch.len; t += kTile) {
    const int64_t n = std::min(kTile, ch.start + ch.len - t);
    const float* __restrict__ b = c.base[s] + t;
    int nonfinite = 0;
    for (int32_t i = 0; i < N; ++i) {
      const float* __restrict__ m = c.models[i * c.n_segments + s] + t;
      double* la = &lanes_abs[static_cast<size_t>(i) * kLanes];
      double* lk = &lanes_kept[static_cast<size_t>(i) * kLanes];
      uint8_t* bits = c.bits + static_cast<int64_t>(i) * c.bytes_per_model;  // t is a multiple of kTile
      if (c.avx512) {
        // bit_at[s] + t is a multiple of 64: the bits go straight into the buffer's words; those past the segment's
        // end stay inside its 64-bit padding and are never read
        const int64_t at = c.bit_at[s] + t;
        const Upcoming next(c, i, s, t, n, ch.start + ch.len);
        avx512::dare_keep_bits(static_cast<uint32_t>(t >> 2), (n + 3) >> 2, static_cast<uint32_t>(i),
                               static_cast<uint32_t>(c.keys[s]), static_cast<uint32_t>(c.keys[s] >> 32), c.k0, c.k1,
                               c.threshold, reinterpret_cast<uint64_t*>(bits) + (at >> 6), next.pf, next.n);
        avx512::dare_stats_model(m, b, bits, at, n, la, lk);
        for (int q = 0; q < kLanes; ++q) nonfinite |= !(la[q] <= DBL_MAX);
        continue;
      }
      const uint32_t* __restrict__ keep = keep_mask(c, i, s, t, n, w, Upcoming(c, i, s, t, n, ch.start + ch.len));
      if (c.avx2) {
        avx2::dare_stats_model(m, b, keep, n, la, lk);
        avx2::dare_pack_keep(keep, n, bits, c.bit_at[s] + t);
      } else {
        generic::dare_stats_model(m, b, keep, n, la, lk);
        generic::dare_pack_keep(keep, n, bits, c.bit_at[s] + t);
      }
      // a double sum of |fp32| values is non-finite iff one of them is
      for (int q = 0; q < kLanes; ++q) nonfinite |= !(la[q] <= DBL_MAX);
    }
    if (c.check) {
      for (int64_t k = 0; k < n; ++k) nonfinite |= !finite_f(b[k]);
      if (nonfinite) {
        const int64_t k = first_bad_in_tile(c, s, t, n, nullptr);
        if (k >= 0) {
          *bad = FirstBad{s, t + k};
          return false;
        }
      }
    }
  }
  for (int32_t i = 0; i < N; ++i) {
    double a = 0.0, k = 0.0;
    for (int q = 0; q < kLanes; ++q) {
      a += lanes_abs[static_cast<size_t>(i) * kLanes + q];
      k += lanes_kept[static_cast<size_t>(i) * kLanes + q];
    }
    partial_abs[i] = a;
    partial_kept[i] = k;
  }
  return true;
}

mt_status report(const Ctx& c, const FirstBad& fb, const float* result) {
  const int64_t s = fb.segment, e = fb.element;
  std::vector<float> values(static_cast<size_t>(c.n_models));
  float out_value = result != nullptr ? *result : 0.0f;
  for (int32_t i = 0; i < c.n_models; ++i) {
    values[i] = c.models[i * c.n_segments + s][e];
    const float d = values[i] - c.base[s][e];
    if (result == nullptr && !finite_f(d) && finite_f(out_value)) out_value = d;  // stats: the overflowing δ
  }
  return report_non_finite(s, e, c.base[s][e], values.data(), c.n_models, out_value);
}

// The cache budget of one L1 group: MERGETUNE_DARE_L1_GROUP_BYTES when set (a positive integer; tests and
// tuning), else half the L3 that sysconf reports, capped at kGroupCap (8 MiB when sysconf says nothing).
int64_t l1_group_bytes() {
  if (const char* env = std::getenv("MERGETUNE_DARE_L1_GROUP_BYTES"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (end != nullptr && *end == '\0' && v > 0) return v;
  }
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return l3 > 0 ? std::min<int64_t>(l3 / 2, kGroupCap) : int64_t{8} << 20;
}

// The first element (flat order) whose input or δ is not finite in segments [s0, s1), as the stats pass tests
// them, or {-1, -1}. Only on the error path (an apply-pass overflow in an earlier group: a bad input anywhere is
// reported first, as when the stats pass ran over the whole call).
FirstBad first_bad_input(const Ctx& c, int64_t s0, int64_t s1) {
  for (int64_t s = s0; s < s1; ++s) {
    for (int64_t t = 0; t < c.lengths[s]; t += kTile) {
      const int64_t k = first_bad_in_tile(c, s, t, std::min(kTile, c.lengths[s] - t), nullptr);
      if (k >= 0) return FirstBad{s, t + k};
    }
  }
  return FirstBad{};
}

}  // namespace

mt_status dare_f32(int64_t n_segments, const int64_t* lengths, const uint64_t* tensor_keys, float* const* out,
                   const float* const* base, int32_t n_models, const float* const* models, const float* lambdas,
                   uint32_t threshold, uint64_t seed, int32_t rescale, float scale, int32_t flags) {
  const int64_t S = n_segments;
  const size_t N = static_cast<size_t>(n_models);
  std::vector<int64_t> starts(S + 1, 0);
  for (int64_t s = 0; s < S; ++s) starts[s + 1] = starts[s] + lengths[s];
  const int64_t total = starts[S];
  const bool avx2 = std::strcmp(isa(), "avx2") == 0;
  const bool wide = avx2 && use_avx512();
  std::vector<float> coef(N * static_cast<size_t>(S));
  Ctx c{S,        lengths, tensor_keys, out, base, n_models, models, coef.data(), threshold,
        static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), (flags & MT_CHECK_FINITE) != 0,
        avx2,     wide, avx2 && total * static_cast<int64_t>(sizeof(float)) >= kStreamBytes};
  const int32_t threads = std::max(1, cpu_threads());
  const bool l1 = rescale == MT_DARE_RESCALE_L1 && n_models > 0;
  if (!l1) {
    for (int32_t i = 0; i < n_models; ++i) {
      const float ci = lambdas[i] * scale;
      for (int64_t s = 0; s < S; ++s) coef[static_cast<size_t>(i) * S + s] = ci;
    }
  }

  // Segment groups: L1 runs the stats pass and then the apply pass over one group of consecutive segments before
  // the next (the coefficients are per segment), so the apply pass reads inputs the stats pass just brought into
  // cache. A group holds segments while their inputs ((models + 1)·len·4 bytes) fit l1_group_bytes(); a larger
  // segment is a group alone. Without L1 the whole call is one group.
  std::vector<int64_t> group_at{0};
  if (l1) {
    const int64_t budget = l1_group_bytes();
    int64_t bytes = 0;
    for (int64_t s = 0; s < S; ++s) {
      const int64_t b = (static_cast<int64_t>(N) + 1) * lengths[s] * static_cast<int64_t>(sizeof(float));
      if (s > group_at.back() && bytes + b > budget) {
        group_at.push_back(s);
        bytes = 0;
      }
      bytes += b;
    }
  }
  group_at.push_back(S);

  // L1: the keep bits of one group; bit_at[s] is segment s's first bit inside its group's buffer
  std::vector<int64_t> bit_at(S + 1, 0);
  std::vector<uint64_t> bit_words;
  if (l1) {
    int64_t most = 0;
    for (size_t g = 0; g + 1 < group_at.size(); ++g) {
      int64_t at = 0;
      for (int64_t s = group_at[g]; s < group_at[g + 1]; ++s) {
        bit_at[s] = at;
        at += (lengths[s] + 63) / 64 * 64;
      }
      most = std::max(most, at);
    }
    bit_words.resize(N * static_cast<size_t>(most / 64) + 1);  // + 1: the AVX-512 loops read 4 bytes at a time
    c.bits = reinterpret_cast<uint8_t*>(bit_words.data());
    c.bit_at = bit_at.data();
  }

  std::vector<FirstBad> first_bad(threads);
  std::vector<float> bad_result(threads, 0.0f);
  for (size_t g = 0; g + 1 < group_at.size(); ++g) {
    const int64_t s0 = group_at[g], s1 = group_at[g + 1];
    const int64_t flat0 = starts[s0], flat1 = starts[s1];
    if (l1) {
      c.bytes_per_model = (s1 > s0 ? bit_at[s1 - 1] + (lengths[s1 - 1] + 63) / 64 * 64 : 0) / 8;
      std::vector<Chunk> chunks;
      std::vector<int64_t> first_chunk(S + 1, 0);
      for (int64_t s = s0; s < s1; ++s) {
        first_chunk[s] = static_cast<int64_t>(chunks.size());
        for (int64_t at = 0; at < lengths[s]; at += kChunk) {
          chunks.push_back(Chunk{s, at, starts[s] + at - flat0, std::min(kChunk, lengths[s] - at)});
        }
      }
      first_chunk[s1] = static_cast<int64_t>(chunks.size());
      std::vector<double> partial_abs(chunks.size() * N), partial_kept(chunks.size() * N);
      parallel_ranges(flat1 - flat0, kMinPerThread, threads, [&](int32_t part, int64_t begin, int64_t end) {
        auto by_flat = [](const Chunk& ch, int64_t v) { return ch.flat < v; };
        const size_t c0 = std::lower_bound(chunks.begin(), chunks.end(), begin, by_flat) - chunks.begin();
        const size_t c1 = std::lower_bound(chunks.begin(), chunks.end(), end, by_flat) - chunks.begin();
        if (c0 >= c1) return;
        Scratch w;
        std::vector<double> lanes_abs(N * kLanes), lanes_kept(N * kLanes);
        for (size_t k = c0; k < c1; ++k) {
          if (!stats_chunk(c, chunks[k], &partial_abs[k * N], &partial_kept[k * N], w, lanes_abs, lanes_kept,
                           &first_bad[part])) {
            return;
          }
        }
      });
      for (const FirstBad& fb : first_bad) {  // parts are in flat order, so the first hit is the lowest index
        if (fb.segment >= 0) return report(c, fb, nullptr);
      }
      for (int32_t i = 0; i < n_models; ++i) {
        for (int64_t s = s0; s < s1; ++s) {
          double a = 0.0, k = 0.0;
          for (int64_t ch = first_chunk[s]; ch < first_chunk[s + 1]; ++ch) {
            a += partial_abs[static_cast<size_t>(ch - first_chunk[s0]) * N + i];
            k += partial_kept[static_cast<size_t>(ch - first_chunk[s0]) * N + i];
          }
          coef[static_cast<size_t>(i) * S + s] = lambdas[i] * dare_l1_rescale(a, k);
        }
      }
    }

    parallel_ranges(flat1 - flat0, kMinPerThread, threads, [&](int32_t part, int64_t b0, int64_t e0) {
      const int64_t begin = flat0 + b0, end = flat0 + e0;
      Scratch w;
      int64_t s = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
      for (int64_t pos = begin; pos < end; ++s) {
        const int64_t lo = pos - starts[s], hi = std::min(end, starts[s + 1]) - starts[s];
        if (hi <= lo) continue;  // empty segment
        const int64_t e = apply_run(c, s, lo, hi, w);
        if (c.stream) avx2::store_fence();  // streamed stores are weakly ordered: publish them before the join
        if (e >= 0) {
          first_bad[part] = FirstBad{s, e};
          bad_result[part] = w.acc[(e - lo) % kTile];
          return;
        }
        pos = starts[s] + hi;
      }
    });
    for (int32_t p = 0; p < threads; ++p) {
      if (first_bad[p].segment < 0) continue;
      if (l1 && c.check) {  // a bad input of a later group is what the whole-call stats pass would have named
        const FirstBad later = first_bad_input(c, s1, S);
        if (later.segment >= 0) return report(c, later, nullptr);
      }
      return report(c, first_bad[p], &bad_result[p]);
    }
  }
  return MT_OK;
}

void dare_words(uint32_t model, uint64_t key, uint64_t seed, int64_t j0, int64_t n, uint32_t* words) {
  if (n <= 0) return;
  const int64_t q0 = j0 >> 2, nb = ((j0 + n - 1) >> 2) - q0 + 1;
  const uint32_t c2 = static_cast<uint32_t>(key), c3 = static_cast<uint32_t>(key >> 32);
  const uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  if (std::strcmp(isa(), "avx2") == 0 && use_avx512()) {
    avx512::dare_words(static_cast<uint32_t>(q0), nb, model, c2, c3, k0, k1, words);
  } else {
    Scratch w;
    philox_words_generic(static_cast<uint32_t>(q0), nb, model, c2, c3, k0, k1, w, words);
  }
}

void dare_mask_bits(uint32_t model, uint64_t key, uint64_t seed, uint32_t threshold, int64_t n, uint32_t* bits) {
  if (n <= 0) return;
  const bool avx2 = std::strcmp(isa(), "avx2") == 0;
  const Ctx c{1,         nullptr, &key, nullptr, nullptr, static_cast<int32_t>(model) + 1, nullptr, nullptr, threshold,
              static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), false, avx2, avx2 && use_avx512(), false};
  // parts of whole tiles (kTile is a multiple of 64), so no two threads write one word
  const int64_t tiles = (n + kTile - 1) / kTile;
  parallel_ranges(tiles, kMinPerThread / kTile, std::max(1, cpu_threads()), [&](int32_t, int64_t lo, int64_t hi) {
    Scratch w;
    const Upcoming none;
    uint8_t* bytes = reinterpret_cast<uint8_t*>(bits);
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t j0 = q * kTile, len = std::min(kTile, n - j0);
      const int64_t words = (len + 31) / 32;
      if (c.avx512) {
        keep_bits(c, static_cast<int32_t>(model), 0, j0, len, w, none);  // from bit 0: j0 is a multiple of 4
        std::memcpy(bits + j0 / 32, w.bits.data(), static_cast<size_t>(words) * sizeof(uint32_t));
        if ((len & 31) != 0) bits[j0 / 32 + words - 1] &= (1u << (len & 31)) - 1u;
      } else {
        const uint32_t* keep = keep_mask(c, static_cast<int32_t>(model), 0, j0, len, w, none);
        std::memset(bits + j0 / 32, 0, static_cast<size_t>(words) * sizeof(uint32_t));
        if (avx2) {
          avx2::dare_pack_keep(keep, len, bytes, j0);
        } else {
          generic::dare_pack_keep(keep, len, bytes, j0);
        }
      }
    }
  });
}

}  // namespace mt::cpu
