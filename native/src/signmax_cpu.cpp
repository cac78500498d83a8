// K3 on the CPU: the sign-consistent max merge (unify) and the expert rebuild (decouple), fp32 with double sums.
//
// Unify cuts every segment into chunks of kChunk elements (starting at multiples of 32 inside the segment, so a
// mask word never straddles two chunks); the threads of parallel_ranges take the chunks whose flat start falls in
// their share. A chunk runs in L1/L2-sized tiles of kTile elements: the task inputs of a tile are read from
// memory once and then revisited from cache, so the pass moves (T [+1 with θ0])·4 bytes in, 4 bytes of U and T
// bits of masks out per element. Per tile:
//
//   1. sum_k   = Σ_i δ^i_k in double, i in order (δ = input − θ0 in fp32 when θ0 is given)
//   2. flag_k  = sum_k > 0 ? +1 : −1     (a NaN sum, from a NaN delta, gives −1; MT_CHECK_FINITE catches it)
//   3. per task: a = δ·flag (exact); M = a > 0; umax = max(umax, M ? a : 0); Σ|δ|; the mask bits packed
//   4. U_k     = flag > 0 ? umax : 0 − umax  (+0, never −0, where no task agrees)
//   5. per task: Σ M·|U|
//
// The double sums go into 8 lanes per task (lane = element mod 8, so the loops vectorise without reassociation),
// the lanes are folded in order into one partial per (chunk, task), and the partials of a segment are added in
// chunk order. Chunks are fixed by the segment lengths alone, so the sums do not depend on the thread count.
//
// MT_CHECK_FINITE costs nothing extra: a double sum of fp32 values is non-finite exactly when one of them is, so
// only the tile's sums are tested, and a hit is then located (and its culprit named) from the intact inputs.
//
// On AVX2 CPUs a tile runs in signmax_cpu_avx2.cpp instead: the same operations in the same order, bit for bit,
// with a U of kStreamBytes or more written past the cache (non-temporal stores).
//
// Decouple is elementwise (out = bit ? θ0 + λ·U : θ0), split over the flat range; each tile is computed into a
// local buffer and checked before it is stored, so out may alias θ0 and a bad element's inputs stay readable.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu_isa.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"
#include "signmax_cpu_isa.h"
#include "signmax_internal.h"

namespace mt::cpu {

namespace {

constexpr int64_t kChunk = int64_t{1} << 16;  // elements per unify chunk (a multiple of 32)
constexpr int64_t kTile = kSignmaxTile;       // elements per tile (a multiple of 32)
constexpr int64_t kWordsPerTile = kTile / 32;
constexpr int kLanes = kSignmaxLanes;
constexpr int64_t kMinPerThread = int64_t{1} << 17;

inline bool finite_d(double v) { return std::fabs(v) <= DBL_MAX; }
inline bool finite_f(float v) { return std::fabs(v) <= FLT_MAX; }

struct Chunk {
  int64_t segment;
  int64_t start;  // inside the segment, a multiple of kChunk
  int64_t flat;   // start in the concatenation of all segments
  int64_t len;
};

struct FirstBad {
  int64_t segment = -1;
  int64_t element = -1;
};

// 8 bytes of 0/1 (byte b = element b) to 8 bits (bit b = element b): each byte b times 2^(7−m) lands on bit
// 56 + b exactly when b + m = 7, and no two partial products share a bit, so nothing carries.
inline uint32_t pack8(const uint8_t* p) {
  uint64_t x;
  std::memcpy(&x, p, sizeof(x));
  return static_cast<uint32_t>((x * 0x0102040810204080ull) >> 56);
}

// on ? v : +0.0f (on is 0 or 1), as a bit mask: GCC vectorises it, where the select of a float it leaves scalar.
inline float keep_if(float v, uint8_t on) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  bits &= 0u - on;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// Everything one thread needs for the tiles of its chunks.
struct UnifyTile {
  int32_t n_tasks;
  bool has_theta0;
  bool avx2;
  bool stream;                    // AVX2 and a U of kStreamBytes or more: non-temporal stores
  std::vector<double> sum;        // kTile (portable)
  std::vector<float> sign, umax;  // kTile
  std::vector<float> delta;       // kTile: δ of one task when θ0 is given (portable)
  std::vector<float> masked;      // kTile: M·umax of one task (portable)
  std::vector<uint8_t> agree;     // n_tasks · kTile (portable)
  std::vector<uint32_t> words;    // n_tasks · kWordsPerTile (AVX2)
  std::vector<double> lanes_abs, lanes_masked;  // n_tasks · kLanes

  UnifyTile(int32_t tasks, bool theta0, bool use_avx2, bool use_stream)
      : n_tasks(tasks), has_theta0(theta0), avx2(use_avx2), stream(use_stream), sum(use_avx2 ? 0 : kTile), sign(kTile), umax(kTile),
        delta(theta0 && !use_avx2 ? kTile : 0), masked(use_avx2 ? 0 : kTile), agree(use_avx2 ? 0 : static_cast<size_t>(tasks) * kTile),
        words(use_avx2 ? static_cast<size_t>(tasks) * kWordsPerTile : 0),
        lanes_abs(static_cast<size_t>(tasks) * kLanes), lanes_masked(static_cast<size_t>(tasks) * kLanes) {}

  // δ of task i over [0, n) of the tile: the input itself, or input − θ0 in the scratch buffer.
  const float* deltas(const float* x, const float* z, int64_t n) {
    if (!has_theta0) return x;
    float* d = delta.data();
    for (int64_t k = 0; k < n; ++k) d[k] = x[k] - z[k];
    return d;
  }

  // Elements [0, n) of a tile; x[i] / z point at its first element, u and m[i] at its U and first mask word.
  // Returns the index of the first element whose delta sum is non-finite (only when `check`), or -1.
  int64_t run(const float* const* x, const float* z, float* __restrict__ u, uint32_t* const* m, int64_t n,
              bool check, bool sums) {
    if (avx2) {
      return avx2::signmax_unify_tile(n_tasks, x, z, u, m, n, check, stream, sums ? lanes_abs.data() : nullptr,
                                      sums ? lanes_masked.data() : nullptr, sign.data(), umax.data(), words.data());
    }
    double* __restrict__ s = sum.data();
    float* __restrict__ sg = sign.data();
    float* __restrict__ mx = umax.data();
    for (int64_t k = 0; k < n; ++k) s[k] = 0.0;
    for (int32_t i = 0; i < n_tasks; ++i) {
      const float* d = deltas(x[i], z, n);
      for (int64_t k = 0; k < n; ++k) s[k] += static_cast<double>(d[k]);
    }
    if (check) {
      int bad = 0;
      for (int64_t k = 0; k < n; ++k) bad |= !(std::fabs(s[k]) <= DBL_MAX);
      if (bad) {
        for (int64_t k = 0; k < n; ++k) {
          if (!finite_d(s[k])) return k;
        }
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      sg[k] = s[k] > 0.0 ? 1.0f : -1.0f;
      mx[k] = 0.0f;
    }
    const int64_t words = (n + 31) / 32;
    for (int32_t i = 0; i < n_tasks; ++i) {
      const float* d = deltas(x[i], z, n);
      uint8_t* ag = agree.data() + static_cast<size_t>(i) * kTile;
      for (int64_t k = 0; k < n; ++k) {
        const float a = d[k] * sg[k];  // exact: |a| = |δ|, a > 0 exactly when δ·flag > 0
        const bool on = a > 0.0f;
        ag[k] = on;
        const float v = on ? a : 0.0f;
        mx[k] = mx[k] > v ? mx[k] : v;
      }
      for (int64_t k = n; k < words * 32; ++k) ag[k] = 0;  // unused high bits of the last word are 0
      uint32_t* mw = m[i];
      for (int64_t w = 0; w < words; ++w) {
        const uint8_t* b = ag + 32 * w;
        mw[w] = pack8(b) | pack8(b + 8) << 8 | pack8(b + 16) << 16 | pack8(b + 24) << 24;
      }
      if (sums) {
        double* la = lanes_abs.data() + static_cast<size_t>(i) * kLanes;
        double acc[kLanes];
        for (int q = 0; q < kLanes; ++q) acc[q] = la[q];
        int64_t k = 0;
        for (; k + kLanes <= n; k += kLanes) {
          for (int q = 0; q < kLanes; ++q) acc[q] += std::fabs(static_cast<double>(d[k + q]));
        }
        for (; k < n; ++k) acc[k % kLanes] += std::fabs(static_cast<double>(d[k]));
        for (int q = 0; q < kLanes; ++q) la[q] = acc[q];
      }
    }
    // U = flag > 0 ? umax : 0 − umax, written as flag·umax + 0 so that it vectorises: flag is ±1, so the product
    // is exact (±umax), and umax is never −0 or NaN, so adding +0 changes only −0 into +0, as 0 − (+0) gives.
    for (int64_t k = 0; k < n; ++k) u[k] = sg[k] * mx[k] + 0.0f;
    if (sums) {
      for (int32_t i = 0; i < n_tasks; ++i) {
        const uint8_t* __restrict__ ag = agree.data() + static_cast<size_t>(i) * kTile;
        float* __restrict__ v = masked.data();
        for (int64_t k = 0; k < n; ++k) v[k] = keep_if(mx[k], ag[k]);  // M ? umax : +0
        double* lm = lanes_masked.data() + static_cast<size_t>(i) * kLanes;
        double acc[kLanes];
        for (int q = 0; q < kLanes; ++q) acc[q] = lm[q];
        int64_t k = 0;
        for (; k + kLanes <= n; k += kLanes) {
          for (int q = 0; q < kLanes; ++q) acc[q] += static_cast<double>(v[k + q]);
        }
        for (; k < n; ++k) acc[k % kLanes] += static_cast<double>(v[k]);
        for (int q = 0; q < kLanes; ++q) lm[q] = acc[q];
      }
    }
    return -1;
  }
};

// The unify pass over one chunk; on a non-finite element fills *bad and returns false.
bool unify_chunk(const Chunk& c, int64_t n_segments, const float* const* theta0, int32_t n_tasks,
                 const float* const* inputs, float* const* unified, uint32_t* const* masks, bool check,
                 double* partial_abs, double* partial_masked, UnifyTile& tile, std::vector<const float*>& x,
                 std::vector<uint32_t*>& m, FirstBad* bad) {
  const bool sums = partial_abs != nullptr;
  std::fill(tile.lanes_abs.begin(), tile.lanes_abs.end(), 0.0);
  std::fill(tile.lanes_masked.begin(), tile.lanes_masked.end(), 0.0);
  const int64_t s = c.segment;
  for (int64_t t = c.start; t < c.start + c.len; t += kTile) {
    const int64_t n = std::min(kTile, c.start + c.len - t);
    for (int32_t i = 0; i < n_tasks; ++i) {
      x[i] = inputs[i * n_segments + s] + t;
      m[i] = masks[i * n_segments + s] + t / 32;
    }
    const float* z = theta0 != nullptr ? theta0[s] + t : nullptr;
    const int64_t k = tile.run(x.data(), z, unified[s] + t, m.data(), n, check, sums);
    if (k >= 0) {
      bad->segment = s;
      bad->element = t + k;
      return false;
    }
  }
  if (sums) {
    for (int32_t i = 0; i < n_tasks; ++i) {
      double a = 0.0, b = 0.0;
      for (int q = 0; q < kLanes; ++q) {
        a += tile.lanes_abs[static_cast<size_t>(i) * kLanes + q];
        b += tile.lanes_masked[static_cast<size_t>(i) * kLanes + q];
      }
      partial_abs[i] = a;
      partial_masked[i] = b;
    }
  }
  return true;
}

const uint32_t kBit[32] = {1u << 0,  1u << 1,  1u << 2,  1u << 3,  1u << 4,  1u << 5,  1u << 6,  1u << 7,
                           1u << 8,  1u << 9,  1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15,
                           1u << 16, 1u << 17, 1u << 18, 1u << 19, 1u << 20, 1u << 21, 1u << 22, 1u << 23,
                           1u << 24, 1u << 25, 1u << 26, 1u << 27, 1u << 28, 1u << 29, 1u << 30, 1u << 31};

// Decouple over elements [lo, hi) of one segment, tile by tile; returns the first bad element (segment-relative)
// or -1.
int64_t decouple_run(float* out, const float* z, const float* u, const uint32_t* m, float lambda, int64_t lo,
                     int64_t hi, bool check) {
  alignas(64) float r[kTile + 32];
  for (int64_t t = lo; t < hi; t += kTile) {
    const int64_t end = std::min(hi, t + kTile);
    // Word by word: full words take a fixed 32-step loop (vectorised), partial ones at the ends a short one.
    for (int64_t w0 = t & ~int64_t{31}; w0 < end; w0 += 32) {
      const uint32_t word = m[w0 / 32];
      const int64_t b0 = std::max(t, w0) - w0, b1 = std::min(end, w0 + 32) - w0;
      float* rr = r + (w0 - t);  // r[j − t] for element j = w0 + b
      const float* zz = z + w0;
      const float* uu = u + w0;
      if (b0 == 0 && b1 == 32) {
        for (int b = 0; b < 32; ++b) {
          const float scaled = lambda * uu[b];
          rr[b] = (word & kBit[b]) != 0 ? zz[b] + scaled : zz[b];
        }
      } else {
        for (int64_t b = b0; b < b1; ++b) rr[b] = signmax_decouple_one(zz[b], uu[b], (word >> b) & 1u, lambda);
      }
    }
    const int64_t n = end - t;
    if (check) {
      int bad = 0;
      for (int64_t k = 0; k < n; ++k) bad |= !finite_f(z[t + k]) | !finite_f(u[t + k]) | !finite_f(r[k]);
      if (bad) {
        for (int64_t k = 0; k < n; ++k) {
          if (!finite_f(z[t + k]) || !finite_f(u[t + k]) || !finite_f(r[k])) return t + k;
        }
      }
    }
    std::memcpy(out + t, r, static_cast<size_t>(n) * sizeof(float));
  }
  return -1;
}

}  // namespace

mt_status signmax_unify_f32(int64_t n_segments, const int64_t* lengths, const float* const* theta0, int32_t n_tasks,
                            const float* const* inputs, float* const* unified, uint32_t* const* masks,
                            double* sum_abs_delta, double* sum_abs_masked, int32_t flags) {
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const bool sums = sum_abs_delta != nullptr || sum_abs_masked != nullptr;
  std::vector<Chunk> chunks;
  std::vector<int64_t> first_chunk(n_segments + 1, 0);  // chunks of segment s: [first_chunk[s], first_chunk[s+1])
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    first_chunk[s] = static_cast<int64_t>(chunks.size());
    for (int64_t at = 0; at < lengths[s]; at += kChunk) {
      chunks.push_back(Chunk{s, at, total + at, std::min(kChunk, lengths[s] - at)});
    }
    total += lengths[s];
  }
  first_chunk[n_segments] = static_cast<int64_t>(chunks.size());
  const size_t T = static_cast<size_t>(n_tasks);
  std::vector<double> partial_abs(sums ? chunks.size() * T : 0), partial_masked(sums ? chunks.size() * T : 0);
  const int32_t threads = std::max(1, cpu_threads());
  const bool avx2 = std::strcmp(isa(), "avx2") == 0;
  const bool stream = avx2 && total * static_cast<int64_t>(sizeof(float)) >= kStreamBytes;
  std::vector<FirstBad> first_bad(threads);

  parallel_ranges(total, kMinPerThread, threads, [&](int32_t part, int64_t begin, int64_t end) {
    auto by_flat = [](const Chunk& c, int64_t v) { return c.flat < v; };
    const size_t c0 = std::lower_bound(chunks.begin(), chunks.end(), begin, by_flat) - chunks.begin();
    const size_t c1 = std::lower_bound(chunks.begin(), chunks.end(), end, by_flat) - chunks.begin();
    if (c0 >= c1) return;
    UnifyTile tile(n_tasks, theta0 != nullptr, avx2, stream);
    std::vector<const float*> x(T);
    std::vector<uint32_t*> m(T);
    for (size_t c = c0; c < c1; ++c) {
      if (!unify_chunk(chunks[c], n_segments, theta0, n_tasks, inputs, unified, masks, check,
                       sums ? &partial_abs[c * T] : nullptr, sums ? &partial_masked[c * T] : nullptr, tile, x, m,
                       &first_bad[part])) {
        break;
      }
    }
    if (stream) avx2::store_fence();  // streamed stores are weakly ordered: publish them before the join
  });

  for (const FirstBad& fb : first_bad) {  // parts are in flat order, so the first hit is the lowest index
    if (fb.segment < 0) continue;
    std::vector<float> values(T);
    for (int32_t i = 0; i < n_tasks; ++i) values[i] = inputs[i * n_segments + fb.segment][fb.element];
    const float z = theta0 != nullptr ? theta0[fb.segment][fb.element] : 0.0f;
    return report_signmax_unify(fb.segment, fb.element, theta0 != nullptr, z, values.data(), n_tasks);
  }
  if (sums) {
    for (int32_t i = 0; i < n_tasks; ++i) {
      for (int64_t s = 0; s < n_segments; ++s) {
        double a = 0.0, b = 0.0;
        for (int64_t c = first_chunk[s]; c < first_chunk[s + 1]; ++c) {
          a += partial_abs[static_cast<size_t>(c) * T + i];
          b += partial_masked[static_cast<size_t>(c) * T + i];
        }
        if (sum_abs_delta != nullptr) sum_abs_delta[i * n_segments + s] = a;
        if (sum_abs_masked != nullptr) sum_abs_masked[i * n_segments + s] = b;
      }
    }
  }
  return MT_OK;
}

mt_status signmax_decouple_f32(int64_t n_segments, const int64_t* lengths, float* const* out,
                               const float* const* theta0, const float* const* unified, const uint32_t* const* mask,
                               float lambda, int32_t flags) {
  std::vector<int64_t> starts(n_segments + 1, 0);
  for (int64_t s = 0; s < n_segments; ++s) starts[s + 1] = starts[s] + lengths[s];
  const int64_t total = starts[n_segments];
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const int32_t threads = std::max(1, cpu_threads());
  std::vector<FirstBad> first_bad(threads);

  parallel_ranges(total, kMinPerThread, threads, [&](int32_t part, int64_t begin, int64_t end) {
    int64_t s = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (int64_t pos = begin; pos < end; ++s) {
      const int64_t lo = pos - starts[s], hi = std::min(end, starts[s + 1]) - starts[s];
      if (hi <= lo) continue;  // empty segment
      const int64_t bad = decouple_run(out[s], theta0[s], unified[s], mask[s], lambda, lo, hi, check);
      if (bad >= 0) {
        first_bad[part] = FirstBad{s, bad};
        return;
      }
      pos = starts[s] + hi;
    }
  });

  for (const FirstBad& fb : first_bad) {
    if (fb.segment < 0) continue;
    const int64_t s = fb.segment, e = fb.element;
    return report_signmax_decouple(s, e, theta0[s][e], unified[s][e], (mask[s][e / 32] >> (e % 32)) & 1u, lambda);
  }
  return MT_OK;
}

}  // namespace mt::cpu
