// K4b's inner loops for AVX-512 machines (this file alone is compiled with -mavx512f/bw/dq/vl and -mbmi2;
// dare_cpu.cpp and gta_sparsify.cpp call it only where cpu::use_avx512() says the CPU has them).
//
// Philox4x32-10, sixteen blocks at once: word w of blocks q .. q + 15 in one register (lane b = block q + b). A
// round needs hi and lo of the 64-bit products M0·c0 and M1·c2 of every lane: _mm512_mul_epu32 of the even lanes
// and of the odd lanes shifted down; one masked pair swap (vpshufd under a lane mask) each sorts the halves back
// into lanes, and the two XORs of a round word are one vpternlogd. The counter mapping is philox.h's — (q, model,
// key lo, key hi), word w of block q deciding element 4q + w — so the masks are the AVX2 and portable ones.
//
// The keep decisions leave as bits, not words: compare-into-mask per word gives 4 × 16 bits (bit b: block b), and
// four pdeps interleave them into element order (bit 4·b + w), 64 elements per 64-bit word. The apply and L1 loops
// read 16 such bits at any bit offset for a masked add / masked move: the same operations as the portable loops
// (each rounded, no FMA; a dropped element keeps acc as it is), and for the sums the same 8 double lanes (lane =
// element mod 8) filled in the same order (elements k .. k + 7, then k + 8 .. k + 15).
#include <immintrin.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "dare_cpu_isa.h"

// No inline functions from library headers here (see dare_cpu_avx2.cpp): the constants are repeated.
namespace mt::cpu::avx512 {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr int kGroups = 2;  // sets of 16 blocks in flight
constexpr int kSwap = 0xB1; // vpshufd: swap the two 32-bit halves of every 64-bit lane
constexpr int kXor3 = 0x96; // vpternlogd: a ^ b ^ c

// hi and lo halves of the 32 × 32 → 64-bit products a·M, lane by lane (M broadcast).
inline void mulhilo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_mul_epu32(a, m);                         // lanes 0, 2, ... as 64-bit products
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);  // lanes 1, 3, ...
  lo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, static_cast<_MM_PERM_ENUM>(kSwap));
  hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, static_cast<_MM_PERM_ENUM>(kSwap));
}

// Bits of 16 elements starting at bit `at` of `bits` (little-endian bytes; reads the 2 bytes from byte at >> 3 when
// `at` is a multiple of 8, else 4, so a byte-aligned reader never touches a byte after its last bit's).
inline __mmask16 bits16(const uint8_t* bits, int64_t at) {
  if ((at & 7) == 0) {
    uint16_t h;
    std::memcpy(&h, bits + (at >> 3), sizeof h);
    return static_cast<__mmask16>(h);
  }
  uint32_t w;
  std::memcpy(&w, bits + (at >> 3), sizeof w);
  return static_cast<__mmask16>(w >> (at & 7));
}

inline bool bit_at(const uint8_t* bits, int64_t at) { return ((bits[at >> 3] >> (at & 7)) & 1u) != 0; }


// Philox4x32-10 of 16 blocks at a time under one (c1, c2, c3, key): the round keys broadcast once, and round 1's
// constant words (c1, c2, c3 are the same for every block, so its new c0 and c1 are too) taken once.
struct Philox16 {
  __m512i m0, m1, first0, first1, first_xor2, key0[kRounds], key1[kRounds];
  Philox16(uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
    m0 = _mm512_set1_epi32(static_cast<int>(kM0));
    m1 = _mm512_set1_epi32(static_cast<int>(kM1));
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    first0 = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0));
    first1 = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(p1)));
    first_xor2 = _mm512_set1_epi32(static_cast<int>(c3 ^ k1));
    for (int r = 0; r < kRounds; ++r) {
      key0[r] = _mm512_set1_epi32(static_cast<int>(k0 + static_cast<uint32_t>(r) * kW0));
      key1[r] = _mm512_set1_epi32(static_cast<int>(k1 + static_cast<uint32_t>(r) * kW1));
    }
  }
  // kGroups sets of 16 blocks with counters c0[g] (lane b: block c0[g] + b), side by side: x*[g] = word * of each.
  inline void blocks(const __m512i* c0, __m512i* x0, __m512i* x1, __m512i* x2, __m512i* x3) const {
    for (int g = 0; g < kGroups; ++g) {
      __m512i hi, lo;
      mulhilo(c0[g], m0, hi, lo);
      x0[g] = first0;
      x1[g] = first1;
      x2[g] = _mm512_xor_si512(hi, first_xor2);
      x3[g] = lo;
    }
    for (int r = 1; r < kRounds; ++r) {
      for (int g = 0; g < kGroups; ++g) {
        __m512i hi0, lo0, hi1, lo1;
        mulhilo(x0[g], m0, hi0, lo0);
        mulhilo(x2[g], m1, hi1, lo1);
        x0[g] = _mm512_ternarylogic_epi32(hi1, x1[g], key0[r], kXor3);
        x1[g] = lo1;
        x2[g] = _mm512_ternarylogic_epi32(hi0, x3[g], key1[r], kXor3);
        x3[g] = lo0;
      }
    }
  }
};

}  // namespace

void dare_keep_bits(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                    uint32_t threshold, uint64_t* bits, const float* const pf[2], const int64_t pf_n[2]) {
  const Philox16 philox(c1, c2, c3, k0, k1);
  // keep ⟺ (w >> 8) >= threshold (unsigned)
  const __m512i thr = _mm512_set1_epi32(static_cast<int>(threshold));
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16 * kGroups);
  __m512i q = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(q0)), lane);  // wraps mod 2^32 as philox.h

  constexpr int64_t kLine = 64 / sizeof(float);
  const int64_t iterations = (nb + 16 * kGroups - 1) / (16 * kGroups);
  int64_t pf_at[2] = {0, 0}, pf_step[2];
  for (int r = 0; r < 2; ++r) {
    const int64_t lines = pf[r] != nullptr ? (pf_n[r] + kLine - 1) / kLine : 0;
    pf_step[r] = iterations > 0 ? (lines + iterations - 1) / iterations * kLine : 0;
  }
  for (int64_t b0 = 0; b0 < nb; b0 += 16 * kGroups) {
    for (int r = 0; r < 2; ++r) {
      for (int64_t end = pf_at[r] + pf_step[r]; pf_at[r] < end && pf_at[r] < pf_n[r]; pf_at[r] += kLine) {
        _mm_prefetch(reinterpret_cast<const char*>(pf[r] + pf_at[r]), _MM_HINT_T0);
      }
    }
    __m512i c0[kGroups], x0[kGroups], x1[kGroups], x2[kGroups], x3[kGroups];
    for (int g = 0; g < kGroups; ++g) c0[g] = _mm512_add_epi32(q, _mm512_set1_epi32(16 * g));
    q = _mm512_add_epi32(q, step);
    philox.blocks(c0, x0, x1, x2, x3);
    for (int g = 0; g < kGroups && b0 + 16 * g < nb; ++g) {
      const uint64_t w0 = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(x0[g], 8), thr);  // bit b: word 0 of block b
      const uint64_t w1 = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(x1[g], 8), thr);
      const uint64_t w2 = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(x2[g], 8), thr);
      const uint64_t w3 = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(x3[g], 8), thr);
      bits[(b0 >> 4) + g] = _pdep_u64(w0, 0x1111111111111111ull) | _pdep_u64(w1, 0x2222222222222222ull) |
                            _pdep_u64(w2, 0x4444444444444444ull) | _pdep_u64(w3, 0x8888888888888888ull);
    }
  }
}

void dare_words(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                uint32_t* words) {
  const Philox16 philox(c1, c2, c3, k0, k1);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16 * kGroups);
  __m512i q = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(q0)), lane);
  for (int64_t b0 = 0; b0 < nb; b0 += 16 * kGroups) {
    __m512i c0[kGroups], x0[kGroups], x1[kGroups], x2[kGroups], x3[kGroups];
    for (int g = 0; g < kGroups; ++g) c0[g] = _mm512_add_epi32(q, _mm512_set1_epi32(16 * g));
    q = _mm512_add_epi32(q, step);
    philox.blocks(c0, x0, x1, x2, x3);
    for (int g = 0; g < kGroups && b0 + 16 * g < nb; ++g) {
      // 4 × 16 transpose: element 4·b + w is word w of block b
      const __m512i t0 = _mm512_unpacklo_epi32(x0[g], x1[g]);  // per 128-bit lane: b w0 w1, b+1 w0 w1
      const __m512i t1 = _mm512_unpackhi_epi32(x0[g], x1[g]);  // b+2, b+3
      const __m512i t2 = _mm512_unpacklo_epi32(x2[g], x3[g]);
      const __m512i t3 = _mm512_unpackhi_epi32(x2[g], x3[g]);
      const __m512i u0 = _mm512_unpacklo_epi64(t0, t2);  // blocks 0 | 4 | 8 | 12
      const __m512i u1 = _mm512_unpackhi_epi64(t0, t2);  // 1 | 5 | 9 | 13
      const __m512i u2 = _mm512_unpacklo_epi64(t1, t3);  // 2 | 6 | 10 | 14
      const __m512i u3 = _mm512_unpackhi_epi64(t1, t3);  // 3 | 7 | 11 | 15
      const __m512i v0 = _mm512_shuffle_i32x4(u0, u1, 0x44);  // 0 4 1 5
      const __m512i v1 = _mm512_shuffle_i32x4(u2, u3, 0x44);  // 2 6 3 7
      const __m512i v2 = _mm512_shuffle_i32x4(u0, u1, 0xEE);  // 8 12 9 13
      const __m512i v3 = _mm512_shuffle_i32x4(u2, u3, 0xEE);  // 10 14 11 15
      __m512i* out = reinterpret_cast<__m512i*>(words + 4 * (b0 + 16 * g));
      _mm512_storeu_si512(out + 0, _mm512_shuffle_i32x4(v0, v1, 0x88));  // 0 1 2 3
      _mm512_storeu_si512(out + 1, _mm512_shuffle_i32x4(v0, v1, 0xDD));  // 4 5 6 7
      _mm512_storeu_si512(out + 2, _mm512_shuffle_i32x4(v2, v3, 0x88));  // 8 9 10 11
      _mm512_storeu_si512(out + 3, _mm512_shuffle_i32x4(v2, v3, 0xDD));  // 12 13 14 15
    }
  }
}

bool dare_apply_model(float* acc, const float* m, const float* b, const uint8_t* bits, int64_t at, float c,
                      int64_t n) {
  const __m512 cv = _mm512_set1_ps(c);
  const __m512 max_f = _mm512_set1_ps(FLT_MAX);
  __mmask16 ok = 0xFFFF;
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512 mv = _mm512_loadu_ps(m + k);
    const __m512 a = _mm512_loadu_ps(acc + k);
    // (m − b) ⊗ c, then acc ⊕ that where kept: the AVX2 twin's operand order
    const __m512 d = _mm512_mul_ps(_mm512_sub_ps(mv, _mm512_loadu_ps(b + k)), cv);
    _mm512_storeu_ps(acc + k, _mm512_mask_add_ps(a, bits16(bits, at + k), a, d));
    ok &= _mm512_cmp_ps_mask(_mm512_abs_ps(mv), max_f, _CMP_LE_OQ);
  }
  bool fine = ok == 0xFFFF;
  for (; k < n; ++k) {
    const float v = acc[k] + c * (m[k] - b[k]);
    acc[k] = bit_at(bits, at + k) ? v : acc[k];
    fine &= __builtin_fabsf(m[k]) <= FLT_MAX;
  }
  return fine;
}

void dare_stats_model(const float* m, const float* b, const uint8_t* bits, int64_t at, int64_t n, double* la,
                      double* lk) {
  __m512d av = _mm512_loadu_pd(la), kv = _mm512_loadu_pd(lk);
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512 a = _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(m + k), _mm512_loadu_ps(b + k)));
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(a));
    const __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1));
    const __mmask16 keep = bits16(bits, at + k);
    av = _mm512_add_pd(av, lo);
    av = _mm512_add_pd(av, hi);
    // a masked add of the widened |δ|: the AVX2 twin's kv + (keep ? |δ| : +0.0) exactly, since kv (a sum of values
    // >= +0 from +0) is never −0, so kv + +0 is kv; two conversions fewer than widening the masked floats
    kv = _mm512_mask_add_pd(kv, static_cast<__mmask8>(keep), kv, lo);
    kv = _mm512_mask_add_pd(kv, static_cast<__mmask8>(keep >> 8), kv, hi);
  }
  _mm512_storeu_pd(la, av);
  _mm512_storeu_pd(lk, kv);
  for (; k < n; ++k) {
    const double a = __builtin_fabs(static_cast<double>(m[k] - b[k]));
    la[k % 8] += a;
    lk[k % 8] += bit_at(bits, at + k) ? a : 0.0;
  }
}

}  // namespace mt::cpu::avx512
