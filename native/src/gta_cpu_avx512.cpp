// The AVX-512 twin of mt_gta_f32's tile loop (gta_internal.h's expression; this file alone is compiled with
// -mavx512f/bw/dq/vl and without FMA contraction; gta_cpu.cpp calls it only where cpu::use_avx512() says so).
//
// Element-major where gta_cpu_loops.h is model-major: 16 elements at a time, every model's m_i loaded into a
// register, the keep bits read straight from the words as a lane mask (no expansion), and the running values of
// those 16 elements (S, mixed, D) kept in registers across the models. Per element the operations and their order
// are gta_element's: d = keep ? m − b : +0 (a zero-masked subtract), wd = c ⊗ d, S ⊕= wd (or the vote count, exact
// in a float), then with the elected sign s: agree = s > 0 ? wd > 0 : wd < 0, mixed ⊕= wd and D ⊕= w where agree,
// D = 1 where it is 0, out = b ⊕ λ ⊗ (normalize ? mixed ⊘ D : mixed): the same bits as the portable and AVX2 twins.
// The tile is computed into scratch and stored only when every input and result is finite (when checked), so the
// caller can locate a bad element from intact inputs even when out aliases base or a model.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gta_cpu_isa.h"
#include "mergetune/gta.h"

namespace mt::cpu::avx512 {

namespace {

constexpr int kNonFinite = 0x01 | 0x08 | 0x10 | 0x80;  // vfpclassps: QNaN, +Inf, −Inf, SNaN

// Keep bits of elements t + k .. t + k + 15 (t a multiple of 32, k of 16); all set without bits.
inline __mmask16 keep16(const uint32_t* bits, int64_t t, int64_t k) {
  if (bits == nullptr) return 0xFFFF;
  const int64_t j = t + k;
  return static_cast<__mmask16>(bits[j >> 5] >> (j & 16));
}

inline __m512 load(const float* p, __mmask16 live) { return _mm512_maskz_loadu_ps(live, p); }

}  // namespace

bool gta_tile_entry(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                    const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                    int32_t normalize, float divisor, float lambda, bool check, float* scratch) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 minus_one = _mm512_set1_ps(-1.0f);
  const __m512 lam = _mm512_set1_ps(lambda);
  const __m512 div = _mm512_set1_ps(divisor);
  __mmask16 bad = 0;
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 live = n - k >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - k)) - 1u);
    const __m512 b = base != nullptr ? load(base + t + k, live) : zero;
    bad |= _mm512_mask_fpclass_ps_mask(live, b, kNonFinite);
    __m512 mixed = zero, den;
    if (consensus == MT_GTA_CONSENSUS_NONE) {
      for (int32_t i = 0; i < n_models; ++i) {
        const __m512 m = load(models[i] + t + k, live);
        bad |= _mm512_mask_fpclass_ps_mask(live, m, kNonFinite);
        const __mmask16 keep = keep16(keep_bits == nullptr ? nullptr : keep_bits[i], t, k);
        const __m512 wd = _mm512_mul_ps(_mm512_set1_ps(coefs[i]), _mm512_maskz_sub_ps(keep, m, b));
        mixed = _mm512_add_ps(mixed, wd);
      }
      den = div;
    } else {
      __m512 total = zero;
      for (int32_t i = 0; i < n_models; ++i) {
        const __m512 m = load(models[i] + t + k, live);
        bad |= _mm512_mask_fpclass_ps_mask(live, m, kNonFinite);
        const __mmask16 keep = keep16(keep_bits == nullptr ? nullptr : keep_bits[i], t, k);
        const __m512 wd = _mm512_mul_ps(_mm512_set1_ps(coefs[i]), _mm512_maskz_sub_ps(keep, m, b));
        if (consensus == MT_GTA_CONSENSUS_SUM) {
          total = _mm512_add_ps(total, wd);
        } else {  // total + sgn(wd): +1, −1 or +0 (NaN: 0), as the portable twin's float vote count
          const __mmask16 pos = _mm512_cmp_ps_mask(wd, zero, _CMP_GT_OQ);
          const __mmask16 neg = _mm512_cmp_ps_mask(wd, zero, _CMP_LT_OQ);
          const __m512 sgn = _mm512_mask_mov_ps(_mm512_maskz_mov_ps(pos, one), neg, minus_one);
          total = _mm512_add_ps(total, sgn);
        }
      }
      const __mmask16 up = _mm512_cmp_ps_mask(total, zero, _CMP_GE_OQ);  // the elected sign is +1 (NaN: −1)
      den = zero;
      for (int32_t i = 0; i < n_models; ++i) {
        const __m512 m = load(models[i] + t + k, live);
        const __mmask16 keep = keep16(keep_bits == nullptr ? nullptr : keep_bits[i], t, k);
        const __m512 wd = _mm512_mul_ps(_mm512_set1_ps(coefs[i]), _mm512_maskz_sub_ps(keep, m, b));
        const __mmask16 agree = (up & _mm512_cmp_ps_mask(wd, zero, _CMP_GT_OQ)) |
                                (static_cast<__mmask16>(~up) & _mm512_cmp_ps_mask(wd, zero, _CMP_LT_OQ));
        mixed = _mm512_mask_add_ps(mixed, agree, mixed, wd);
        den = _mm512_mask_add_ps(den, agree, den, _mm512_set1_ps(weights[i]));
      }
      den = _mm512_mask_mov_ps(den, _mm512_cmp_ps_mask(den, zero, _CMP_EQ_OQ), one);
    }
    const __m512 r = _mm512_add_ps(b, _mm512_mul_ps(lam, normalize != 0 ? _mm512_div_ps(mixed, den) : mixed));
    bad |= _mm512_mask_fpclass_ps_mask(live, r, kNonFinite);
    _mm512_mask_storeu_ps(scratch + k, live, r);
  }
  if (check && bad != 0) return false;
  std::memcpy(out + t, scratch, static_cast<size_t>(n) * sizeof(float));
  return true;
}

}  // namespace mt::cpu::avx512
