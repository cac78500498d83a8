// Internal: the one float expression of mt_gta_f32 (gta.h), shared by the CPU kernel (gta_cpu.cpp) and the CUDA
// kernel (cuda-kernels/gta.cu), so both devices give the same bits:
//
//     acc = +0; for i: wd = c_i ⊗ (keep ? m_i ⊖ b : 0); acc ⊕= wd            (NONE, SUM: acc is S)
//     SUM/COUNT: s = (S >= 0 | Σ sgn >= 0) ? +1 : −1; mixed = +0, D = +0;
//                for i: wd as above; if sgn(wd) == s { mixed ⊕= wd; D ⊕= w_i }; D = (D == 0) ? 1 : D
//     out = b ⊕ (λ ⊗ (normalize ? mixed ⊘ D : mixed))
#pragma once

#include <cstdint>
#include "mergetune/gta.h"

#ifdef __CUDACC__
#define MT_GTA_FN __host__ __device__ __forceinline__
#else
#define MT_GTA_FN inline
#endif

namespace mt {

MT_GTA_FN int gta_sign(float v) { return (v > 0.0f) - (v < 0.0f); }

MT_GTA_FN bool gta_keep(const uint32_t* bits, int64_t j) {
  return bits == nullptr || ((bits[j >> 5] >> (j & 31)) & 1u) != 0;
}

// The result of element j; `mv` is the element of each model (models[i][j]).
MT_GTA_FN float gta_element(float b, const float* mv, const uint32_t* const* keep_bits, int64_t j, int32_t n_models,
                            const float* coefs, const float* weights, int32_t consensus, int32_t normalize,
                            float divisor, float lambda) {
  float mixed = 0.0f, d = divisor;
  if (consensus == MT_GTA_CONSENSUS_NONE) {
    for (int32_t i = 0; i < n_models; ++i) {
      const bool keep = gta_keep(keep_bits == nullptr ? nullptr : keep_bits[i], j);
      mixed = mixed + coefs[i] * (keep ? mv[i] - b : 0.0f);
    }
  } else {
    float total = 0.0f;
    int votes = 0;
    for (int32_t i = 0; i < n_models; ++i) {
      const bool keep = gta_keep(keep_bits == nullptr ? nullptr : keep_bits[i], j);
      const float wd = coefs[i] * (keep ? mv[i] - b : 0.0f);
      total = total + wd;
      votes += gta_sign(wd);
    }
    const int s = (consensus == MT_GTA_CONSENSUS_SUM ? total >= 0.0f : votes >= 0) ? 1 : -1;
    d = 0.0f;
    for (int32_t i = 0; i < n_models; ++i) {
      const bool keep = gta_keep(keep_bits == nullptr ? nullptr : keep_bits[i], j);
      const float wd = coefs[i] * (keep ? mv[i] - b : 0.0f);
      if (gta_sign(wd) == s) {
        mixed = mixed + wd;
        d = d + weights[i];
      }
    }
    if (d == 0.0f) d = 1.0f;
  }
  return b + lambda * (normalize != 0 ? mixed / d : mixed);
}

namespace cpu {
mt_status gta_f32(int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                  const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                  int32_t normalize, float divisor, float lambda, int32_t flags);
}  // namespace cpu
namespace cuda {
mt_status gta_f32(void* stream, int64_t n, float* out, const float* base, int32_t n_models,
                  const float* const* models, const uint32_t* const* keep_bits, const float* coefs,
                  const float* weights, int32_t consensus, int32_t normalize, float divisor, float lambda,
                  int32_t flags);
}  // namespace cuda

}  // namespace mt
