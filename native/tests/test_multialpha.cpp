// K1 (mt_multialpha_ce_f32 / mt_multialpha_kl_f32) on the CPU: the double reference of multialpha_ref.h (itself
// checked against central finite differences), closed forms for C = 2, K = 1 against a plain cross-entropy,
// plain vs re-normalised mode, label smoothing against KL to the smoothed targets, thread-count independence,
// argument errors and NaN reporting.
//
// Tolerance (multialpha.h): per output array max|got − ref| <= 1e-6·(1 + max|z|)·max|ref|, losses
// |got − ref| <= 1e-6·(1 + max|z|)·(1 + |ref|).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mergetune/mergetune.h"
#include "multialpha_ref.h"
#include "test_main.h"

namespace {

constexpr double kTol = 1e-6;  // worst seen on x86-64: 3.1e-8 (same scale)

struct Case {
  int64_t B, C;
  bool renorm, kl;
  std::vector<float> a, d, n0, n1, n2, targets, alphas, weights;
  std::vector<int32_t> labels;
  float smoothing = 0.1f, scale = 10.0f;

  // Outputs.
  std::vector<float> losses, ga, gd, gn0, gn1, gn2;
  float total = 0;

  // Image/text-like inputs: A = v̂·g, D = v̂·(F − g), n from g and F − g (unit-ish g, F near g).
  Case(int64_t rows, int64_t classes, int32_t K, bool renorm_mode, bool kl_mode, uint32_t seed)
      : B(rows), C(classes), renorm(renorm_mode), kl(kl_mode) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    const int dim = 8;
    std::vector<float> v(B * dim), g(C * dim), f(C * dim);
    for (auto& x : v) x = nd(rng);
    for (auto& x : g) x = nd(rng);
    for (size_t i = 0; i < f.size(); ++i) f[i] = g[i] + 0.5f * nd(rng);
    for (int64_t b = 0; b < B; ++b) {  // v̂ normalised, g normalised, so |A| <= 1
      float s = 0;
      for (int q = 0; q < dim; ++q) s += v[b * dim + q] * v[b * dim + q];
      for (int q = 0; q < dim; ++q) v[b * dim + q] /= std::sqrt(s);
    }
    for (int64_t c = 0; c < C; ++c) {
      float s = 0;
      for (int q = 0; q < dim; ++q) s += g[c * dim + q] * g[c * dim + q];
      for (int q = 0; q < dim; ++q) {
        g[c * dim + q] /= std::sqrt(s);
        f[c * dim + q] /= std::sqrt(s);
      }
    }
    a.resize(B * C);
    d.resize(B * C);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t c = 0; c < C; ++c) {
        float sa = 0, sd = 0;
        for (int q = 0; q < dim; ++q) {
          sa += v[b * dim + q] * g[c * dim + q];
          sd += v[b * dim + q] * (f[c * dim + q] - g[c * dim + q]);
        }
        a[b * C + c] = sa;
        d[b * C + c] = renorm ? sd : 0.5f * sd;
      }
    }
    if (renorm) {
      for (int64_t c = 0; c < C; ++c) {
        float s0 = 0, s1 = 0, s2 = 0;
        for (int q = 0; q < dim; ++q) {
          const float gq = g[c * dim + q], dq = f[c * dim + q] - gq;
          s0 += gq * gq;
          s1 += gq * dq;
          s2 += dq * dq;
        }
        n0.push_back(s0);
        n1.push_back(s1);
        n2.push_back(s2);
      }
    }
    std::uniform_int_distribution<int32_t> label(0, static_cast<int32_t>(C - 1));
    for (int64_t b = 0; b < B; ++b) labels.push_back(label(rng));
    if (kl) {  // a teacher's softmax, with some exact zeros
      targets.resize(B * C);
      for (int64_t b = 0; b < B; ++b) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c) {
          const float t = (c % 7 == 3) ? 0.0f : std::exp(2.0f * nd(rng));
          targets[b * C + c] = t;
          s += t;
        }
        for (int64_t c = 0; c < C; ++c) targets[b * C + c] = static_cast<float>(targets[b * C + c] / s);
      }
    }
    for (int32_t k = 0; k < K; ++k) {
      alphas.push_back(K == 1 ? 0.5f : 0.1f + 0.8f * k / (K - 1));
      weights.push_back(1.0f / K + 0.01f * k);
    }
  }

  mt_status run(int32_t flags = MT_CHECK_FINITE) {
    const int32_t K = static_cast<int32_t>(alphas.size());
    losses.assign(K, -1.f);
    ga.assign(B * C, -1.f);
    gd.assign(B * C, -1.f);
    gn0.assign(C, -1.f);
    gn1.assign(C, -1.f);
    gn2.assign(C, -1.f);
    const float* p0 = renorm ? n0.data() : nullptr;
    const float* p1 = renorm ? n1.data() : nullptr;
    const float* p2 = renorm ? n2.data() : nullptr;
    float* o0 = renorm ? gn0.data() : nullptr;
    float* o1 = renorm ? gn1.data() : nullptr;
    float* o2 = renorm ? gn2.data() : nullptr;
    if (kl) {
      return mt_multialpha_kl_f32(MT_DEVICE_CPU, nullptr, B, C, a.data(), d.data(), p0, p1, p2, targets.data(), K,
                                  alphas.data(), weights.data(), scale, losses.data(), &total, ga.data(), gd.data(),
                                  o0, o1, o2, flags);
    }
    return mt_multialpha_ce_f32(MT_DEVICE_CPU, nullptr, B, C, a.data(), d.data(), p0, p1, p2, labels.data(),
                                smoothing, K, alphas.data(), weights.data(), scale, losses.data(), &total, ga.data(),
                                gd.data(), o0, o1, o2, flags);
  }

  mt::ref::MultiAlphaProblem problem() const {
    mt::ref::MultiAlphaProblem p;
    p.rows = B;
    p.classes = C;
    p.a.assign(a.begin(), a.end());
    p.d.assign(d.begin(), d.end());
    if (renorm) {
      p.n0.assign(n0.begin(), n0.end());
      p.n1.assign(n1.begin(), n1.end());
      p.n2.assign(n2.begin(), n2.end());
    }
    if (kl) {
      p.targets.assign(targets.begin(), targets.end());
    } else {
      p.labels = labels;
      p.smoothing = smoothing;
    }
    p.alphas.assign(alphas.begin(), alphas.end());
    p.weights.assign(weights.begin(), weights.end());
    p.scale = scale;
    return p;
  }
};

// max|got − want| / max|want| (0 when both are 0).
double array_error(const std::vector<float>& got, const std::vector<double>& want) {
  double e = 0, m = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    e = std::max(e, std::isnan(d) ? INFINITY : d);
    m = std::max(m, std::fabs(want[i]));
  }
  return m == 0 ? e : e / m;
}

// Checks a run of `c` against the reference; returns a description of the worst miss, "" when within tolerance.
std::string compare(const Case& c, double tol_factor = 1.0) {
  const mt::ref::MultiAlphaResult r = mt::ref::multialpha(c.problem());
  const double tol = kTol * tol_factor * (1 + r.max_abs_logit);
  std::string why;
  auto check = [&](const char* name, double e) {
    if (!(e <= tol)) {
      char line[128];
      std::snprintf(line, sizeof(line), "%s error %.3g > %.3g (%.3g of the tolerance); ", name, e, tol, e / tol);
      why += line;
    }
  };
  for (size_t k = 0; k < r.losses.size(); ++k) check("loss", std::fabs(c.losses[k] - r.losses[k]) / (1 + std::fabs(r.losses[k])));
  check("total", std::fabs(c.total - r.total) / (1 + std::fabs(r.total)));
  check("grad_a", array_error(c.ga, r.grad_a));
  check("grad_d", array_error(c.gd, r.grad_d));
  if (c.renorm) {
    check("grad_n0", array_error(c.gn0, r.grad_n0));
    check("grad_n1", array_error(c.gn1, r.grad_n1));
    check("grad_n2", array_error(c.gn2, r.grad_n2));
  }
  return why;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

}  // namespace

MT_TEST(multialpha_reference_matches_finite_differences) {
  for (const bool renorm : {false, true}) {
    for (const bool kl : {false, true}) {
      Case c(3, 5, 3, renorm, kl, 7 + renorm * 2 + kl);
      c.scale = 3.0f;
      mt::ref::MultiAlphaProblem p = c.problem();
      const mt::ref::MultiAlphaResult r = mt::ref::multialpha(p);
      auto fd = [&](std::vector<double>& x, size_t i) {
        const double h = 1e-6 * std::max(1.0, std::fabs(x[i])), keep = x[i];
        x[i] = keep + h;
        const double up = mt::ref::multialpha_forward(p);
        x[i] = keep - h;
        const double down = mt::ref::multialpha_forward(p);
        x[i] = keep;
        return (up - down) / (2 * h);
      };
      double worst = 0;
      auto run = [&](std::vector<double>& x, const std::vector<double>& g) {
        for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(fd(x, i) - g[i]) / (1e-3 + std::fabs(g[i])));
      };
      run(p.a, r.grad_a);
      run(p.d, r.grad_d);
      if (renorm) {
        run(p.n0, r.grad_n0);
        run(p.n1, r.grad_n1);
        run(p.n2, r.grad_n2);
      }
      MT_CHECK_MSG(worst < 1e-6, "renorm " + std::to_string(renorm) + " kl " + std::to_string(kl) +
                                     ": worst relative difference " + std::to_string(worst));
    }
  }
}

MT_TEST(multialpha_matches_reference) {
  struct Shape {
    int64_t B, C;
    int32_t K;
  };
  const Shape shapes[] = {{1, 1, 1}, {1, 2, 1}, {3, 7, 2}, {17, 50, 5}, {128, 100, 5}, {70, 1000, 10}, {200, 13, 64}};
  uint32_t seed = 100;
  for (const Shape& s : shapes) {
    for (const bool renorm : {false, true}) {
      for (const bool kl : {false, true}) {
        Case c(s.B, s.C, s.K, renorm, kl, ++seed);
        const mt_status st = c.run();
        MT_CHECK_MSG(st == MT_OK, mt_last_error());
        const std::string why = compare(c);
        MT_CHECK_MSG(why.empty(), "B=" + std::to_string(s.B) + " C=" + std::to_string(s.C) + " K=" +
                                      std::to_string(s.K) + " renorm=" + std::to_string(renorm) + " kl=" +
                                      std::to_string(kl) + ": " + why);
      }
    }
  }
}

MT_TEST(multialpha_large_scale_and_zero_smoothing) {
  for (const float smoothing : {0.0f, 0.3f}) {
    Case c(64, 200, 5, true, false, 31);
    c.scale = 100.0f;  // CLIP's logit scale: |z| up to ~100
    c.smoothing = smoothing;
    MT_CHECK(c.run() == MT_OK);
    const std::string why = compare(c);
    MT_CHECK_MSG(why.empty(), why);
  }
}

// C = 2, one row, K = 1, no smoothing: ℓ = log(1 + exp(z_1 − z_0)) for label 0, ∂ℓ/∂z_0 = −σ(z_1 − z_0).
MT_TEST(multialpha_two_class_closed_form) {
  const float a[2] = {0.5f, -0.25f}, d[2] = {1.0f, 2.0f}, alpha = 0.5f, w = 1.0f, s = 2.0f;
  const int32_t label = 0;
  float loss = 0, total = 0, ga[2], gd[2];
  MT_CHECK(mt_multialpha_ce_f32(MT_DEVICE_CPU, nullptr, 1, 2, a, d, nullptr, nullptr, nullptr, &label, 0.0f, 1, &alpha,
                                &w, s, &loss, &total, ga, gd, nullptr, nullptr, nullptr, MT_CHECK_FINITE) == MT_OK);
  // z = 2·(0.5 + 0.5) = 2, 2·(−0.25 + 1) = 1.5
  const double delta = -0.5, want_loss = std::log1p(std::exp(delta)), sig = 1 / (1 + std::exp(-delta));
  MT_CHECK(std::fabs(loss - want_loss) < 1e-6 && std::fabs(total - want_loss) < 1e-6);
  MT_CHECK(std::fabs(ga[0] - (-2 * sig)) < 1e-6 && std::fabs(ga[1] - 2 * sig) < 1e-6);
  MT_CHECK(std::fabs(gd[0] - (-sig)) < 1e-6 && std::fabs(gd[1] - sig) < 1e-6);

  // Re-normalised, label 1: n chosen so that q = n0 + 2α·n1 + α²·n2 = 4 for class 0 (r = ½) and 1 for class 1.
  const float n0[2] = {2.0f, 1.0f}, n1[2] = {1.0f, 0.0f}, n2[2] = {4.0f, 0.0f};
  const int32_t label1 = 1;
  float gn0[2], gn1[2], gn2[2];
  MT_CHECK(mt_multialpha_ce_f32(MT_DEVICE_CPU, nullptr, 1, 2, a, d, n0, n1, n2, &label1, 0.0f, 1, &alpha, &w, s, &loss,
                                &total, ga, gd, gn0, gn1, gn2, MT_CHECK_FINITE) == MT_OK);
  // z_0 = 2·1·½ = 1, z_1 = 1.5; ℓ = log(1 + exp(z_0 − z_1)), ∂ℓ/∂z_0 = σ(z_0 − z_1) =: t, ∂ℓ/∂z_1 = −t.
  // ∂z_0/∂q_0 = −½·s·x_0·q_0^(-3/2) = −½·2·1/8 = −1/8; ∂q/∂(n0, n1, n2) = (1, 2α, α²) = (1, 1, ¼).
  const double t = 1 / (1 + std::exp(0.5));
  MT_CHECK(std::fabs(loss - std::log1p(std::exp(-0.5))) < 1e-6);
  MT_CHECK(std::fabs(ga[0] - t * 2 * 0.5) < 1e-6 && std::fabs(ga[1] + t * 2) < 1e-6);
  MT_CHECK(std::fabs(gn0[0] - t * -0.125) < 1e-6 && std::fabs(gn1[0] - t * -0.125) < 1e-6 &&
           std::fabs(gn2[0] - t * -0.125 * 0.25) < 1e-6);
  // class 1: ∂z_1/∂q_1 = −½·s·x_1·q_1^(-3/2) = −½·2·0.75·1 = −0.75, times ∂ℓ/∂z_1 = −t
  MT_CHECK(std::fabs(gn0[1] - 0.75 * t) < 1e-6 && std::fabs(gn1[1] - 0.75 * t) < 1e-6 &&
           std::fabs(gn2[1] - 0.75 * t * 0.25) < 1e-6);
}

// K = 1 at α = 0 is a plain cross-entropy of s·A: loss and (softmax − onehot)·s/B computed here directly.
MT_TEST(multialpha_single_point_is_plain_cross_entropy) {
  Case c(9, 11, 1, false, false, 5);
  c.alphas = {0.0f};
  c.weights = {1.0f};
  c.smoothing = 0.0f;
  MT_CHECK(c.run() == MT_OK);
  double loss = 0, worst = 0;
  for (int64_t b = 0; b < c.B; ++b) {
    double m = -INFINITY, sum = 0;
    for (int64_t j = 0; j < c.C; ++j) m = std::max(m, 10.0 * c.a[b * c.C + j]);
    for (int64_t j = 0; j < c.C; ++j) sum += std::exp(10.0 * c.a[b * c.C + j] - m);
    loss += m + std::log(sum) - 10.0 * c.a[b * c.C + c.labels[b]];
    for (int64_t j = 0; j < c.C; ++j) {
      const double p = std::exp(10.0 * c.a[b * c.C + j] - m) / sum;
      const double g = 10.0 * (p - (j == c.labels[b] ? 1 : 0)) / c.B;
      worst = std::max(worst, std::fabs(c.ga[b * c.C + j] - g));
      MT_CHECK(c.gd[b * c.C + j] == 0.0f);
    }
  }
  loss /= c.B;
  MT_CHECK_MSG(std::fabs(c.losses[0] - loss) < 2e-5 * (1 + loss), std::to_string(c.losses[0]) + " vs " + std::to_string(loss));
  MT_CHECK(c.total == c.losses[0]);
  MT_CHECK_MSG(worst < 1e-5, std::to_string(worst));
}

// A K-point call gives, point by point, the losses of K one-point calls (bit for bit), and their weighted sums of
// gradients to rounding.
MT_TEST(multialpha_points_are_independent) {
  Case all(20, 30, 4, true, false, 17);
  MT_CHECK(all.run() == MT_OK);
  std::vector<double> ga(all.ga.size(), 0.0), gn1(all.C, 0.0);
  for (size_t k = 0; k < all.alphas.size(); ++k) {
    Case one = all;
    one.alphas = {all.alphas[k]};
    one.weights = {all.weights[k]};
    MT_CHECK(one.run() == MT_OK);
    MT_CHECK(one.losses[0] == all.losses[k]);
    for (size_t i = 0; i < ga.size(); ++i) ga[i] += one.ga[i];
    for (int64_t j = 0; j < all.C; ++j) gn1[j] += one.gn1[j];
  }
  MT_CHECK(array_error(all.ga, ga) < 1e-6);
  MT_CHECK(array_error(all.gn1, gn1) < 1e-6);
}

// n0 = 1, n1 = n2 = 0 makes r ≡ 1: the re-normalised mode gives the plain mode's results bit for bit.
MT_TEST(multialpha_renorm_with_unit_norms_is_plain) {
  for (const bool kl : {false, true}) {
    Case plain(12, 40, 5, false, kl, 23);
    MT_CHECK(plain.run() == MT_OK);
    Case unit = plain;
    unit.renorm = true;
    unit.n0.assign(unit.C, 1.0f);
    unit.n1.assign(unit.C, 0.0f);
    unit.n2.assign(unit.C, 0.0f);
    MT_CHECK(unit.run() == MT_OK);
    MT_CHECK(same_bits(plain.losses, unit.losses) && plain.total == unit.total);
    MT_CHECK(same_bits(plain.ga, unit.ga) && same_bits(plain.gd, unit.gd));
    MT_CHECK_MSG(compare(unit).empty(), compare(unit));  // the n-gradients, against the reference
  }
}

// CE with smoothing ε equals KL to the smoothed one-hot targets, minus their entropy; the gradients are equal.
MT_TEST(multialpha_smoothing_is_kl_to_smoothed_targets) {
  Case ce(10, 25, 3, true, false, 41);
  ce.smoothing = 0.2f;
  MT_CHECK(ce.run() == MT_OK);
  Case kl = ce;
  kl.kl = true;
  kl.targets.assign(ce.B * ce.C, ce.smoothing / ce.C);
  for (int64_t b = 0; b < ce.B; ++b) kl.targets[b * ce.C + ce.labels[b]] += 1.0f - ce.smoothing;
  MT_CHECK(kl.run() == MT_OK);
  double entropy = 0;  // mean over rows of −Σ q log q (the same for every row)
  for (int64_t j = 0; j < ce.C; ++j) {
    const double q = kl.targets[j];
    entropy -= q * std::log(q);
  }
  for (size_t k = 0; k < ce.alphas.size(); ++k) {
    MT_CHECK_MSG(std::fabs(ce.losses[k] - (kl.losses[k] + entropy)) < 1e-5,
                 std::to_string(ce.losses[k]) + " vs " + std::to_string(kl.losses[k] + entropy));
  }
  std::vector<double> ref(ce.ga.begin(), ce.ga.end());
  MT_CHECK(array_error(kl.ga, ref) < 1e-6);
  ref.assign(ce.gn2.begin(), ce.gn2.end());
  MT_CHECK(array_error(kl.gn2, ref) < 1e-5);
}

MT_TEST(multialpha_thread_count_independent) {
  for (const bool kl : {false, true}) {
    Case c(300, 120, 5, true, kl, 53);
    mt_set_num_threads(1);
    MT_CHECK(c.run() == MT_OK);
    const Case one = c;
    for (const int32_t threads : {2, 3, 7, 16}) {
      mt_set_num_threads(threads);
      MT_CHECK(c.run() == MT_OK);
      MT_CHECK_MSG(same_bits(one.losses, c.losses) && one.total == c.total && same_bits(one.ga, c.ga) &&
                       same_bits(one.gd, c.gd) && same_bits(one.gn0, c.gn0) && same_bits(one.gn1, c.gn1) &&
                       same_bits(one.gn2, c.gn2),
                   std::to_string(threads) + " threads differ from 1");
    }
    mt_set_num_threads(0);
  }
}

MT_TEST(multialpha_null_outputs_are_skipped) {
  Case c(5, 6, 2, true, false, 61);
  MT_CHECK(c.run() == MT_OK);
  float losses[2], total;
  MT_CHECK(mt_multialpha_ce_f32(MT_DEVICE_CPU, nullptr, c.B, c.C, c.a.data(), c.d.data(), c.n0.data(), c.n1.data(),
                                c.n2.data(), c.labels.data(), c.smoothing, 2, c.alphas.data(), c.weights.data(),
                                c.scale, losses, &total, nullptr, nullptr, nullptr, nullptr, nullptr,
                                MT_CHECK_FINITE) == MT_OK);
  MT_CHECK(losses[0] == c.losses[0] && losses[1] == c.losses[1] && total == c.total);
}

MT_TEST(multialpha_argument_errors) {
  Case c(4, 5, 2, true, false, 71);
  auto expect = [&](mt_status st, const char* fragment) {
    MT_CHECK_MSG(st == MT_INVALID_ARGUMENT && std::strstr(mt_last_error(), fragment) != nullptr,
                 std::string(mt_status_name(st)) + ": " + mt_last_error() + " (wanted '" + fragment + "')");
  };
  float loss[MT_MULTIALPHA_MAX_POINTS + 1], total;
  auto call = [&](int64_t B, int64_t C, const float* n1, const int32_t* labels, float eps, int32_t K,
                  const float* alphas, float scale, float* gn0) {
    return mt_multialpha_ce_f32(MT_DEVICE_CPU, nullptr, B, C, c.a.data(), c.d.data(), c.n0.data(), n1, c.n2.data(),
                                labels, eps, K, alphas, c.weights.data(), scale, loss, &total, nullptr, nullptr, gn0,
                                nullptr, nullptr, 0);
  };
  const float* n1 = c.n1.data();
  const int32_t* lab = c.labels.data();
  const float* al = c.alphas.data();
  expect(call(0, 5, n1, lab, 0.1f, 2, al, 10, nullptr), "rows and classes");
  expect(call(4, 0, n1, lab, 0.1f, 2, al, 10, nullptr), "rows and classes");
  expect(call(4, 5, n1, lab, 0.1f, 0, al, 10, nullptr), "n_points");
  expect(call(4, 5, n1, lab, 0.1f, MT_MULTIALPHA_MAX_POINTS + 1, al, 10, nullptr), "n_points");
  expect(call(4, 5, nullptr, lab, 0.1f, 2, al, 10, nullptr), "2 of 3 given");
  expect(call(4, 5, n1, nullptr, 0.1f, 2, al, 10, nullptr), "labels must not be NULL");
  expect(call(4, 5, n1, lab, 1.0f, 2, al, 10, nullptr), "smoothing");
  expect(call(4, 5, n1, lab, -0.1f, 2, al, 10, nullptr), "smoothing");
  expect(call(4, 5, n1, lab, NAN, 2, al, 10, nullptr), "smoothing");
  expect(call(4, 5, n1, lab, 0.1f, 2, al, INFINITY, nullptr), "scale");
  const float bad_alpha[2] = {0.1f, NAN};
  expect(call(4, 5, n1, lab, 0.1f, 2, bad_alpha, 10, nullptr), "alphas[1]");
  std::vector<int32_t> bad_labels = c.labels;
  bad_labels[2] = 5;
  expect(call(4, 5, n1, bad_labels.data(), 0.1f, 2, al, 10, nullptr), "labels[2] = 5");
  MT_CHECK(mt_last_error_input() == MT_MA_INPUT_TARGETS && mt_last_error_segment() == 2);
  bad_labels[2] = -1;
  expect(call(4, 5, n1, bad_labels.data(), 0.1f, 2, al, 10, nullptr), "labels[2] = -1");
  std::vector<float> neg_n1 = c.n1;  // q = n0 + 2α·n1 + α²·n2 <= 0 for class 3
  neg_n1[3] = -100.0f;
  expect(call(4, 5, neg_n1.data(), lab, 0.1f, 2, al, 10, nullptr), "class 3");
  // plain mode with n-gradients asked for
  float gn[5];
  MT_CHECK(mt_multialpha_ce_f32(MT_DEVICE_CPU, nullptr, 4, 5, c.a.data(), c.d.data(), nullptr, nullptr, nullptr, lab,
                                0.1f, 2, al, c.weights.data(), 10, loss, &total, nullptr, nullptr, gn, nullptr, nullptr,
                                0) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_multialpha_kl_f32(MT_DEVICE_CPU, nullptr, 4, 5, c.a.data(), c.d.data(), nullptr, nullptr, nullptr,
                                nullptr, 2, al, c.weights.data(), 10, loss, &total, nullptr, nullptr, nullptr, nullptr,
                                nullptr, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::strstr(mt_last_error(), "targets must not be NULL") != nullptr);
  MT_CHECK(mt_multialpha_ce_f32(7, nullptr, 4, 5, c.a.data(), c.d.data(), nullptr, nullptr, nullptr, lab, 0.1f, 2, al,
                                c.weights.data(), 10, loss, &total, nullptr, nullptr, nullptr, nullptr, nullptr,
                                0) == MT_INVALID_ARGUMENT);
}

MT_TEST(multialpha_reports_non_finite_inputs) {
  {
    Case c(6, 9, 3, true, false, 81);
    c.a[3 * 9 + 5] = NAN;
    MT_CHECK(c.run(0) == MT_OK);  // without the check: computes (with NaNs)
    MT_CHECK(c.run() == MT_NON_FINITE);
    MT_CHECK(mt_last_error_input() == MT_MA_INPUT_A && mt_last_error_segment() == 3 && mt_last_error_element() == 5);
  }
  {
    Case c(6, 9, 3, true, false, 82);
    c.d[0] = INFINITY;
    MT_CHECK(c.run() == MT_NON_FINITE && mt_last_error_input() == MT_MA_INPUT_D && mt_last_error_element() == 0);
  }
  {
    Case c(6, 9, 3, true, false, 83);
    c.n1[4] = NAN;
    MT_CHECK(c.run() == MT_NON_FINITE && mt_last_error_input() == MT_MA_INPUT_N1 && mt_last_error_segment() == -1 &&
             mt_last_error_element() == 4);
  }
  {
    Case c(6, 9, 3, false, true, 84);
    c.targets[2 * 9 + 1] = NAN;
    MT_CHECK(c.run() == MT_NON_FINITE && mt_last_error_input() == MT_MA_INPUT_TARGETS &&
             mt_last_error_segment() == 2 && mt_last_error_element() == 1);
    c.targets[2 * 9 + 1] = -0.5f;
    MT_CHECK(c.run() == MT_INVALID_ARGUMENT && mt_last_error_input() == MT_MA_INPUT_TARGETS);
  }
  {
    Case c(6, 9, 3, false, false, 85);
    c.scale = 1e38f;  // finite inputs, overflowing logits
    c.a[7] = 100.0f;
    MT_CHECK(c.run() == MT_NON_FINITE && mt_last_error_input() == MT_MA_INPUT_RESULT);
  }
}
