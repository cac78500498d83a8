// Plain double-precision reference of K1 (mt_multialpha_ce_f32 / mt_multialpha_kl_f32), for the tests and the
// harness. Written from the definitions, not from the kernels:
//
//   forward (multialpha_forward): for each α_k separately, the mixed logits z = s·(A + α·D)·q^(-1/2) with
//     q = n0 + 2α·n1 + α²·n2 (1 in plain mode), log-softmax by max-shift, then −Σ q_c log p_c (CE with smoothing)
//     or Σ P (log P − log p) (KL, 0·log 0 = 0), batch means, Σ_k ω_k L_k;
//   backward (multialpha): the chain rule through the logits: ∂ℓ/∂z = p·Σq − q, ∂z/∂A = s·q^(-1/2),
//     ∂z/∂D = s·α·q^(-1/2), ∂z/∂q = −½·s·(A + α·D)·q^(-3/2), ∂q/∂(n0, n1, n2) = (1, 2α, α²).
//
// The tests check the backward against central finite differences of the forward, in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mt::ref {

struct MultiAlphaProblem {
  int64_t rows = 0, classes = 0;
  std::vector<double> a, d;          // [rows · classes]
  std::vector<double> n0, n1, n2;    // [classes], all empty: plain mode
  std::vector<int32_t> labels;       // CE (targets empty)
  double smoothing = 0;
  std::vector<double> targets;       // KL: P [rows · classes]
  std::vector<double> alphas, weights;
  double scale = 1;

  bool renorm() const { return !n0.empty(); }
  bool kl() const { return !targets.empty(); }
  int32_t points() const { return static_cast<int32_t>(alphas.size()); }
};

struct MultiAlphaResult {
  std::vector<double> losses;
  double total = 0;
  std::vector<double> grad_a, grad_d, grad_n0, grad_n1, grad_n2;
  double max_abs_logit = 0;
};

inline double multialpha_q(const MultiAlphaProblem& p, double alpha, int64_t c) {
  return p.renorm() ? p.n0[c] + 2 * alpha * p.n1[c] + alpha * alpha * p.n2[c] : 1.0;
}

// The target distribution of row b (CE: smoothed one-hot; KL: the row of P).
inline std::vector<double> multialpha_target_row(const MultiAlphaProblem& p, int64_t b) {
  const int64_t C = p.classes;
  std::vector<double> t(C);
  for (int64_t c = 0; c < C; ++c) {
    t[c] = p.kl() ? p.targets[b * C + c] : p.smoothing / C + (c == p.labels[b] ? 1 - p.smoothing : 0.0);
  }
  return t;
}

inline std::vector<double> multialpha_logits(const MultiAlphaProblem& p, int32_t k, int64_t b) {
  const int64_t C = p.classes;
  const double al = p.alphas[k];
  std::vector<double> z(C);
  for (int64_t c = 0; c < C; ++c) {
    z[c] = p.scale * (p.a[b * C + c] + al * p.d[b * C + c]) / std::sqrt(multialpha_q(p, al, c));
  }
  return z;
}

inline std::vector<double> multialpha_log_softmax(const std::vector<double>& z) {
  const double m = *std::max_element(z.begin(), z.end());
  double s = 0;
  for (double v : z) s += std::exp(v - m);
  const double lse = m + std::log(s);
  std::vector<double> out(z.size());
  for (size_t c = 0; c < z.size(); ++c) out[c] = z[c] - lse;
  return out;
}

// Per-α losses into *losses (if given); returns the total.
inline double multialpha_forward(const MultiAlphaProblem& p, std::vector<double>* losses = nullptr) {
  double total = 0;
  if (losses != nullptr) losses->assign(p.points(), 0.0);
  for (int32_t k = 0; k < p.points(); ++k) {
    double sum = 0;
    for (int64_t b = 0; b < p.rows; ++b) {
      const std::vector<double> lp = multialpha_log_softmax(multialpha_logits(p, k, b));
      const std::vector<double> t = multialpha_target_row(p, b);
      double l = 0;
      for (int64_t c = 0; c < p.classes; ++c) {
        if (p.kl()) {
          l += t[c] > 0 ? t[c] * (std::log(t[c]) - lp[c]) : 0.0;
        } else {
          l -= t[c] * lp[c];
        }
      }
      sum += l;
    }
    const double mean = sum / p.rows;
    if (losses != nullptr) (*losses)[k] = mean;
    total += p.weights[k] * mean;
  }
  return total;
}

inline MultiAlphaResult multialpha(const MultiAlphaProblem& p) {
  const int64_t B = p.rows, C = p.classes;
  MultiAlphaResult r;
  r.total = multialpha_forward(p, &r.losses);
  r.grad_a.assign(B * C, 0.0);
  r.grad_d.assign(B * C, 0.0);
  if (p.renorm()) {
    r.grad_n0.assign(C, 0.0);
    r.grad_n1.assign(C, 0.0);
    r.grad_n2.assign(C, 0.0);
  }
  for (int32_t k = 0; k < p.points(); ++k) {
    const double al = p.alphas[k];
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<double> z = multialpha_logits(p, k, b);
      const std::vector<double> lp = multialpha_log_softmax(z);
      const std::vector<double> t = multialpha_target_row(p, b);
      double tsum = 0;
      for (double v : t) tsum += v;
      for (int64_t c = 0; c < C; ++c) {
        r.max_abs_logit = std::max(r.max_abs_logit, std::fabs(z[c]));
        const double dz = p.weights[k] / B * (std::exp(lp[c]) * tsum - t[c]);  // ∂total/∂z
        const double q = multialpha_q(p, al, c);
        r.grad_a[b * C + c] += dz * p.scale / std::sqrt(q);
        r.grad_d[b * C + c] += dz * p.scale * al / std::sqrt(q);
        if (p.renorm()) {
          const double dq = dz * -0.5 * p.scale * (p.a[b * C + c] + al * p.d[b * C + c]) * std::pow(q, -1.5);
          r.grad_n0[c] += dq;
          r.grad_n1[c] += dq * 2 * al;
          r.grad_n2[c] += dq * al * al;
        }
      }
    }
  }
  return r;
}

}  // namespace mt::ref
