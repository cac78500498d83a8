// K4b's inner loops for AVX2 machines (this file alone is compiled with -mavx2; dare_cpu.cpp calls it only after
// checking the CPU at run time).
//
// Philox4x32-10, eight blocks at once: word w of blocks q .. q + 7 in one register (lane b = block q + b). A round
// needs the 64-bit products M0·c0 and M1·c2 of every lane: _mm256_mul_epu32 multiplies the even lanes, a second
// one the odd lanes shifted down, and two blends sort the high and low halves back into lanes. The first round
// multiplies the same c2 for every block, so its M1 product is taken once per call. The counter mapping is the
// one of philox.h / the CUDA kernel — (q, model, key lo, key hi), word w of block q deciding element 4q + w — so
// the masks stay bit-identical; a 4 × 8 transpose puts the 32 keep flags of 8 blocks into element order.
//
// The apply and L1 loops are the portable loops eight elements a step, with the same operations (each rounded, no
// FMA) and, for the sums, the same 8 double lanes (lane = element mod 8) filled in the same order.
#include <immintrin.h>

#include <cfloat>
#include <cstdint>

#include "dare_cpu_isa.h"

// No inline functions from library headers here (philox.h, dare_internal.h, min, fabs, ...): their out-of-line
// copies from this -mavx2 file could be the ones the linker keeps for the whole library, and break pre-AVX2
// machines. The Philox constants are repeated below for that reason (tests/test_dare.cpp checks the masks).
namespace mt::cpu::avx2 {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr int kGroups = 2;  // sets of 8 blocks in flight: hides the latency of a round's multiply chain

// hi and lo halves of the 32 × 32 → 64-bit products a·M, lane by lane (M broadcast).
inline void mulhilo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);                         // lanes 0, 2, 4, 6 as 64-bit products
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);  // lanes 1, 3, 5, 7
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

}  // namespace

void dare_keep_blocks(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                      uint32_t threshold, uint32_t* keep, const float* const pf[2], const int64_t pf_n[2]) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kM0)), m1 = _mm256_set1_epi32(static_cast<int>(kM1));
  // Round 1: c1, c2, c3 are the same for every block, so the new c0 and c1 are too.
  const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
  const __m256i first0 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0));
  const __m256i first1 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(p1)));
  const __m256i first_xor2 = _mm256_set1_epi32(static_cast<int>(c3 ^ k1));
  __m256i key0[kRounds], key1[kRounds];  // the round keys, broadcast
  for (int r = 0; r < kRounds; ++r) {
    key0[r] = _mm256_set1_epi32(static_cast<int>(k0 + static_cast<uint32_t>(r) * kW0));
    key1[r] = _mm256_set1_epi32(static_cast<int>(k1 + static_cast<uint32_t>(r) * kW1));
  }
  // keep ⟺ (w >> 8) >= threshold ⟺ (w >> 8) > threshold − 1, signed: both sides are in [−1, 2^24).
  const __m256i below = _mm256_set1_epi32(static_cast<int>(threshold) - 1);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i step = _mm256_set1_epi32(8 * kGroups);

  __m256i q = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(q0)), lane);  // wraps mod 2^32 as philox.h
  // Prefetch pacing: the requested lines spread evenly over the iterations, so the miss queue never fills.
  constexpr int64_t kLine = 64 / sizeof(float);
  const int64_t iterations = (nb + 8 * kGroups - 1) / (8 * kGroups);
  int64_t pf_at[2] = {0, 0}, pf_step[2];
  for (int r = 0; r < 2; ++r) {
    const int64_t lines = pf[r] != nullptr ? (pf_n[r] + kLine - 1) / kLine : 0;
    pf_step[r] = iterations > 0 ? (lines + iterations - 1) / iterations * kLine : 0;
  }
  for (int64_t b0 = 0; b0 < nb; b0 += 8 * kGroups) {
    for (int r = 0; r < 2; ++r) {
      for (int64_t end = pf_at[r] + pf_step[r]; pf_at[r] < end && pf_at[r] < pf_n[r]; pf_at[r] += kLine) {
        _mm_prefetch(reinterpret_cast<const char*>(pf[r] + pf_at[r]), _MM_HINT_T0);
      }
    }
    __m256i x0[kGroups], x1[kGroups], x2[kGroups], x3[kGroups];
    for (int g = 0; g < kGroups; ++g) {
      const __m256i c0 = _mm256_add_epi32(q, _mm256_set1_epi32(8 * g));
      __m256i hi, lo;
      mulhilo(c0, m0, hi, lo);
      x0[g] = first0;
      x1[g] = first1;
      x2[g] = _mm256_xor_si256(hi, first_xor2);
      x3[g] = lo;
    }
    q = _mm256_add_epi32(q, step);
    for (int r = 1; r < kRounds; ++r) {
      for (int g = 0; g < kGroups; ++g) {
        __m256i hi0, lo0, hi1, lo1;
        mulhilo(x0[g], m0, hi0, lo0);
        mulhilo(x2[g], m1, hi1, lo1);
        x0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, x1[g]), key0[r]);
        x1[g] = lo1;
        x2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, x3[g]), key1[r]);
        x3[g] = lo0;
      }
    }
    for (int g = 0; g < kGroups && b0 + 8 * g < nb; ++g) {
      const __m256i k0v = _mm256_cmpgt_epi32(_mm256_srli_epi32(x0[g], 8), below);  // word 0 of blocks 0..7
      const __m256i k1v = _mm256_cmpgt_epi32(_mm256_srli_epi32(x1[g], 8), below);
      const __m256i k2v = _mm256_cmpgt_epi32(_mm256_srli_epi32(x2[g], 8), below);
      const __m256i k3v = _mm256_cmpgt_epi32(_mm256_srli_epi32(x3[g], 8), below);
      // Transpose: element 4·b + w of the 32 is word w of block b.
      const __m256i t0 = _mm256_unpacklo_epi32(k0v, k1v);  // b0: w0 w1, b1: w0 w1 | b4, b5
      const __m256i t1 = _mm256_unpackhi_epi32(k0v, k1v);  // b2, b3 | b6, b7
      const __m256i t2 = _mm256_unpacklo_epi32(k2v, k3v);  // b0: w2 w3, b1: w2 w3 | b4, b5
      const __m256i t3 = _mm256_unpackhi_epi32(k2v, k3v);
      const __m256i u0 = _mm256_unpacklo_epi64(t0, t2);  // b0 | b4
      const __m256i u1 = _mm256_unpackhi_epi64(t0, t2);  // b1 | b5
      const __m256i u2 = _mm256_unpacklo_epi64(t1, t3);  // b2 | b6
      const __m256i u3 = _mm256_unpackhi_epi64(t1, t3);  // b3 | b7
      __m256i* out = reinterpret_cast<__m256i*>(keep + 4 * (b0 + 8 * g));
      _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(u0, u1, 0x20));  // b0 b1
      _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(u2, u3, 0x20));  // b2 b3
      _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(u0, u1, 0x31));  // b4 b5
      _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(u2, u3, 0x31));  // b6 b7
    }
  }
}

bool dare_apply_model(float* acc, const float* m, const float* b, const uint32_t* keep, float c, int64_t n) {
  const __m256 cv = _mm256_set1_ps(c);
  const __m256 abs_f = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 max_f = _mm256_set1_ps(FLT_MAX);
  __m256 ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 mv = _mm256_loadu_ps(m + k);
    const __m256 a = _mm256_loadu_ps(acc + k);
    // (m − b) ⊗ c: the order GCC gives the portable c * (m - b), so that even the sign of a NaN from two NaN
    // operands (which IEEE leaves to the implementation) comes out the same (not promised; see test_isa_twins.cpp)
    const __m256 v = _mm256_add_ps(a, _mm256_mul_ps(_mm256_sub_ps(mv, _mm256_loadu_ps(b + k)), cv));
    const __m256 on = _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keep + k)));
    _mm256_storeu_ps(acc + k, _mm256_blendv_ps(a, v, on));
    ok = _mm256_and_ps(ok, _mm256_cmp_ps(_mm256_and_ps(mv, abs_f), max_f, _CMP_LE_OQ));
  }
  bool fine = _mm256_movemask_ps(ok) == 0xff;
  for (; k < n; ++k) {
    const float v = acc[k] + c * (m[k] - b[k]);
    acc[k] = keep[k] != 0 ? v : acc[k];
    fine &= __builtin_fabsf(m[k]) <= FLT_MAX;
  }
  return fine;
}

void dare_store_tile(float* dst, const float* src, int64_t n, bool stream) {
  int64_t k = 0;
  if (stream && (reinterpret_cast<uintptr_t>(dst) & 3) == 0) {
    for (; k < n && (reinterpret_cast<uintptr_t>(dst + k) & 31) != 0; ++k) dst[k] = src[k];
    for (; k + 8 <= n; k += 8) _mm256_stream_ps(dst + k, _mm256_loadu_ps(src + k));
  }
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, _mm256_loadu_ps(src + k));
  for (; k < n; ++k) dst[k] = src[k];
}

void dare_stats_model(const float* m, const float* b, const uint32_t* keep, int64_t n, double* la, double* lk) {
  const __m256 abs_f = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256d alo = _mm256_loadu_pd(la), ahi = _mm256_loadu_pd(la + 4);
  __m256d klo = _mm256_loadu_pd(lk), khi = _mm256_loadu_pd(lk + 4);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 a = _mm256_and_ps(_mm256_sub_ps(_mm256_loadu_ps(m + k), _mm256_loadu_ps(b + k)), abs_f);
    // keep ? |δ| : +0.0f, widened: the same as the portable keep ? |(double)δ| : 0.0
    const __m256 kept =
        _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keep + k))));
    alo = _mm256_add_pd(alo, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    ahi = _mm256_add_pd(ahi, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
    klo = _mm256_add_pd(klo, _mm256_cvtps_pd(_mm256_castps256_ps128(kept)));
    khi = _mm256_add_pd(khi, _mm256_cvtps_pd(_mm256_extractf128_ps(kept, 1)));
  }
  _mm256_storeu_pd(la, alo);
  _mm256_storeu_pd(la + 4, ahi);
  _mm256_storeu_pd(lk, klo);
  _mm256_storeu_pd(lk + 4, khi);
  for (; k < n; ++k) {
    const double a = __builtin_fabs(static_cast<double>(m[k] - b[k]));
    la[k % 8] += a;
    lk[k % 8] += keep[k] != 0 ? a : 0.0;
  }
}

void dare_pack_keep(const uint32_t* keep, int64_t n, uint8_t* bits, int64_t at) {
  uint8_t* p = bits + (at >> 3);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {  // the sign bit of each ~0u / 0 word
    *p++ = static_cast<uint8_t>(
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keep + k)))));
  }
  if (k < n) {
    unsigned byte = 0;
    for (int q = 0; k + q < n; ++q) byte |= (keep[k + q] != 0 ? 1u : 0u) << q;
    *p = static_cast<uint8_t>(byte);
  }
}

void dare_unpack_keep(const uint8_t* bits, int64_t at, int64_t n, uint32_t* keep) {
  int64_t k = 0;
  for (; k < n && ((at + k) & 7) != 0; ++k) keep[k] = 0u - ((bits[(at + k) >> 3] >> ((at + k) & 7)) & 1u);
  const uint8_t* p = bits + ((at + k) >> 3);
  const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (; k + 8 <= n; k += 8) {  // byte broadcast, lane q tests bit q: ~0 where set
    const __m256i b = _mm256_and_si256(_mm256_set1_epi32(*p++), lane_bit);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(keep + k), _mm256_cmpeq_epi32(b, lane_bit));
  }
  for (; k < n; ++k) keep[k] = 0u - ((bits[(at + k) >> 3] >> ((at + k) & 7)) & 1u);
}

}  // namespace mt::cpu::avx2
