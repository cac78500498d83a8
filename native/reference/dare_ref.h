// Plain reference of K4b (mt_dare_f32), for tests and the harness: one element at a time, its own Philox4x32-10
// written from the published algorithm (Salmon et al., SC'11; Random123's philox.h conventions), not the
// library's, so the tests compare two independent implementations of the masks.
//
//   keep_i,s(j) = u >= drop_rate,  u = (w >> 8)·2^-24,  w = Philox4x32-10((j/4, i, key lo, key hi), seed)[j % 4]
//   r           = 1 (NONE), 1/(1 − p) in float (INVERSE), Σ|δ| / Σ|keep·δ| in double, then float (L1; 0 if none)
//   out         = base ⊕ Σ_i keep ? (λ_i ⊗ r) ⊗ (m_i − base) : nothing        (dare_f32: the kernels' float form)
//   exact       = base + Σ_i keep · λ_i · r · (m_i − base)  in double          (dare_exact, with its error scale)
//
// dare_f32 is bit-identical to the kernels for NONE and INVERSE. For L1 the reference's r comes from plain
// running sums, the kernels' from chunked ones, so r (and the result) agree to rounding; use dare_exact there.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace mt::ref {

// Philox4x32 with R rounds: the key schedule bumps the key before every round but the first.
inline void philox4x32(int rounds, const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  const uint64_t M[2] = {0xD2511F53ull, 0xCD9E8D57ull};
  const uint32_t W[2] = {0x9E3779B9u, 0xBB67AE85u};
  uint32_t x[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k[2] = {key[0], key[1]};
  for (int r = 0; r < rounds; ++r) {
    if (r > 0) {
      k[0] = static_cast<uint32_t>(k[0] + W[0]);
      k[1] = static_cast<uint32_t>(k[1] + W[1]);
    }
    const uint64_t a = M[0] * x[0];  // (hi0, lo0)
    const uint64_t b = M[1] * x[2];  // (hi1, lo1)
    const uint32_t y[4] = {static_cast<uint32_t>(b >> 32) ^ x[1] ^ k[0], static_cast<uint32_t>(b & 0xffffffffu),
                           static_cast<uint32_t>(a >> 32) ^ x[3] ^ k[1], static_cast<uint32_t>(a & 0xffffffffu)};
    for (int q = 0; q < 4; ++q) x[q] = y[q];
  }
  for (int q = 0; q < 4; ++q) out[q] = x[q];
}

inline bool dare_keep(uint64_t seed, int32_t model, uint64_t tensor_key, int64_t j, float drop_rate) {
  const uint32_t counter[4] = {static_cast<uint32_t>(j / 4), static_cast<uint32_t>(model),
                               static_cast<uint32_t>(tensor_key & 0xffffffffu), static_cast<uint32_t>(tensor_key >> 32)};
  const uint32_t key[2] = {static_cast<uint32_t>(seed & 0xffffffffu), static_cast<uint32_t>(seed >> 32)};
  uint32_t w[4];
  philox4x32(10, counter, key, w);
  const double u = static_cast<double>(w[j % 4] >> 8) * 0x1p-24;
  return u >= static_cast<double>(drop_rate);
}

// The keep mask of one model over one whole segment (n elements).
inline std::vector<bool> dare_mask(uint64_t seed, int32_t model, uint64_t tensor_key, int64_t n, float drop_rate) {
  std::vector<bool> keep(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) keep[j] = dare_keep(seed, model, tensor_key, j, drop_rate);
  return keep;
}

// r of one model over one segment (rescale: 0 NONE, 1 INVERSE, 2 L1).
inline float dare_rescale(int32_t rescale, float drop_rate, int64_t n, const float* base, const float* model,
                          const std::vector<bool>& keep) {
  if (rescale == 0) return 1.0f;
  if (rescale == 1) return 1.0f / (1.0f - drop_rate);
  double all = 0.0, kept = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const double a = std::fabs(static_cast<double>(model[j] - base[j]));  // δ rounded to fp32, as the kernels
    all += a;
    if (keep[j]) kept += a;
  }
  return kept == 0.0 ? 0.0f : static_cast<float>(all / kept);
}

// One segment of n elements with its tensor key. `out` gets the kernels' float expression; `exact` and `scale`
// (optional) the double result and |base| + Σ|keep·λ·r·δ|, the scale of the fp32 rounding error.
inline void dare(int64_t n, uint64_t tensor_key, const float* base, const float* const* models, const float* lambdas,
                 int32_t n_models, float drop_rate, uint64_t seed, int32_t rescale, float* out, double* exact,
                 double* scale) {
  std::vector<std::vector<bool>> keep;
  std::vector<float> r;
  for (int32_t i = 0; i < n_models; ++i) {
    keep.push_back(dare_mask(seed, i, tensor_key, n, drop_rate));
    r.push_back(dare_rescale(rescale, drop_rate, n, base, models[i], keep.back()));
  }
  for (int64_t j = 0; j < n; ++j) {
    float acc = base[j];
    double e = base[j], sc = std::fabs(static_cast<double>(base[j]));
    for (int32_t i = 0; i < n_models; ++i) {
      if (!keep[i][j]) continue;
      const float c = lambdas[i] * r[i];
      acc = acc + c * (models[i][j] - base[j]);
      const double term = static_cast<double>(lambdas[i]) * r[i] * (static_cast<double>(models[i][j]) - base[j]);
      e += term;
      sc += std::fabs(term);
    }
    if (out != nullptr) out[j] = acc;
    if (exact != nullptr) exact[j] = e;
    if (scale != nullptr) scale[j] = sc;
  }
}

}  // namespace mt::ref
