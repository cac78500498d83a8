// K3 unify's tile for AVX2 machines (this file alone is compiled with -mavx2; signmax_cpu.cpp calls it only after
// checking the CPU at run time). The same four steps as the portable tile, in the same order, eight elements a
// step:
//
//   1. per 8 elements: the double sums over the tasks (i in order, from +0.0, as two 4-lane halves), their
//      finiteness, and the flag ±1.0f;
//   2. per task: a = δ·flag, M = a > 0 (one movemask gives 8 mask bits, four of them a word), umax, and Σ|δ|
//      into the task's 8 double lanes (lane = element mod 8: the low half of an 8-float step is lanes 0–3);
//   3. U = flag > 0 ? umax : 0 − umax;
//   4. per task: Σ M·umax into its 8 lanes, M expanded back from the word.
//
// Every element sees exactly the portable path's operations (each rounded, no FMA), and every lane adds the same
// values in the same element order; the elements after the last full 8 of a tile go through scalar code written
// as the portable loop is. So U, masks and sums are bit-identical (tests/test_isa_twins.cpp compares them).
#include <immintrin.h>

#include <cfloat>
#include <cstdint>

#include "signmax_cpu_isa.h"

// No inline functions from library headers here (min, fabs, vector, ...): their out-of-line copies from this
// -mavx2 file could be the ones the linker keeps for the whole library, and break pre-AVX2 machines.
namespace mt::cpu::avx2 {

namespace {

constexpr int kLanes = kSignmaxLanes;
constexpr int kMaxBlock = 4;  // tasks per step-4 pass

template <bool kTheta0>
inline __m256 delta8(const float* x, const float* z, int64_t k) {
  const __m256 v = _mm256_loadu_ps(x + k);
  return kTheta0 ? _mm256_sub_ps(v, _mm256_loadu_ps(z + k)) : v;
}

template <bool kTheta0>
inline float delta1(const float* x, const float* z, int64_t k) {
  return kTheta0 ? x[k] - z[k] : x[k];
}

inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

inline bool finite_d(double v) { return __builtin_fabs(v) <= DBL_MAX; }

// The double sum of element k over the tasks, as the portable path forms it.
template <bool kTheta0>
inline double sum1(int32_t n_tasks, const float* const* x, const float* z, int64_t k) {
  double s = 0.0;
  for (int32_t i = 0; i < n_tasks; ++i) s += static_cast<double>(delta1<kTheta0>(x[i], z, k));
  return s;
}

// The sums of one 8-element step over the tasks (lo: elements 0–3, hi: 4–7), one add chain per element.
template <bool kTheta0, int kSteps>
inline void sums8(int32_t n_tasks, const float* const* x, const float* z, int64_t k, __m256d* lo, __m256d* hi) {
  for (int g = 0; g < kSteps; ++g) lo[g] = hi[g] = _mm256_setzero_pd();
  for (int32_t i = 0; i < n_tasks; ++i) {
    for (int g = 0; g < kSteps; ++g) {  // kSteps independent chains hide the add latency
      const __m256 d = delta8<kTheta0>(x[i], z, k + 8 * g);
      lo[g] = _mm256_add_pd(lo[g], lo_pd(d));
      hi[g] = _mm256_add_pd(hi[g], hi_pd(d));
    }
  }
}

// Flags of one 8-element step from its sums; accumulates their finiteness into ok.
inline void flags8(__m256d lo, __m256d hi, float* sg, __m256d& ok) {
  const __m256d abs_d = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  const __m256d max_d = _mm256_set1_pd(DBL_MAX);
  const __m256d zero_d = _mm256_setzero_pd();
  ok = _mm256_and_pd(ok, _mm256_and_pd(_mm256_cmp_pd(_mm256_and_pd(lo, abs_d), max_d, _CMP_LE_OQ),
                                       _mm256_cmp_pd(_mm256_and_pd(hi, abs_d), max_d, _CMP_LE_OQ)));
  // Two 4 × 64-bit compare masks to one 8 × 32-bit mask in element order.
  const __m256 plo = _mm256_castpd_ps(_mm256_cmp_pd(lo, zero_d, _CMP_GT_OQ));
  const __m256 phi = _mm256_castpd_ps(_mm256_cmp_pd(hi, zero_d, _CMP_GT_OQ));
  const __m256 mixed = _mm256_shuffle_ps(plo, phi, _MM_SHUFFLE(2, 0, 2, 0));  // l0 l1 h0 h1 | l2 l3 h2 h3
  const __m256 pos = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
  _mm256_storeu_ps(sg, _mm256_blendv_ps(_mm256_set1_ps(-1.0f), _mm256_set1_ps(1.0f), pos));
}

// Step 1: sg[k] = ±1.0f; returns the first element with a non-finite sum (only with `check`), or -1.
template <bool kTheta0>
int64_t signs(int32_t n_tasks, const float* const* x, const float* z, int64_t n, bool check, float* sg) {
  __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  __m256d lo[4], hi[4];
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    for (int32_t i = 0; i < n_tasks; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(x[i] + k + kSignmaxTile), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(x[i] + k + kSignmaxTile + 16), _MM_HINT_T1);
    }
    if (kTheta0) {
      _mm_prefetch(reinterpret_cast<const char*>(z + k + kSignmaxTile), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(z + k + kSignmaxTile + 16), _MM_HINT_T1);
    }
    sums8<kTheta0, 4>(n_tasks, x, z, k, lo, hi);
    for (int g = 0; g < 4; ++g) flags8(lo[g], hi[g], sg + k + 8 * g, ok);
  }
  for (; k + 8 <= n; k += 8) {
    sums8<kTheta0, 1>(n_tasks, x, z, k, lo, hi);
    flags8(lo[0], hi[0], sg + k, ok);
  }
  bool bad = _mm256_movemask_pd(ok) != 0xf;
  for (; k < n; ++k) {
    const double s = sum1<kTheta0>(n_tasks, x, z, k);
    bad |= !finite_d(s);
    sg[k] = s > 0.0 ? 1.0f : -1.0f;
  }
  if (check && bad) {
    for (int64_t j = 0; j < n; ++j) {
      if (!finite_d(sum1<kTheta0>(n_tasks, x, z, j))) return j;
    }
  }
  return -1;
}

// Step 2 for one 8-element step of kTasks tasks (x[t], lanes alo[t] / ahi[t]): updates mx, adds |δ| to the
// lanes, ors the 8 mask bits of task t, shifted by `shift`, into bits[t].
template <bool kTheta0, bool kSums, int kTasks>
inline void task8(const float* const* x, const float* z, const float* sg, float* mx, int64_t k, int shift,
                  __m256d* alo, __m256d* ahi, uint32_t* bits) {
  const __m256 abs_f = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 f = _mm256_loadu_ps(sg + k);
  __m256 umax = _mm256_loadu_ps(mx + k);
  for (int t = 0; t < kTasks; ++t) {  // tasks in order: umax sees them as the portable path does
    const __m256 d = delta8<kTheta0>(x[t], z, k);
    const __m256 a = _mm256_mul_ps(d, f);  // exact: |a| = |δ|
    const __m256 on = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GT_OQ);
    umax = _mm256_max_ps(umax, _mm256_and_ps(on, a));  // max_ps(p, q) is p > q ? p : q
    if (kSums) {
      const __m256 ad = _mm256_and_ps(d, abs_f);  // (double)|δ| == |(double)δ|
      alo[t] = _mm256_add_pd(alo[t], lo_pd(ad));
      ahi[t] = _mm256_add_pd(ahi[t], hi_pd(ad));
    }
    bits[t] |= static_cast<uint32_t>(_mm256_movemask_ps(on)) << shift;
  }
  _mm256_storeu_ps(mx + k, umax);
}

// Step 2 for kTasks tasks over the tile (kTasks at a time: each has its own lane chains, so their add latencies
// overlap): mask words into mw[t] and words[t], umax into mx, Σ|δ| into la[t].
template <bool kTheta0, bool kSums, int kTasks>
void task_pass(const float* const* x, const float* z, const float* sg, float* mx, uint32_t* const* mw,
               uint32_t* const* words, int64_t n, double* const* la) {
  __m256d alo[kTasks], ahi[kTasks];
  for (int t = 0; t < kTasks; ++t) {
    alo[t] = kSums ? _mm256_loadu_pd(la[t]) : _mm256_setzero_pd();
    ahi[t] = kSums ? _mm256_loadu_pd(la[t] + 4) : _mm256_setzero_pd();
  }
  uint32_t bits[kTasks];
  const int64_t full = n & ~int64_t{31};
  for (int64_t w0 = 0; w0 < full; w0 += 32) {
    for (int t = 0; t < kTasks; ++t) bits[t] = 0;
    for (int g = 0; g < 4; ++g) task8<kTheta0, kSums, kTasks>(x, z, sg, mx, w0 + 8 * g, 8 * g, alo, ahi, bits);
    for (int t = 0; t < kTasks; ++t) {
      words[t][w0 / 32] = bits[t];
      mw[t][w0 / 32] = bits[t];
    }
  }
  if (full == n) {
    if (kSums) {
      for (int t = 0; t < kTasks; ++t) {
        _mm256_storeu_pd(la[t], alo[t]);
        _mm256_storeu_pd(la[t] + 4, ahi[t]);
      }
    }
    return;
  }
  // The last, partial word (its unused high bits stay 0).
  for (int t = 0; t < kTasks; ++t) bits[t] = 0;
  int64_t k = full;
  for (; k + 8 <= n; k += 8) task8<kTheta0, kSums, kTasks>(x, z, sg, mx, k, static_cast<int>(k - full), alo, ahi, bits);
  if (kSums) {
    for (int t = 0; t < kTasks; ++t) {
      _mm256_storeu_pd(la[t], alo[t]);
      _mm256_storeu_pd(la[t] + 4, ahi[t]);
    }
  }
  for (int t = 0; t < kTasks; ++t) {
    for (int64_t j = k; j < n; ++j) {
      const float d = delta1<kTheta0>(x[t], z, j);
      const float a = d * sg[j];
      const bool on = a > 0.0f;
      bits[t] |= static_cast<uint32_t>(on) << (j - full);
      const float v = on ? a : 0.0f;
      mx[j] = mx[j] > v ? mx[j] : v;
      if (kSums) la[t][j % kLanes] += __builtin_fabs(static_cast<double>(d));
    }
    words[t][full / 32] = bits[t];
    mw[t][full / 32] = bits[t];
  }
}

// Step 4 for kTasks tasks: Σ M·umax into lm[t]; umax is widened once and masked per task in double.
template <int kTasks>
void masked_pass(const uint32_t* const* words, const float* mx, int64_t n, double* const* lm) {
  const __m256i bit_lo = _mm256_setr_epi64x(1, 2, 4, 8), bit_hi = _mm256_setr_epi64x(16, 32, 64, 128);
  __m256d alo[kTasks], ahi[kTasks];
  for (int t = 0; t < kTasks; ++t) {
    alo[t] = _mm256_loadu_pd(lm[t]);
    ahi[t] = _mm256_loadu_pd(lm[t] + 4);
  }
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 v = _mm256_loadu_ps(mx + k);
    const __m256d vlo = lo_pd(v), vhi = hi_pd(v);
    for (int t = 0; t < kTasks; ++t) {
      const __m256i byte = _mm256_set1_epi64x(static_cast<long long>((words[t][k / 32] >> (k % 32)) & 0xffu));
      const __m256i on_lo = _mm256_cmpeq_epi64(_mm256_and_si256(byte, bit_lo), bit_lo);
      const __m256i on_hi = _mm256_cmpeq_epi64(_mm256_and_si256(byte, bit_hi), bit_hi);
      // M ? (double)umax : +0.0, which is (double)(M ? umax : 0.0f)
      alo[t] = _mm256_add_pd(alo[t], _mm256_and_pd(_mm256_castsi256_pd(on_lo), vlo));
      ahi[t] = _mm256_add_pd(ahi[t], _mm256_and_pd(_mm256_castsi256_pd(on_hi), vhi));
    }
  }
  for (int t = 0; t < kTasks; ++t) {
    _mm256_storeu_pd(lm[t], alo[t]);
    _mm256_storeu_pd(lm[t] + 4, ahi[t]);
    for (int64_t j = k; j < n; ++j) {
      const bool on = ((words[t][j / 32] >> (j % 32)) & 1u) != 0;
      lm[t][j % kLanes] += static_cast<double>(on ? mx[j] : 0.0f);
    }
  }
}

// Step 3 for elements 8 at a time from k.
inline __m256 unified8(const float* sg, const float* mx, int64_t k) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 v = _mm256_loadu_ps(mx + k);
  const __m256 pos = _mm256_cmp_ps(_mm256_loadu_ps(sg + k), zero, _CMP_GT_OQ);
  return _mm256_blendv_ps(_mm256_sub_ps(zero, v), v, pos);
}

template <bool kTheta0, bool kSums>
int64_t tile(int32_t n_tasks, const float* const* x, const float* z, float* u, uint32_t* const* m, int64_t n,
             bool check, bool stream, double* lanes_abs, double* lanes_masked, float* sg, float* mx, uint32_t* words) {
  const int64_t bad = signs<kTheta0>(n_tasks, x, z, n, check, sg);
  if (bad >= 0) return bad;
  for (int64_t k = 0; k < n; ++k) mx[k] = 0.0f;
  constexpr int64_t kWordsPerTask = kSignmaxTile / 32;
  constexpr int kBlock = 2;  // tasks per step-2 pass
  const uint32_t* wr[kMaxBlock];
  uint32_t* ww[kMaxBlock];
  double* la[kMaxBlock];
  for (int32_t i0 = 0; i0 < n_tasks; i0 += kBlock) {
    const int32_t nb = n_tasks - i0 < kBlock ? n_tasks - i0 : kBlock;
    for (int32_t t = 0; t < nb; ++t) {
      ww[t] = words + (i0 + t) * kWordsPerTask;
      la[t] = kSums ? lanes_abs + (i0 + t) * kLanes : nullptr;
    }
    if (nb == 2) {
      task_pass<kTheta0, kSums, 2>(x + i0, z, sg, mx, m + i0, ww, n, la);
    } else {
      task_pass<kTheta0, kSums, 1>(x + i0, z, sg, mx, m + i0, ww, n, la);
    }
  }
  int64_t k = 0;
  if (stream && (reinterpret_cast<uintptr_t>(u) & 3) == 0) {
    for (; k < n && (reinterpret_cast<uintptr_t>(u + k) & 31) != 0; ++k) u[k] = sg[k] > 0.0f ? mx[k] : 0.0f - mx[k];
    for (; k + 8 <= n; k += 8) _mm256_stream_ps(u + k, unified8(sg, mx, k));
  }
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(u + k, unified8(sg, mx, k));
  for (; k < n; ++k) u[k] = sg[k] > 0.0f ? mx[k] : 0.0f - mx[k];
  if (kSums) {
    for (int32_t i0 = 0; i0 < n_tasks; i0 += kMaxBlock) {
      const int32_t nb = n_tasks - i0 < kMaxBlock ? n_tasks - i0 : kMaxBlock;
      for (int32_t t = 0; t < nb; ++t) {
        wr[t] = words + (i0 + t) * kWordsPerTask;
        la[t] = lanes_masked + (i0 + t) * kLanes;
      }
      switch (nb) {
        case 4: masked_pass<4>(wr, mx, n, la); break;
        case 3: masked_pass<3>(wr, mx, n, la); break;
        case 2: masked_pass<2>(wr, mx, n, la); break;
        default: masked_pass<1>(wr, mx, n, la); break;
      }
    }
  }
  return -1;
}

}  // namespace

int64_t signmax_unify_tile(int32_t n_tasks, const float* const* x, const float* z, float* u, uint32_t* const* m,
                           int64_t n, bool check, bool stream, double* lanes_abs, double* lanes_masked, float* sign,
                           float* umax, uint32_t* words) {
  const bool sums = lanes_abs != nullptr;
  if (z != nullptr) {
    return sums ? tile<true, true>(n_tasks, x, z, u, m, n, check, stream, lanes_abs, lanes_masked, sign, umax, words)
                : tile<true, false>(n_tasks, x, z, u, m, n, check, stream, lanes_abs, lanes_masked, sign, umax, words);
  }
  return sums ? tile<false, true>(n_tasks, x, z, u, m, n, check, stream, lanes_abs, lanes_masked, sign, umax, words)
              : tile<false, false>(n_tasks, x, z, u, m, n, check, stream, lanes_abs, lanes_masked, sign, umax, words);
}

}  // namespace mt::cpu::avx2
