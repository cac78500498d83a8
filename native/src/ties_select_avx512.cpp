// The AVX-512 twin of the per-segment trim's window scan (ties_cpu_isa.h, generic twin in ties_select_cpu.cpp):
// 16 elements per step, the in-window lanes compressed into the candidate arrays. δ = m − b is the same fp32
// subtraction in every lane, and the rest is integer work, so both twins write the same candidates and counts.
// Called only where cpu::use_avx512() holds (cmake: -mavx512f/bw/dq/vl -mpopcnt).
#include <immintrin.h>

#include <cstdint>

#include "ties_cpu_isa.h"

namespace mt::cpu::avx512 {

int64_t ties_window_scan(const float* m, const float* b, int64_t n, uint32_t lo, uint32_t hi, uint32_t* idx,
                         uint32_t* pat, int64_t* above, uint32_t* worst) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), vlo = _mm512_set1_epi32(static_cast<int>(lo));
  const __m512i vhi = _mm512_set1_epi32(static_cast<int>(hi));
  const __m512i vspan = _mm512_set1_epi32(static_cast<int>(hi - lo)), step = _mm512_set1_epi32(16);
  __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i big = _mm512_setzero_si512();
  int64_t up = 0, c = 0;
  for (int64_t j = 0; j < n; j += 16) {
    const int64_t left = n - j;
    const __mmask16 live = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
    __m512 x = _mm512_maskz_loadu_ps(live, m + j);
    if (b != nullptr) x = _mm512_sub_ps(x, _mm512_maskz_loadu_ps(live, b + j));
    const __m512i a = _mm512_and_si512(_mm512_castps_si512(x), abs_mask);  // dead lanes: +0
    big = _mm512_max_epu32(big, a);
    up += _mm_popcnt_u32(_mm512_mask_cmpgt_epu32_mask(live, a, vhi));
    const __mmask16 in = _mm512_mask_cmple_epu32_mask(live, _mm512_sub_epi32(a, vlo), vspan);
    if (in != 0) {
      _mm512_storeu_si512(idx + c, _mm512_maskz_compress_epi32(in, lane));
      _mm512_storeu_si512(pat + c, _mm512_maskz_compress_epi32(in, a));
      c += _mm_popcnt_u32(in);
    }
    lane = _mm512_add_epi32(lane, step);
  }
  const uint32_t w = _mm512_reduce_max_epu32(big);
  if (w > *worst) *worst = w;
  *above += up;
  return c;
}

}  // namespace mt::cpu::avx512
