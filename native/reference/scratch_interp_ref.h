// Double-precision reference of K5 (scratch_interp.h), for tests and the harness. Each result with its scale (the
// sum of the magnitudes of its terms); an fp32 result passes when |got − exact| <= tol·scale, tol = 1e-6.
#pragma once

#include <cmath>
#include <cstdint>

namespace mt::ref {

// ŵ2 + α(w − ŵ2)
inline void scratch_interp(double w, double w2hat, double alpha, double* exact, double* scale) {
  *exact = w2hat + alpha * (w - w2hat);
  *scale = std::fabs(w2hat) + std::fabs(alpha * (w - w2hat));
}

// grad_w + Σ_k ω_k α_k grad_k at one element.
inline void scratch_grad(double grad_w, int32_t n, const double* grads, const float* alphas, const float* omegas,
                         double* exact, double* scale) {
  double e = grad_w, s = std::fabs(grad_w);
  for (int32_t k = 0; k < n; ++k) {
    const double t = (omegas != nullptr ? omegas[k] : 1.0) * static_cast<double>(alphas[k]) * grads[k];
    e += t;
    s += std::fabs(t);
  }
  *exact = e;
  *scale = s;
}

}  // namespace mt::ref
