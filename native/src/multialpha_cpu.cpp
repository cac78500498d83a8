// K1 on the CPU: all K softmaxes of a row in one visit of the row, forward and backward fused (multialpha.h).
//
// Per row b and point k (fp32 unless said): x = A + α·D, sx = s·x, z = sx·r_k; m = max z; e = exp(z − m);
// Σe and Σq·z in double; ℓ from the log-sum-exp in double; then G = (ω/B)·(p·Σq − q), dA += G·r, dD += α·G·r
// (kept per row in fp32 across k, times s at the end) and H_k[c] += G·sx in double.
//
// Rows are cut into fixed blocks (kRowBlocks of them at most, sized from B alone); each block keeps its own
// partial losses and partial H in double, rows added in order, and the partials are added in block order after
// the threads join. Threads take whole blocks, so every result is bit-identical for any thread count.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "error.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "multialpha_internal.h"
#include "parallel.h"

namespace mt::cpu {

namespace {

constexpr int64_t kRowBlocks = 64;        // at most this many partial blocks (their memory is K·C doubles each)
constexpr int64_t kMinWorkPerThread = 1 << 15;  // K·C·rows per thread below which one thread does it all

inline bool finite_f(float v) { return std::fabs(v) <= FLT_MAX; }

const char* input_name(int32_t input) {
  switch (input) {
    case MT_MA_INPUT_A: return "a";
    case MT_MA_INPUT_D: return "d";
    case MT_MA_INPUT_N0: return "n0";
    case MT_MA_INPUT_N1: return "n1";
    case MT_MA_INPUT_N2: return "n2";
    case MT_MA_INPUT_TARGETS: return "targets";
    default: return "result";
  }
}

mt_status report_input(int32_t input, int64_t row, int64_t c, float v) {
  if (row < 0) {
    return fail_at(MT_NON_FINITE, input, -1, c, "non-finite %s[%lld] = %g", input_name(input), (long long)c,
                   static_cast<double>(v));
  }
  return fail_at(MT_NON_FINITE, input, row, c, "non-finite %s at row %lld, class %lld: %g", input_name(input),
                 (long long)row, (long long)c, static_cast<double>(v));
}

// Labels (always), and with MT_CHECK_FINITE the finiteness of every input (and P >= 0), in a fixed order.
mt_status check_inputs(const MultiAlphaCall& c) {
  const int64_t B = c.rows, C = c.classes;
  if (!c.kl()) {
    for (int64_t b = 0; b < B; ++b) {
      if (c.labels[b] < 0 || c.labels[b] >= C) {
        return fail_at(MT_INVALID_ARGUMENT, MT_MA_INPUT_TARGETS, b, -1, "labels[%lld] = %d is not in [0, %lld)",
                       (long long)b, c.labels[b], (long long)C);
      }
    }
  }
  if ((c.flags & MT_CHECK_FINITE) == 0) return MT_OK;
  if (c.renorm()) {
    const float* n[3] = {c.n0, c.n1, c.n2};
    for (int q = 0; q < 3; ++q) {
      for (int64_t j = 0; j < C; ++j) {
        if (!finite_f(n[q][j])) return report_input(MT_MA_INPUT_N0 + q, -1, j, n[q][j]);
      }
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < C; ++j) {
      const int64_t i = b * C + j;
      if (!finite_f(c.a[i])) return report_input(MT_MA_INPUT_A, b, j, c.a[i]);
      if (!finite_f(c.d[i])) return report_input(MT_MA_INPUT_D, b, j, c.d[i]);
      if (c.kl() && !finite_f(c.targets[i])) return report_input(MT_MA_INPUT_TARGETS, b, j, c.targets[i]);
      if (c.kl() && c.targets[i] < 0.0f) {
        return fail_at(MT_INVALID_ARGUMENT, MT_MA_INPUT_TARGETS, b, j, "targets at row %lld, class %lld is %g < 0",
                       (long long)b, (long long)j, static_cast<double>(c.targets[i]));
      }
    }
  }
  return MT_OK;
}

struct Scratch {
  std::vector<float> sx, z, e, ga, gd;
  explicit Scratch(int64_t C) : sx(C), z(C), e(C), ga(C), gd(C) {}
};

// Row b: adds its K losses to loss[k] and its G·sx to h[k·C + c] (h may be null), writes dA, dD of the row.
void row(const MultiAlphaCall& c, const float* r, int64_t b, double* loss, double* h, Scratch& w) {
  const int64_t C = c.classes, K = c.n_points;
  const float* ar = c.a + b * C;
  const float* dr = c.d + b * C;
  const float* pr = c.kl() ? c.targets + b * C : nullptr;
  const float s = c.scale;
  // Σq and what of ℓ does not depend on k: CE q = ε/C + (1 − ε)·[c = y]; KL Σ P log P.
  double qsum = 1.0, plogp = 0.0;
  const float q_off = c.smoothing / static_cast<float>(C), q_label = 1.0f - c.smoothing;
  const int64_t y = c.kl() ? -1 : c.labels[b];
  if (c.kl()) {
    qsum = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      qsum += pr[j];
      if (pr[j] > 0.0f) plogp += static_cast<double>(pr[j]) * std::log(static_cast<double>(pr[j]));
    }
  }
  std::fill(w.ga.begin(), w.ga.end(), 0.0f);
  std::fill(w.gd.begin(), w.gd.end(), 0.0f);
  for (int64_t k = 0; k < K; ++k) {
    const float al = c.alphas[k];
    const float* rk = r + k * C;
    float m = -INFINITY;
    for (int64_t j = 0; j < C; ++j) {
      const float sx = s * (ar[j] + al * dr[j]);
      const float z = sx * rk[j];
      w.sx[j] = sx;
      w.z[j] = z;
      m = std::max(m, z);
    }
    double sum = 0.0, qz = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      const float e = std::exp(w.z[j] - m);
      w.e[j] = e;
      sum += e;
      qz += c.kl() ? static_cast<double>(pr[j]) * w.z[j] : static_cast<double>(w.z[j]);
    }
    const double lse = m + std::log(sum);
    // CE: ℓ = lse − (ε/C)·Σz − (1 − ε)·z_y;  KL: ℓ = Σ P log P − Σ P·z + ΣP·lse
    loss[k] += c.kl() ? plogp - qz + qsum * lse : lse - q_off * qz - q_label * static_cast<double>(w.z[y]);
    const float inv = static_cast<float>(qsum / sum);  // p·Σq = e·(Σq/Σe)
    const float gs = static_cast<float>(static_cast<double>(c.weights[k]) / static_cast<double>(c.rows));
    double* hk = h != nullptr ? h + k * C : nullptr;
    for (int64_t j = 0; j < C; ++j) {
      const float q = c.kl() ? pr[j] : (j == y ? q_label + q_off : q_off);
      const float g = gs * (w.e[j] * inv - q);
      const float gr = g * rk[j];
      w.ga[j] += gr;
      w.gd[j] += al * gr;
      if (hk != nullptr) hk[j] += static_cast<double>(g) * w.sx[j];
    }
  }
  if (c.grad_a != nullptr) {
    for (int64_t j = 0; j < C; ++j) c.grad_a[b * C + j] = s * w.ga[j];
  }
  if (c.grad_d != nullptr) {
    for (int64_t j = 0; j < C; ++j) c.grad_d[b * C + j] = s * w.gd[j];
  }
}

mt_status check_results(const MultiAlphaCall& c) {
  const int64_t B = c.rows, C = c.classes;
  for (int32_t k = 0; k < c.n_points && c.losses != nullptr; ++k) {
    if (!finite_f(c.losses[k])) {
      return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, -1, k, "loss of point %d overflowed: %g", k,
                     static_cast<double>(c.losses[k]));
    }
  }
  if (c.total != nullptr && !finite_f(*c.total)) {
    return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, -1, -1, "total loss overflowed: %g", static_cast<double>(*c.total));
  }
  float* rows[2] = {c.grad_a, c.grad_d};
  for (float* g : rows) {
    if (g == nullptr) continue;
    for (int64_t i = 0; i < B * C; ++i) {
      if (!finite_f(g[i])) {
        return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, i / C, i % C, "gradient %s overflowed at row %lld, class %lld",
                       g == c.grad_a ? "grad_a" : "grad_d", (long long)(i / C), (long long)(i % C));
      }
    }
  }
  float* cols[3] = {c.grad_n0, c.grad_n1, c.grad_n2};
  for (float* g : cols) {
    if (g == nullptr) continue;
    for (int64_t j = 0; j < C; ++j) {
      if (!finite_f(g[j])) {
        return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, -1, j, "gradient of n overflowed at class %lld", (long long)j);
      }
    }
  }
  return MT_OK;
}

}  // namespace

mt_status multialpha_f32(const MultiAlphaCall& c) {
  const int64_t B = c.rows, C = c.classes, K = c.n_points;
  mt_status st = check_inputs(c);
  if (st != MT_OK) return st;

  // r_k[c] in fp32 for the logits, in double for the n-gradient factors.
  std::vector<float> r(K * C, 1.0f);
  std::vector<double> rd(c.renorm() ? K * C : 0);
  if (c.renorm()) {
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t j = 0; j < C; ++j) {
        double v = 0.0;
        if (!multialpha_r(c.n0[j], c.n1[j], c.n2[j], c.alphas[k], &v)) {
          return fail_at(MT_INVALID_ARGUMENT, MT_MA_INPUT_N0, -1, j,
                         "n0 + 2α·n1 + α²·n2 must be finite and > 0: class %lld, α = %g gives %g + 2·%g·%g + %g²·%g",
                         (long long)j, static_cast<double>(c.alphas[k]), static_cast<double>(c.n0[j]),
                         static_cast<double>(c.alphas[k]), static_cast<double>(c.n1[j]),
                         static_cast<double>(c.alphas[k]), static_cast<double>(c.n2[j]));
        }
        rd[k * C + j] = v;
        r[k * C + j] = static_cast<float>(v);
      }
    }
  }

  const int64_t per_block = (B + kRowBlocks - 1) / kRowBlocks;
  const int64_t blocks = (B + per_block - 1) / per_block;
  const bool want_h = c.want_n();
  std::vector<double> loss_part(blocks * K, 0.0), h_part(want_h ? blocks * K * C : 0, 0.0);
  const int64_t min_blocks = std::max<int64_t>(1, kMinWorkPerThread / std::max<int64_t>(1, per_block * K * C));
  parallel_ranges(blocks, min_blocks, std::max(1, cpu_threads()), [&](int32_t, int64_t begin, int64_t end) {
    Scratch w(C);
    for (int64_t blk = begin; blk < end; ++blk) {
      double* h = want_h ? &h_part[blk * K * C] : nullptr;
      for (int64_t b = blk * per_block; b < std::min(B, (blk + 1) * per_block); ++b) {
        row(c, r.data(), b, &loss_part[blk * K], h, w);
      }
    }
  });

  double total = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    double l = 0.0;
    for (int64_t blk = 0; blk < blocks; ++blk) l += loss_part[blk * K + k];
    l /= static_cast<double>(B);
    total += static_cast<double>(c.weights[k]) * l;
    if (c.losses != nullptr) c.losses[k] = static_cast<float>(l);
  }
  if (c.total != nullptr) *c.total = static_cast<float>(total);

  if (want_h) {
    for (int64_t j = 0; j < C; ++j) {
      double g0 = 0.0, g1 = 0.0, g2 = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        double hk = 0.0;
        for (int64_t blk = 0; blk < blocks; ++blk) hk += h_part[(blk * K + k) * C + j];
        const double rk = rd[k * C + j], al = c.alphas[k];
        const double f = -0.5 * hk * rk * rk * rk;  // ∂r/∂q = −½·r³
        g0 += f;
        g1 += 2.0 * al * f;
        g2 += al * al * f;
      }
      if (c.grad_n0 != nullptr) c.grad_n0[j] = static_cast<float>(g0);
      if (c.grad_n1 != nullptr) c.grad_n1[j] = static_cast<float>(g1);
      if (c.grad_n2 != nullptr) c.grad_n2[j] = static_cast<float>(g2);
    }
  }
  if ((c.flags & MT_CHECK_FINITE) != 0) return check_results(c);
  return MT_OK;
}

}  // namespace mt::cpu
