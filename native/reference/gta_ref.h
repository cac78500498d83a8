// Plain double-precision reference of mergekit's generalized task arithmetic (gta.h), for the tests: written
// from mergekit's generalized_task_arithmetic.py / sparsify.py semantics (arcee-ai/mergekit, read, not copied),
// with the selections done by a full stable sort (not the kernels' nth_element) and DARE's Philox from
// dare_ref.h (its own implementation of the published algorithm).
//
//   δ_i = m_i − b (fp32, as the kernels), keep_i per method, r_i = rescale ? L1 rule : 1
//   L1 rule (mergekit rescaled_masked_tensor): before = Σ|δ|, after = Σ keep·|δ|; r = before/after unless
//            before < 1e-7 or after < 1e-7 (then 1)
//   wd_i = w_i · r_i · keep_i · δ_i;  NONE: mixed = Σ wd_i, D = Σ w_i (1 if |D| < 1e-8)
//   SUM / COUNT: s = sign election (>= 0 → +1); a_i = sgn(wd_i) == s; mixed = Σ a_i wd_i; D = Σ a_i w_i (1 if 0)
//   out = b + λ · (normalize ? mixed / D : mixed)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "dare_ref.h"

namespace mt::ref {

enum class Sparsify { None, Magnitude, Outliers, Random, Della };

// Indices of [0, n) ordered by (|δ|, index) ascending.
inline std::vector<int64_t> ascending_by_magnitude(const std::vector<float>& delta) {
  std::vector<int64_t> idx(delta.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int64_t a, int64_t b) { return std::fabs(delta[a]) < std::fabs(delta[b]); });
  return idx;
}

inline double philox_uniform(uint64_t seed, int32_t model, uint64_t key, int64_t j) {
  const uint32_t counter[4] = {static_cast<uint32_t>(j / 4), static_cast<uint32_t>(model),
                               static_cast<uint32_t>(key & 0xffffffffu), static_cast<uint32_t>(key >> 32)};
  const uint32_t k[2] = {static_cast<uint32_t>(seed & 0xffffffffu), static_cast<uint32_t>(seed >> 32)};
  uint32_t w[4];
  philox4x32(10, counter, k, w);
  return static_cast<double>(w[j % 4] >> 8) * 0x1p-24;
}

// The keep mask of one model's δ; shape as [outer, len, inner] (Della only).
inline std::vector<bool> gta_mask(const std::vector<float>& delta, Sparsify method, double density, double param,
                                  uint64_t seed, uint64_t key, int32_t model, int64_t outer, int64_t len,
                                  int64_t inner) {
  const int64_t n = static_cast<int64_t>(delta.size());
  std::vector<bool> keep(n, method == Sparsify::None);
  if (method == Sparsify::Magnitude || method == Sparsify::Outliers) {
    const std::vector<int64_t> order = ascending_by_magnitude(delta);
    int64_t lo, hi;
    const int64_t target = static_cast<int64_t>(density * n);
    if (method == Sparsify::Magnitude) {
      lo = n - target;
      hi = n;
    } else {
      int64_t top = static_cast<int64_t>(param * n), bot = n - target - top;
      if (bot < 0) {
        top += bot;
        bot = 0;
      }
      lo = bot;
      hi = n - top;
    }
    for (int64_t r = lo; r < hi; ++r) keep[order[r]] = true;
  } else if (method == Sparsify::Random) {
    const float drop = 1.0f - static_cast<float>(density);  // DARE's drop rate, formed as Dare.Options does
    for (int64_t j = 0; j < n; ++j) keep[j] = dare_keep(seed, model, key, j, drop);
  } else if (method == Sparsify::Della) {
    std::vector<double> p(n);
    for (int64_t a = 0; a < outer; ++a) {
      for (int64_t c = 0; c < inner; ++c) {
        std::vector<float> row(len);
        for (int64_t r = 0; r < len; ++r) row[r] = delta[(a * len + r) * inner + c];
        const std::vector<int64_t> order = ascending_by_magnitude(row);
        for (int64_t rank = 0; rank < len; ++rank) {
          const double norm = len == 1 ? 0.0 : static_cast<double>(rank) / (len - 1);
          p[(a * len + order[rank]) * inner + c] = (density - param) + norm * 2 * param;
        }
      }
    }
    // the kernels form p in fp32; u is a multiple of 2^-24, so comparing with p rounded to float decides alike
    for (int64_t j = 0; j < n; ++j) keep[j] = philox_uniform(seed, model, key, j) < static_cast<float>(p[j]);
  }
  return keep;
}

inline double gta_l1_rescale(const std::vector<float>& delta, const std::vector<bool>& keep) {
  double before = 0, after = 0;
  for (size_t j = 0; j < delta.size(); ++j) {
    before += std::fabs(static_cast<double>(delta[j]));
    if (keep[j]) after += std::fabs(static_cast<double>(delta[j]));
  }
  return (before < 1e-7 || after < 1e-7) ? 1.0 : before / after;
}

// out[j] in double and the scale |b| + λ·Σ|wd|/|D| of its fp32 rounding error; `ambiguous[j]` where the sign
// election's |total| is within 1e-5 of its scale (float and double elections may differ there).
inline void gta(int64_t n, const float* base, const std::vector<std::vector<float>>& deltas,
                const std::vector<std::vector<bool>>& keep, const std::vector<double>& rescales,
                const std::vector<double>& weights, int consensus, bool normalize, double lambda,
                std::vector<double>& out, std::vector<double>& scale, std::vector<bool>& ambiguous) {
  const size_t T = deltas.size();
  out.assign(n, 0);
  scale.assign(n, 0);
  ambiguous.assign(n, false);
  double wsum = 0;
  for (double w : weights) wsum += w;
  if (std::fabs(wsum) < 1e-8) wsum = 1;
  for (int64_t j = 0; j < n; ++j) {
    const double b = base == nullptr ? 0.0 : base[j];
    std::vector<double> wd(T);
    double abs_sum = 0;
    for (size_t i = 0; i < T; ++i) {
      wd[i] = keep[i][j] ? weights[i] * rescales[i] * deltas[i][j] : 0.0;
      abs_sum += std::fabs(wd[i]);
    }
    double mixed = 0, d = wsum;
    if (consensus != 0) {
      double total = 0;
      for (size_t i = 0; i < T; ++i) total += consensus == 1 ? wd[i] : (wd[i] > 0) - (wd[i] < 0);
      if (consensus == 1 && abs_sum > 0 && std::fabs(total) <= 1e-5 * abs_sum) ambiguous[j] = true;
      const int s = total >= 0 ? 1 : -1;
      d = 0;
      for (size_t i = 0; i < T; ++i) {
        if (((wd[i] > 0) - (wd[i] < 0)) == s) {
          mixed += wd[i];
          d += weights[i];
        }
      }
      if (d == 0) d = 1;
    } else {
      for (size_t i = 0; i < T; ++i) mixed += wd[i];
    }
    out[j] = b + lambda * (normalize ? mixed / d : mixed);
    scale[j] = std::fabs(b) + std::fabs(lambda) * abs_sum / (normalize ? std::fabs(d) : 1.0);
  }
}

}  // namespace mt::ref
