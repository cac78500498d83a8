// Double-precision reference of K4a (weighted interpolation / task arithmetic), for tests and the harness.
//
//   exact[j] = base[j] + Σ_i λ_i·(m_i[j] − base[j])          (in double)
//   scale[j] = |base[j]| + Σ_i |λ_i·(m_i[j] − base[j])|      (what the fp32 rounding error is proportional to)
//
// An fp32 result passes when |out − exact| <= tol·scale + tiny for every element; tol = 1e-6 covers the
// (n_models + 2)·2^-24 bound of interp.h for up to 14 models.
#pragma once

#include <cmath>
#include <cstdint>

namespace mt::ref {

struct InterpError {
  double max_scaled_error = 0;  // max_j |out − exact| / (scale + tiny)
  int64_t worst_index = -1;
};

inline void interp(int64_t n, const float* base, const float* const* models, const float* lambdas, int32_t n_models,
                   double* exact, double* scale) {
  for (int64_t j = 0; j < n; ++j) {
    const double b = base[j];
    double e = b, sc = std::fabs(b);
    for (int32_t i = 0; i < n_models; ++i) {
      const double term = static_cast<double>(lambdas[i]) * (static_cast<double>(models[i][j]) - b);
      e += term;
      sc += std::fabs(term);
    }
    exact[j] = e;
    scale[j] = sc;
  }
}

inline InterpError compare(int64_t n, const float* out, const double* exact, const double* scale) {
  constexpr double kTiny = 1e-30;
  InterpError err;
  for (int64_t j = 0; j < n; ++j) {
    const double e = std::fabs(static_cast<double>(out[j]) - exact[j]) / (scale[j] + kTiny);
    if (!(e <= err.max_scaled_error)) {  // also catches NaN
      err.max_scaled_error = std::isnan(e) ? INFINITY : e;
      err.worst_index = j;
    }
  }
  return err;
}

}  // namespace mt::ref
