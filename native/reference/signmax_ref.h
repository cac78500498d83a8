// Plain reference of K3 (mt_signmax_*), for tests and the harness: one element at a time, no tiles, no lanes.
//
//   δ^i_j  = input^i_j − θ0_j in fp32 (or the input itself without θ0)
//   flag_j = +1 if Σ_i δ^i_j > 0 (double, i in order) else −1
//   M^i_j  = [δ^i_j · flag_j > 0]
//   U_j    = flag_j · max_i |δ^i_j · M^i_j|, and +0 where no task agrees
//
// U and the masks come out bit-identical to the kernels' (the same fp32 subtractions, the same double sums in the
// same order; the rest is exact). The per-task sums of |δ| and |M·U| are plain running double sums, which agree
// with the kernels' chunked sums to rounding (~1e-12 relative for millions of elements).
#pragma once

#include <cmath>
#include <cstdint>

namespace mt::ref {

// One segment of n elements. theta0 may be NULL (inputs are deltas). masks[i] receives ceil(n / 32) words.
// sum_abs / sum_masked (n_tasks each) are added to, not overwritten.
inline void signmax_unify(int64_t n, const float* theta0, const float* const* inputs, int32_t n_tasks, float* unified,
                          uint32_t* const* masks, double* sum_abs, double* sum_masked) {
  for (int32_t i = 0; i < n_tasks; ++i) {
    for (int64_t w = 0; w < (n + 31) / 32; ++w) masks[i][w] = 0;
  }
  for (int64_t j = 0; j < n; ++j) {
    double sum = 0.0;
    for (int32_t i = 0; i < n_tasks; ++i) {
      const float d = theta0 != nullptr ? inputs[i][j] - theta0[j] : inputs[i][j];
      sum += static_cast<double>(d);
    }
    const double flag = sum > 0.0 ? 1.0 : -1.0;
    float largest = 0.0f;
    for (int32_t i = 0; i < n_tasks; ++i) {
      const float d = theta0 != nullptr ? inputs[i][j] - theta0[j] : inputs[i][j];
      if (static_cast<double>(d) * flag > 0.0) {
        masks[i][j / 32] |= uint32_t{1} << (j % 32);
        if (std::fabs(d) > largest) largest = std::fabs(d);
      }
    }
    const float u = largest == 0.0f ? 0.0f : static_cast<float>(flag * static_cast<double>(largest));
    unified[j] = u;
    for (int32_t i = 0; i < n_tasks; ++i) {
      const float d = theta0 != nullptr ? inputs[i][j] - theta0[j] : inputs[i][j];
      const bool on = ((masks[i][j / 32] >> (j % 32)) & 1u) != 0;
      sum_abs[i] += std::fabs(static_cast<double>(d));
      if (on) sum_masked[i] += std::fabs(static_cast<double>(u));
    }
  }
}

// λ^i = (Σ_s sum_abs[i][s] / len_s) / (Σ_s sum_masked[i][s] / len_s) over non-empty segments (task-major sums).
inline double signmax_rescaler(int64_t n_segments, const int64_t* lengths, int32_t task, const double* sum_abs,
                               const double* sum_masked) {
  double num = 0.0, den = 0.0;
  for (int64_t s = 0; s < n_segments; ++s) {
    if (lengths[s] == 0) continue;
    num += sum_abs[task * n_segments + s] / static_cast<double>(lengths[s]);
    den += sum_masked[task * n_segments + s] / static_cast<double>(lengths[s]);
  }
  return num / den;
}

// out_j = θ0_j + λ·M_j·U_j: θ0 exactly where the bit is 0, else θ0 + (λ·U) in fp32 (two roundings, no FMA).
inline void signmax_decouple(int64_t n, const float* theta0, const float* unified, const uint32_t* mask, float lambda,
                             float* out) {
  for (int64_t j = 0; j < n; ++j) {
    const bool on = ((mask[j / 32] >> (j % 32)) & 1u) != 0;
    const float scaled = lambda * unified[j];
    out[j] = on ? theta0[j] + scaled : theta0[j];
  }
}

}  // namespace mt::ref
