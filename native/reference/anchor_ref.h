// Double-precision reference of K2 (anchor.h), for tests and the harness: the same formulas in double from the
// fp32 inputs, with no rounding to float in between. Each result comes with a scale, the sum of the magnitudes of
// the terms that formed it, which the fp32 rounding error is proportional to: an fp32 result passes when
// |got − exact| <= tol·scale (tol = 1e-6 covers the handful of fp32 roundings of each formula).
#pragma once

#include <cmath>
#include <cstdint>

namespace mt::ref {

// R = (λ/2)·Σ(w − w1)² over n elements.
inline double anchor_value(int64_t n, const float* w, const float* w1, double lambda) {
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = static_cast<double>(w[j]) - static_cast<double>(w1[j]);
    s += d * d;
  }
  return 0.5 * lambda * s;
}

// The anchored gradient g + λ(w − w1) and its scale.
inline void anchored_grad(double w, double w1, double g, double lambda, double* exact, double* scale) {
  *exact = g + lambda * (w - w1);
  *scale = std::fabs(g) + std::fabs(lambda * (w - w1));
}

struct SgdRef {
  double w, w_scale, buf, buf_scale;
};

// One SGD element (LibTorch semantics, in double). buf is read unless first_step.
inline SgdRef sgd(double w, double w1, double g, double buf, double lambda, double lr, double momentum,
                  double dampening, double wd, bool nesterov, bool first_step) {
  double ge, sc;
  anchored_grad(w, w1, g, lambda, &ge, &sc);
  ge += wd * w;
  sc += std::fabs(wd * w);
  SgdRef r{0, 0, 0, 0};
  if (momentum != 0) {
    r.buf = first_step ? ge : momentum * buf + (1 - dampening) * ge;
    r.buf_scale = first_step ? sc : std::fabs(momentum * buf) + std::fabs(1 - dampening) * sc;
    if (nesterov) {
      ge = ge + momentum * r.buf;
      sc = sc + std::fabs(momentum) * r.buf_scale;
    } else {
      ge = r.buf;
      sc = r.buf_scale;
    }
  }
  r.w = w - lr * ge;
  r.w_scale = std::fabs(w) + lr * sc;
  return r;
}

struct AdamWRef {
  double w, w_scale, m, m_scale, v, v_scale;
};

// One AdamW element at step t (>= 1), in double.
inline AdamWRef adamw(double w, double w1, double g, double m, double v, double lambda, double lr, double beta1,
                      double beta2, double eps, double wd, int64_t t) {
  double ge, sc;
  anchored_grad(w, w1, g, lambda, &ge, &sc);
  AdamWRef r{};
  r.m = beta1 * m + (1 - beta1) * ge;
  r.m_scale = std::fabs(beta1 * m) + (1 - beta1) * sc;
  r.v = beta2 * v + (1 - beta2) * ge * ge;
  r.v_scale = std::fabs(beta2 * v) + (1 - beta2) * sc * sc;
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(t)), bc2 = 1 - std::pow(beta2, static_cast<double>(t));
  const double denom = std::sqrt(r.v) / std::sqrt(bc2) + eps;
  const double step = lr / bc1 * r.m / denom;
  r.w = w * (1 - lr * wd) - step;
  // The update's relative error follows m's and v's (through the ratio): scale it by its own size as well.
  r.w_scale = std::fabs(w) + lr / bc1 * r.m_scale / denom + std::fabs(step);
  return r;
}

// R = λ·(1 − mean_c cos(F_c, z_c)) and, when grad is not NULL, dR/dF (double) over C rows of dim.
inline double anchor_feature(int64_t C, int64_t dim, const float* F, const float* z, double lambda, double* grad) {
  double sum = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    double dot = 0, nf = 0, nz = 0;
    for (int64_t j = 0; j < dim; ++j) {
      const double f = F[c * dim + j], zz = z[c * dim + j];
      dot += f * zz;
      nf += f * f;
      nz += zz * zz;
    }
    const double a = std::sqrt(nf), b = std::sqrt(nz), cosv = dot / (a * b);
    sum += cosv;
    if (grad == nullptr) continue;
    for (int64_t j = 0; j < dim; ++j) {
      grad[c * dim + j] = -lambda / static_cast<double>(C) *
                          (z[c * dim + j] / (a * b) - cosv * F[c * dim + j] / nf);
    }
  }
  return lambda * (1.0 - sum / static_cast<double>(C));
}

}  // namespace mt::ref
