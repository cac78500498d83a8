// K4a's fused CPU pass for AVX2 machines (this file alone is compiled with -mavx2; interp_cpu.cpp calls it only
// after checking the CPU at run time).
//
//     out[j] = base[j] + Σ_i λ_i·(m_i[j] − base[j])
//
// The same operations in the same order as the generic path and the CUDA kernel — subtract, multiply, add, each
// rounded, no FMA — so all three agree bit for bit. Eight floats per step; with `stream`, the output is written
// with non-temporal stores after a scalar head that aligns it to 32 bytes.
#include <immintrin.h>

#include <cfloat>
#include <cstdint>

#include "interp_cpu_isa.h"

// No inline functions from library headers here (min, isfinite, ...): their out-of-line copies from this
// -mavx2 file could be the ones the linker keeps for the whole library, and break pre-AVX2 machines.
namespace mt::cpu::avx2 {

namespace {

inline bool finite(float v) { return __builtin_fabsf(v) <= FLT_MAX; }
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

template <int N>
inline float scalar_one(const float* base, const float* const* m, const float* l, int64_t k) {
  const float b = base[k];
  float acc = b;
  for (int i = 0; i < N; ++i) acc += l[i] * (m[i][k] - b);
  return acc;
}

template <int N>
int64_t first_bad(const float* out, const float* base, const float* const* m, int64_t from, int64_t to,
                  float* bad_base, float* bad_models) {
  for (int64_t k = from; k < to; ++k) {
    if (finite(out[k])) continue;
    *bad_base = base[k];
    for (int i = 0; i < N; ++i) bad_models[i] = m[i][k];
    return k;
  }
  return -1;
}

template <int N, bool kStream>
int64_t fused(float* out, const float* base, const float* const* models, const float* lambdas, int64_t n,
              bool check, float* bad_base, float* bad_models) {
  const float* m[N > 0 ? N : 1];
  float l[N > 0 ? N : 1];
  __m256 lv[N > 0 ? N : 1];
  for (int i = 0; i < N; ++i) {
    m[i] = models[i];
    l[i] = lambdas[i];
    lv[i] = _mm256_set1_ps(lambdas[i]);
  }
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 max_finite = _mm256_set1_ps(FLT_MAX);

  // Scalar head: up to the first 32-byte-aligned output element when streaming.
  int64_t head = 0;
  if (kStream) {
    const uintptr_t misalign = reinterpret_cast<uintptr_t>(out) & 31;
    head = misalign == 0 || (misalign & 3) != 0 ? 0 : min64(n, static_cast<int64_t>((32 - misalign) / 4));
  }
  bool bad = false;
  for (int64_t k = 0; k < head; ++k) {
    out[k] = scalar_one<N>(base, m, l, k);
    bad |= !finite(out[k]);
  }
  if (check && bad) return first_bad<N>(out, base, m, 0, head, bad_base, bad_models);
  const bool aligned = (reinterpret_cast<uintptr_t>(out + head) & 31) == 0;

  for (int64_t t = head; t < n; t += kTile) {
    const int64_t end = min64(n, t + kTile);
    const int64_t vec_end = t + ((end - t) & ~int64_t{7});
    __m256 ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    for (int64_t k = t; k < vec_end; k += 8) {
      const __m256 b = _mm256_loadu_ps(base + k);
      __m256 acc = b;
      for (int i = 0; i < N; ++i) {
        acc = _mm256_add_ps(acc, _mm256_mul_ps(lv[i], _mm256_sub_ps(_mm256_loadu_ps(m[i] + k), b)));
      }
      ok = _mm256_and_ps(ok, _mm256_cmp_ps(_mm256_and_ps(acc, abs_mask), max_finite, _CMP_LE_OQ));
      if (kStream && aligned) {
        _mm256_stream_ps(out + k, acc);
      } else {
        _mm256_storeu_ps(out + k, acc);
      }
    }
    bool tile_bad = _mm256_movemask_ps(ok) != 0xff;
    for (int64_t k = vec_end; k < end; ++k) {
      out[k] = scalar_one<N>(base, m, l, k);
      tile_bad |= !finite(out[k]);
    }
    if (check && tile_bad) {
      if (kStream) _mm_sfence();
      return first_bad<N>(out, base, m, t, end, bad_base, bad_models);
    }
  }
  if (kStream) _mm_sfence();  // streamed stores are weakly ordered: publish them before the caller joins
  return -1;
}

template <int N>
int64_t dispatch_stream(float* out, const float* base, const float* const* models, const float* lambdas, int64_t n,
                        bool check, bool stream, float* bad_base, float* bad_models) {
  return stream ? fused<N, true>(out, base, models, lambdas, n, check, bad_base, bad_models)
                : fused<N, false>(out, base, models, lambdas, n, check, bad_base, bad_models);
}

}  // namespace

void store_fence() { _mm_sfence(); }

int64_t fused_run(int32_t n_models, float* out, const float* base, const float* const* models, const float* lambdas,
                  int64_t n, bool check, bool stream, float* bad_base, float* bad_models) {
  switch (n_models) {
    case 0: return dispatch_stream<0>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 1: return dispatch_stream<1>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 2: return dispatch_stream<2>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 3: return dispatch_stream<3>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 4: return dispatch_stream<4>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 5: return dispatch_stream<5>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 6: return dispatch_stream<6>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 7: return dispatch_stream<7>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    case 8: return dispatch_stream<8>(out, base, models, lambdas, n, check, stream, bad_base, bad_models);
    default: return -2;  // not reached: the caller only sends n_models <= kMaxFused
  }
}

}  // namespace mt::cpu::avx2
