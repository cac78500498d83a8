// K2 (anchor.h) on the CPU: the weight-space value and gradient, the fused SGD and AdamW steps and the feature-space
// anchor against the double reference (anchor_ref.h), hand-computed vectors, finite differences, thread-count and
// ISA independence (bit for bit), argument errors and non-finite reports.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "anchor_ref.h"
#include "mergetune/mergetune.h"
#include "test_main.h"

namespace {

constexpr double kTol = 1e-6;

// A parameter set of several segments: w near w1, a loss gradient, optimizer state.
struct Set {
  std::vector<int64_t> lengths;
  std::vector<std::vector<float>> w, w1, g, s0, s1;

  Set(std::vector<int64_t> lens, uint32_t seed) : lengths(std::move(lens)) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.f, 1.f);
    for (int64_t len : lengths) {
      w.emplace_back(len), w1.emplace_back(len), g.emplace_back(len), s0.emplace_back(len), s1.emplace_back(len);
      for (int64_t j = 0; j < len; ++j) {
        w1.back()[j] = n(rng);
        w.back()[j] = w1.back()[j] + 0.1f * n(rng);
        g.back()[j] = 0.01f * n(rng);
        s0.back()[j] = 0.01f * n(rng);
        s1.back()[j] = 1e-4f * std::fabs(n(rng));
      }
    }
  }
  int64_t S() const { return static_cast<int64_t>(lengths.size()); }
  template <class T>
  static std::vector<T*> ptrs(std::vector<std::vector<float>>& v) {
    std::vector<T*> p;
    for (auto& x : v) p.push_back(x.data());
    return p;
  }
  mt_status value_grad(float lambda, double* value, bool with_grad, int32_t flags = MT_CHECK_FINITE) {
    auto pw = ptrs<const float>(w), pw1 = ptrs<const float>(w1);
    auto pg = ptrs<float>(g);
    return mt_anchor_f32(MT_DEVICE_CPU, nullptr, S(), lengths.data(), pw.data(), pw1.data(),
                         with_grad ? pg.data() : nullptr, lambda, value, flags);
  }
  mt_status sgd(float lambda, double lr, double mom, double damp, double wd, bool nesterov, bool first,
                double* value, int32_t flags = MT_CHECK_FINITE) {
    auto pw = ptrs<float>(w), pb = ptrs<float>(s0);
    auto pw1 = ptrs<const float>(w1), pg = ptrs<const float>(g);
    return mt_anchor_sgd_step_f32(MT_DEVICE_CPU, nullptr, S(), lengths.data(), pw.data(), pw1.data(), pg.data(),
                                  pb.data(), lambda, lr, mom, damp, wd, nesterov, first, value, flags);
  }
  mt_status adamw(float lambda, double lr, double b1, double b2, double eps, double wd, int64_t t, double* value,
                  int32_t flags = MT_CHECK_FINITE) {
    auto pw = ptrs<float>(w), pm = ptrs<float>(s0), pv = ptrs<float>(s1);
    auto pw1 = ptrs<const float>(w1), pg = ptrs<const float>(g);
    return mt_anchor_adamw_step_f32(MT_DEVICE_CPU, nullptr, S(), lengths.data(), pw.data(), pw1.data(), pg.data(),
                                    pm.data(), pv.data(), lambda, lr, b1, b2, eps, wd, t, value, flags);
  }
  double ref_value(double lambda) const {
    double v = 0;  // the reference per segment, added in double
    for (int64_t s = 0; s < S(); ++s) v += mt::ref::anchor_value(lengths[s], w[s].data(), w1[s].data(), lambda);
    return v;
  }
};

bool scaled_ok(double got, double exact, double scale, double tol = kTol) {
  return std::fabs(got - exact) <= tol * scale + 1e-30;
}

bool bits_equal(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  for (size_t s = 0; s < a.size(); ++s) {
    if (a[s].size() != b[s].size()) return false;
    if (!a[s].empty() && std::memcmp(a[s].data(), b[s].data(), a[s].size() * sizeof(float)) != 0) return false;
  }
  return true;
}

const std::vector<int64_t> kOdd = {1, 7, 0, 4097, 255, 12289, 3};

}  // namespace

MT_TEST(anchor_hand_vector) {
  Set p({3}, 1);
  p.w = {{1.f, 2.f, 3.f}};
  p.w1 = {{0.5f, 2.f, 4.f}};
  p.g = {{0.f, 0.f, 0.f}};
  double v = -1;
  MT_CHECK_MSG(p.value_grad(2.f, &v, true) == MT_OK, mt_last_error());
  MT_CHECK(v == 1.25);  // (2/2)·(0.25 + 0 + 1)
  MT_CHECK(p.g[0] == (std::vector<float>{1.f, 0.f, -2.f}));
}

MT_TEST(anchor_value_and_grad_vs_reference) {
  for (const float lambda : {0.f, 1.f, 8.f, -0.5f}) {
    Set p(kOdd, 2);
    const auto g0 = p.g;
    double v = 0;
    MT_CHECK_MSG(p.value_grad(lambda, &v, true) == MT_OK, mt_last_error());
    const double ref = p.ref_value(lambda);
    MT_CHECK_MSG(std::fabs(v - ref) <= 1e-12 * std::fabs(ref) + 1e-300, std::to_string(v) + " vs " + std::to_string(ref));
    for (int64_t s = 0; s < p.S(); ++s) {
      for (int64_t j = 0; j < p.lengths[s]; ++j) {
        double e, sc;
        mt::ref::anchored_grad(p.w[s][j], p.w1[s][j], g0[s][j], lambda, &e, &sc);
        MT_CHECK(scaled_ok(p.g[s][j], e, sc));
      }
    }
    if (lambda == 0.f) MT_CHECK(bits_equal(p.g, g0));
  }
}

MT_TEST(anchor_value_only_leaves_grad) {
  Set p(kOdd, 3);
  const auto g0 = p.g;
  double v = 0;
  MT_CHECK(p.value_grad(3.f, &v, false) == MT_OK);
  MT_CHECK(bits_equal(p.g, g0));
  MT_CHECK(std::fabs(v - p.ref_value(3.f)) <= 1e-12 * v);
}

MT_TEST(anchor_grad_matches_finite_differences) {
  Set p({5, 9}, 4);
  const float lambda = 4.f;
  for (auto& seg : p.g) std::fill(seg.begin(), seg.end(), 0.f);
  double v = 0;
  MT_CHECK(p.value_grad(lambda, &v, true) == MT_OK);
  for (int64_t s = 0; s < p.S(); ++s) {
    for (int64_t j = 0; j < p.lengths[s]; ++j) {
      Set q = p;
      const float x = p.w[s][j], h = 1.0f / 1024;
      double vp = 0, vm = 0;
      q.w[s][j] = x + h;
      MT_CHECK(q.value_grad(lambda, &vp, false) == MT_OK);
      q.w[s][j] = x - h;
      MT_CHECK(q.value_grad(lambda, &vm, false) == MT_OK);
      const double fd = (vp - vm) / ((static_cast<double>(x + h) - static_cast<double>(x - h)));
      MT_CHECK_MSG(std::fabs(fd - p.g[s][j]) <= 1e-5 * (std::fabs(fd) + 1e-3), std::to_string(fd) + " vs " + std::to_string(p.g[s][j]));
    }
  }
}

MT_TEST(anchor_sgd_hand_vector) {
  Set p({3}, 5);
  p.w = {{1.f, 2.f, 3.f}};
  p.w1 = {{0.5f, 2.f, 4.f}};
  p.g = {{0.f, 1.f, 0.f}};
  double v = 0;
  MT_CHECK(p.sgd(2.f, 0.5, 0.0, 0.0, 0.0, false, true, &v) == MT_OK);  // ĝ = {1, 1, -2}, lr 0.5
  MT_CHECK(v == 1.25);
  MT_CHECK(p.w[0] == (std::vector<float>{0.5f, 1.5f, 4.f}));
}

MT_TEST(anchor_adamw_hand_vector) {
  // Step 1: m̂ = ĝ, v̂ = ĝ², so w' = w·(1 − lr·wd) − lr·ĝ/(|ĝ| + eps) = w·(1 − lr·wd) − lr·sign(ĝ) (ĝ = 0: no move).
  Set p({3}, 6);
  p.w = {{1.f, 2.f, 3.f}};
  p.w1 = {{0.5f, 2.f, 4.f}};
  p.g = {{0.f, 0.f, 0.f}};
  p.s0 = {{0.f, 0.f, 0.f}};
  p.s1 = {{0.f, 0.f, 0.f}};
  double v = 0;
  MT_CHECK(p.adamw(2.f, 0.25, 0.9, 0.999, 1e-30, 0.5, 1, &v) == MT_OK);
  const float want[3] = {1.f * 0.875f - 0.25f, 2.f * 0.875f, 3.f * 0.875f + 0.25f};
  for (int j = 0; j < 3; ++j) MT_CHECK_MSG(std::fabs(p.w[0][j] - want[j]) <= 1e-6f, std::to_string(p.w[0][j]));
}

MT_TEST(anchor_sgd_vs_reference) {
  struct Cfg {
    double mom, damp, wd;
    bool nesterov, first;
  };
  for (const Cfg c : {Cfg{0, 0, 0, false, false}, Cfg{0.9, 0, 5e-4, false, true}, Cfg{0.9, 0, 5e-4, false, false},
                      Cfg{0.9, 0, 0, true, false}, Cfg{0.5, 0.1, 1e-2, false, false}}) {
    for (const float lambda : {0.f, 8.f}) {
      Set p(kOdd, 7);
      const Set before = p;
      double v = 0;
      MT_CHECK_MSG(p.sgd(lambda, 0.002, c.mom, c.damp, c.wd, c.nesterov, c.first, &v) == MT_OK, mt_last_error());
      MT_CHECK(std::fabs(v - before.ref_value(lambda)) <= 1e-12 * v + 1e-300);
      int bad = 0;
      for (int64_t s = 0; s < p.S(); ++s) {
        for (int64_t j = 0; j < p.lengths[s]; ++j) {
          const auto r = mt::ref::sgd(before.w[s][j], before.w1[s][j], before.g[s][j], before.s0[s][j], lambda, 0.002,
                                      c.mom, c.damp, c.wd, c.nesterov, c.first);
          bad += !scaled_ok(p.w[s][j], r.w, r.w_scale);
          if (c.mom != 0) bad += !scaled_ok(p.s0[s][j], r.buf, r.buf_scale);
        }
      }
      MT_CHECK_MSG(bad == 0, std::to_string(bad) + " elements off the reference");
      if (c.mom == 0) MT_CHECK(bits_equal(p.s0, before.s0));  // no buffer without momentum
    }
  }
}

MT_TEST(anchor_adamw_vs_reference) {
  for (const double wd : {0.0, 0.01}) {
    for (const int64_t t : {int64_t{1}, int64_t{2}, int64_t{100}}) {
      Set p(kOdd, 8);
      const Set before = p;
      double v = 0;
      MT_CHECK_MSG(p.adamw(8.f, 1e-3, 0.9, 0.999, 1e-8, wd, t, &v) == MT_OK, mt_last_error());
      int bad = 0;
      for (int64_t s = 0; s < p.S(); ++s) {
        for (int64_t j = 0; j < p.lengths[s]; ++j) {
          const auto r = mt::ref::adamw(before.w[s][j], before.w1[s][j], before.g[s][j], before.s0[s][j],
                                        before.s1[s][j], 8.0, 1e-3, 0.9, 0.999, 1e-8, wd, t);
          bad += !scaled_ok(p.w[s][j], r.w, r.w_scale) + !scaled_ok(p.s0[s][j], r.m, r.m_scale) +
                 !scaled_ok(p.s1[s][j], r.v, r.v_scale);
        }
      }
      MT_CHECK_MSG(bad == 0, std::to_string(bad) + " values off the reference");
    }
  }
}

MT_TEST(anchor_thread_count_and_isa_independent) {
  const std::vector<int64_t> big = {1'000'003, 4096 * 40 + 17, 5};
  struct Out {
    double v[3];
    Set s;
  };
  auto run_all = [&](int threads) {
    mt_set_num_threads(threads);
    Out o{{0, 0, 0}, Set(big, 9)};
    Set a = o.s, b = o.s;
    o.s.value_grad(2.f, &o.v[0], true);
    a.sgd(2.f, 0.01, 0.9, 0, 1e-4, true, false, &o.v[1]);
    b.adamw(2.f, 1e-3, 0.9, 0.999, 1e-8, 0.01, 3, &o.v[2]);
    o.s.w = a.w;
    o.s.s0 = a.s0;
    o.s.w1 = b.w;  // reuse the slots to carry every output
    o.s.s1 = b.s1;
    mt_set_num_threads(0);
    return o;
  };
  const Out one = run_all(1), four = run_all(4);
  for (int k = 0; k < 3; ++k) MT_CHECK(one.v[k] == four.v[k]);
  MT_CHECK(bits_equal(one.s.g, four.s.g) && bits_equal(one.s.w, four.s.w) && bits_equal(one.s.s0, four.s.s0) &&
           bits_equal(one.s.w1, four.s.w1) && bits_equal(one.s.s1, four.s.s1));
  if (mt_set_cpu_isa("avx2") == MT_OK) {  // the FMA twin against the portable loops
    const Out fast = run_all(2);
    mt_set_cpu_isa("generic");
    const Out portable = run_all(2);
    mt_set_cpu_isa(nullptr);
    for (int k = 0; k < 3; ++k) MT_CHECK(fast.v[k] == portable.v[k]);
    MT_CHECK(bits_equal(fast.s.g, portable.s.g) && bits_equal(fast.s.w, portable.s.w) &&
             bits_equal(fast.s.s0, portable.s.s0) && bits_equal(fast.s.w1, portable.s.w1) &&
             bits_equal(fast.s.s1, portable.s.s1));
  }
}

MT_TEST(anchor_empty_table) {
  double v = -1;
  MT_CHECK(mt_anchor_f32(MT_DEVICE_CPU, nullptr, 0, nullptr, nullptr, nullptr, nullptr, 1.f, &v, 0) == MT_OK);
  MT_CHECK(v == 0.0);
}

MT_TEST(anchor_argument_errors) {
  Set p({4}, 10);
  double v;
  auto expect = [](mt_status st, const char* fragment) {
    MT_CHECK(st == MT_INVALID_ARGUMENT);
    MT_CHECK_MSG(std::strstr(mt_last_error(), fragment) != nullptr, mt_last_error());
  };
  expect(p.value_grad(NAN, &v, true), "lambda");
  expect(p.sgd(1.f, -1.0, 0, 0, 0, false, false, &v), "lr");
  expect(p.sgd(1.f, 0.1, 0.0, 0, 0, true, false, &v), "nesterov");
  expect(p.sgd(1.f, 0.1, 0.9, 0.1, 0, true, false, &v), "nesterov");
  expect(p.adamw(1.f, 0.1, 1.0, 0.999, 1e-8, 0, 1, &v), "beta1");
  expect(p.adamw(1.f, 0.1, 0.9, 0.999, 1e-8, 0, 0, &v), "step");
  expect(p.adamw(1.f, 0.1, 0.9, 0.999, -1, 0, 1, &v), "eps");
  const float* w[1] = {p.w[0].data()};
  float* g[1] = {p.w[0].data()};
  expect(mt_anchor_f32(MT_DEVICE_CPU, nullptr, 1, p.lengths.data(), w, w, nullptr, 1.f, &v, 0), "same memory");
  const float* w1[1] = {p.w1[0].data()};
  expect(mt_anchor_f32(MT_DEVICE_CPU, nullptr, 1, p.lengths.data(), w, w1, g, 1.f, &v, 0), "same memory");
  const float* null_seg[1] = {nullptr};
  expect(mt_anchor_f32(MT_DEVICE_CPU, nullptr, 1, p.lengths.data(), w, null_seg, nullptr, 1.f, &v, 0), "w1 segment 0");
  int64_t neg = -1;
  expect(mt_anchor_f32(MT_DEVICE_CPU, nullptr, 1, &neg, w, w1, nullptr, 1.f, &v, 0), "negative");
  expect(mt_anchor_f32(7, nullptr, 1, p.lengths.data(), w, w1, nullptr, 1.f, &v, 0), "device");
  float f[4] = {1, 2, 3, 4}, z[4] = {1, 0, 0, 1};
  expect(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 0, 2, f, z, 1.f, &v, nullptr, 0), "n_classes");
  expect(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 2, 2, f, z, 1.f, nullptr, nullptr, 0), "value");
  expect(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 2, 2, f, z, 1.f, &v, f, 0), "grad_features");
  float zero_row[4] = {0, 0, 1, 1};
  expect(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 2, 2, zero_row, z, 1.f, &v, nullptr, 0), "zero norm");
}

MT_TEST(anchor_non_finite_is_reported_and_left_unchanged) {
  for (const int which : {0, 1, 2, 3, 4}) {
    for (const int op : {0, 1, 2}) {
      if (op == 0 && which > 2) continue;
      Set p(kOdd, 11);
      auto& target = which == 0 ? p.w : which == 1 ? p.w1 : which == 2 ? p.g : which == 3 ? p.s0 : p.s1;
      if (op == 1 && which == 4) continue;  // SGD has no second state
      target[3][100] = which % 2 ? NAN : -INFINITY;
      const Set before = p;
      double v;
      const mt_status st = op == 0 ? p.value_grad(1.f, &v, true)
                           : op == 1 ? p.sgd(1.f, 0.1, 0.9, 0, 0, false, false, &v)
                                     : p.adamw(1.f, 0.1, 0.9, 0.999, 1e-8, 0, 2, &v);
      MT_CHECK(st == MT_NON_FINITE);
      MT_CHECK_MSG(mt_last_error_input() == which, mt_last_error());
      MT_CHECK(mt_last_error_segment() == 3 && mt_last_error_element() == 100);
      MT_CHECK(std::memcmp(&p.w[3][100], &before.w[3][100], 4) == 0);  // the culprit's outputs are untouched
      MT_CHECK(std::memcmp(&p.g[3][100], &before.g[3][100], 4) == 0);
    }
  }
  Set p({5}, 12);  // an overflow from finite inputs
  p.g[0][2] = 3e38f;
  double v;
  MT_CHECK(p.sgd(0.f, 1e10, 0, 0, 0, false, false, &v) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT);
  Set q({5}, 13);  // without the flag nothing is checked
  q.g[0][1] = NAN;
  MT_CHECK(q.value_grad(1.f, &v, true, 0) == MT_OK);
  MT_CHECK(std::isnan(q.g[0][1]));
}

MT_TEST(anchor_feature_hand_vector) {
  const float F[2] = {3.f, 4.f}, z[2] = {1.f, 0.f};
  float g[2];
  double v = 0;
  MT_CHECK(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 1, 2, F, z, 2.f, &v, g, MT_CHECK_FINITE) == MT_OK);
  MT_CHECK(std::fabs(v - 0.8) <= 1e-15);  // 2·(1 − 3/5)
  MT_CHECK(std::fabs(g[0] - -0.256f) <= 1e-7f && std::fabs(g[1] - 0.192f) <= 1e-7f);
}

MT_TEST(anchor_feature_vs_reference_and_finite_differences) {
  for (const int64_t dim : {int64_t{1}, int64_t{7}, int64_t{512}, int64_t{700}}) {
    const int64_t C = 37;
    std::mt19937 rng(static_cast<uint32_t>(dim));
    std::normal_distribution<float> n(0.f, 1.f);
    std::vector<float> F(C * dim), z(C * dim), g(C * dim);
    for (auto& x : F) x = 3.f * n(rng);
    for (int64_t c = 0; c < C; ++c) {  // normalised targets, as the reference code passes them
      double nz = 0;
      for (int64_t j = 0; j < dim; ++j) {
        z[c * dim + j] = n(rng) + 0.5f * F[c * dim + j];
        nz += static_cast<double>(z[c * dim + j]) * z[c * dim + j];
      }
      for (int64_t j = 0; j < dim; ++j) z[c * dim + j] = static_cast<float>(z[c * dim + j] / std::sqrt(nz));
    }
    double v = 0;
    MT_CHECK_MSG(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, C, dim, F.data(), z.data(), 10.f, &v, g.data(),
                                       MT_CHECK_FINITE) == MT_OK, mt_last_error());
    std::vector<double> rg(C * dim);
    const double rv = mt::ref::anchor_feature(C, dim, F.data(), z.data(), 10.0, rg.data());
    MT_CHECK(std::fabs(v - rv) <= 1e-12 * std::fabs(rv) + 1e-14);
    double gmax = 0;
    for (double x : rg) gmax = std::max(gmax, std::fabs(x));
    int bad = 0;  // scaled by the magnitude of the two terms of each entry (they cancel when dim = 1)
    for (int64_t c = 0; c < C; ++c) {
      double nf = 0;
      for (int64_t j = 0; j < dim; ++j) nf += static_cast<double>(F[c * dim + j]) * F[c * dim + j];
      for (int64_t j = 0; j < dim; ++j) {
        const int64_t k = c * dim + j;
        const double scale = 10.0 / C * (std::fabs(z[k]) / std::sqrt(nf) + std::fabs(F[k]) / nf);
        bad += std::fabs(g[k] - rg[k]) > 1e-6 * scale;
      }
    }
    MT_CHECK_MSG(bad == 0, std::to_string(bad) + " gradient entries off, dim " + std::to_string(dim));
    for (const int64_t k : {int64_t{0}, dim / 2, C * dim - 1}) {  // central differences of the double value
      std::vector<float> Fp = F, Fm = F;
      const float h = 1e-2f * std::max(1.f, std::fabs(F[k]));
      Fp[k] += h;
      Fm[k] -= h;
      double vp = 0, vm = 0;
      mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, C, dim, Fp.data(), z.data(), 10.f, &vp, nullptr, 0);
      mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, C, dim, Fm.data(), z.data(), 10.f, &vm, nullptr, 0);
      const double fd = (vp - vm) / (static_cast<double>(Fp[k]) - Fm[k]);
      MT_CHECK_MSG(std::fabs(fd - g[k]) <= 1e-3 * gmax + 1e-9, std::to_string(fd) + " vs " + std::to_string(g[k]));
    }
  }
}

MT_TEST(anchor_feature_non_finite) {
  float F[4] = {1, 2, 3, NAN}, z[4] = {1, 0, 0, 1};
  double v;
  MT_CHECK(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 2, 2, F, z, 1.f, &v, nullptr, MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_ANCHOR_INPUT_W && mt_last_error_segment() == 1 && mt_last_error_element() == 1);
  F[3] = 1;
  z[2] = INFINITY;
  MT_CHECK(mt_anchor_feature_f32(MT_DEVICE_CPU, nullptr, 2, 2, F, z, 1.f, &v, nullptr, MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_ANCHOR_INPUT_STATE0);
}
