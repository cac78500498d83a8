// mt_signmax_unify_f32 / mt_signmax_decouple_f32 on the CPU: the worked example, edge cases, the reference of
// signmax_ref.h on random inputs (U and masks bit for bit, sums to 1e-12), thread counts, NaNs and arguments.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mergetune/mergetune.h"
#include "signmax_ref.h"
#include "test_main.h"

namespace {

int64_t words(int64_t n) { return (n + 31) / 32; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-300; }

// T tasks over a segment table, as deltas or as models with θ0, with the kernel's and the reference's outputs.
struct Problem {
  std::vector<int64_t> lengths;
  int32_t n_tasks;
  bool with_theta0;
  std::vector<std::vector<float>> theta0;                 // [segment]
  std::vector<std::vector<std::vector<float>>> inputs;    // [task][segment]
  std::vector<std::vector<float>> unified;                // [segment]
  std::vector<std::vector<std::vector<uint32_t>>> masks;  // [task][segment]
  std::vector<double> sum_abs, sum_masked;                // task-major

  Problem(std::vector<int64_t> lens, int32_t tasks, bool theta, uint32_t seed)
      : lengths(std::move(lens)), n_tasks(tasks), with_theta0(theta) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> w(0.f, 1.f), d(0.f, 0.01f);
    std::uniform_int_distribution<int> pick(0, 9);
    const int64_t S = segments();
    theta0.resize(S);
    inputs.assign(tasks, std::vector<std::vector<float>>(S));
    for (int64_t s = 0; s < S; ++s) {
      theta0[s].resize(lengths[s]);
      for (auto& v : theta0[s]) v = theta ? w(rng) : 0.f;
      for (int32_t i = 0; i < tasks; ++i) {
        inputs[i][s].resize(lengths[s]);
        for (int64_t j = 0; j < lengths[s]; ++j) {
          // Some exact zeros and ties, or the strict masks and the tie rule go untested.
          const int k = pick(rng);
          const float delta = k == 0 ? 0.f : k == 1 && i > 0 ? -(inputs[0][s][j] - theta0[s][j]) : d(rng);
          inputs[i][s][j] = theta0[s][j] + delta;
        }
      }
    }
    reset_outputs();
  }

  int64_t segments() const { return static_cast<int64_t>(lengths.size()); }

  void reset_outputs() {
    const int64_t S = segments();
    unified.assign(S, {});
    masks.assign(n_tasks, std::vector<std::vector<uint32_t>>(S));
    for (int64_t s = 0; s < S; ++s) {
      unified[s].assign(lengths[s], std::numeric_limits<float>::quiet_NaN());
      for (int32_t i = 0; i < n_tasks; ++i) masks[i][s].assign(words(lengths[s]), 0xdeadbeefu);
    }
    sum_abs.assign(static_cast<size_t>(n_tasks) * S, -1.0);
    sum_masked.assign(static_cast<size_t>(n_tasks) * S, -1.0);
  }

  mt_status unify(int32_t flags = MT_CHECK_FINITE, bool with_sums = true) {
    const int64_t S = segments();
    std::vector<const float*> z, x;
    std::vector<float*> u;
    std::vector<uint32_t*> m;
    for (int64_t s = 0; s < S; ++s) {
      z.push_back(theta0[s].data());
      u.push_back(unified[s].data());
    }
    for (int32_t i = 0; i < n_tasks; ++i) {
      for (int64_t s = 0; s < S; ++s) {
        x.push_back(inputs[i][s].data());
        m.push_back(masks[i][s].data());
      }
    }
    return mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, S, lengths.data(), with_theta0 ? z.data() : nullptr, n_tasks,
                                x.data(), u.data(), m.data(), with_sums ? sum_abs.data() : nullptr,
                                with_sums ? sum_masked.data() : nullptr, flags);
  }

  // Compares the last unify with the reference; returns a description of the first mismatch, or "".
  std::string against_reference() const {
    const int64_t S = segments();
    for (int64_t s = 0; s < S; ++s) {
      const int64_t n = lengths[s];
      std::vector<const float*> x;
      for (int32_t i = 0; i < n_tasks; ++i) x.push_back(inputs[i][s].data());
      std::vector<float> u(n);
      std::vector<std::vector<uint32_t>> m(n_tasks, std::vector<uint32_t>(words(n)));
      std::vector<uint32_t*> mp;
      for (auto& v : m) mp.push_back(v.data());
      std::vector<double> a(n_tasks, 0.0), b(n_tasks, 0.0);
      mt::ref::signmax_unify(n, with_theta0 ? theta0[s].data() : nullptr, x.data(), n_tasks, u.data(), mp.data(),
                             a.data(), b.data());
      if (!same_bits(u, unified[s])) return "U differs in segment " + std::to_string(s);
      for (int32_t i = 0; i < n_tasks; ++i) {
        if (m[i] != masks[i][s]) return "mask of task " + std::to_string(i) + " differs in segment " + std::to_string(s);
        if (!close(a[i], sum_abs[i * S + s], 1e-12)) return "sum_abs_delta differs, segment " + std::to_string(s);
        if (!close(b[i], sum_masked[i * S + s], 1e-12)) return "sum_abs_masked differs, segment " + std::to_string(s);
      }
    }
    return "";
  }
};

void check_reference(std::vector<int64_t> lengths, int32_t tasks, bool theta0, uint32_t seed) {
  Problem p(std::move(lengths), tasks, theta0, seed);
  MT_CHECK_MSG(p.unify() == MT_OK, mt_last_error());
  const std::string why = p.against_reference();
  MT_CHECK_MSG(why.empty(), why + " (tasks " + std::to_string(tasks) + (theta0 ? ", with theta0)" : ", deltas)"));
}

uint32_t bits_of(const std::vector<int>& on) {
  uint32_t w = 0;
  for (size_t k = 0; k < on.size(); ++k) w |= static_cast<uint32_t>(on[k] != 0) << k;
  return w;
}

}  // namespace

MT_TEST(signmax_worked_example) {
  int64_t len = 4;
  const float d1[4] = {0.3f, -0.2f, 0.f, 0.1f}, d2[4] = {0.1f, 0.4f, -0.5f, -0.1f};
  const float* inputs[2] = {d1, d2};
  float u[4];
  uint32_t m1 = 0xffffffffu, m2 = 0xffffffffu;
  uint32_t* masks[2] = {&m1, &m2};
  float* unified[1] = {u};
  double sa[2], sm[2];
  MT_CHECK_MSG(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 2, inputs, unified, masks, sa, sm,
                                    MT_CHECK_FINITE) == MT_OK, mt_last_error());
  MT_CHECK(u[0] == 0.3f && u[1] == 0.4f && u[2] == -0.5f && u[3] == -0.1f);
  MT_CHECK(m1 == bits_of({1, 0, 0, 0}));
  MT_CHECK(m2 == bits_of({1, 1, 1, 1}));
  const double l1 = mt::ref::signmax_rescaler(1, &len, 0, sa, sm), l2 = mt::ref::signmax_rescaler(1, &len, 1, sa, sm);
  MT_CHECK_MSG(std::fabs(l1 - 2.0) < 1e-6, std::to_string(l1));
  MT_CHECK_MSG(std::fabs(l2 - 0.846154) < 1e-6, std::to_string(l2));

  // Decouple with θ0 = 0: the experts are λ^i·M^i⊙U.
  const float zero[4] = {0.f, 0.f, 0.f, 0.f};
  const float* z[1] = {zero};
  const float* uu[1] = {u};
  float e1[4], e2[4];
  float* o1[1] = {e1};
  float* o2[1] = {e2};
  const uint32_t* mm1[1] = {&m1};
  const uint32_t* mm2[1] = {&m2};
  MT_CHECK(mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, 1, &len, o1, z, uu, mm1, static_cast<float>(l1),
                                   MT_CHECK_FINITE) == MT_OK);
  MT_CHECK(mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, 1, &len, o2, z, uu, mm2, static_cast<float>(l2),
                                   MT_CHECK_FINITE) == MT_OK);
  const float want1[4] = {0.6f, 0.f, 0.f, 0.f}, want2[4] = {0.253846f, 0.338462f, -0.423077f, -0.084615f};
  for (int k = 0; k < 4; ++k) {
    MT_CHECK_MSG(std::fabs(e1[k] - want1[k]) < 1e-6, std::to_string(k) + ": " + std::to_string(e1[k]));
    MT_CHECK_MSG(std::fabs(e2[k] - want2[k]) < 1e-6, std::to_string(k) + ": " + std::to_string(e2[k]));
  }
  MT_CHECK(std::signbit(e1[1]) == false && e1[1] == 0.f);  // mask 0: θ0 exactly
}

MT_TEST(signmax_single_task_gives_u_equal_delta_and_lambda_one) {
  Problem p({1000}, 1, false, 21);
  MT_CHECK(p.unify() == MT_OK);
  for (int64_t j = 0; j < 1000; ++j) {
    const float d = p.inputs[0][0][j];
    MT_CHECK(p.unified[0][j] == d);  // exact zeros give +0 (== 0)
  }
  const double l = mt::ref::signmax_rescaler(1, p.lengths.data(), 0, p.sum_abs.data(), p.sum_masked.data());
  MT_CHECK_MSG(l == 1.0, std::to_string(l));
}

MT_TEST(signmax_exact_tie_is_minus_one_and_zero_element_has_no_masks) {
  int64_t len = 3;
  // element 0: +0.25 and −0.25 tie -> flag −1, task 1 agrees; element 1: all zero; element 2: +x, −x, +0 tie
  const float d1[3] = {0.25f, 0.f, 0.5f}, d2[3] = {-0.25f, 0.f, -0.5f}, d3[3] = {0.f, 0.f, 0.f};
  const float* inputs[3] = {d1, d2, d3};
  float u[3];
  uint32_t m[3] = {~0u, ~0u, ~0u};
  uint32_t* masks[3] = {&m[0], &m[1], &m[2]};
  float* unified[1] = {u};
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 3, inputs, unified, masks, nullptr, nullptr,
                                MT_CHECK_FINITE) == MT_OK);
  MT_CHECK(u[0] == -0.25f && u[2] == -0.5f);
  MT_CHECK(u[1] == 0.f && !std::signbit(u[1]));  // no task agrees: +0
  MT_CHECK(m[0] == bits_of({0, 0, 0}));
  MT_CHECK(m[1] == bits_of({1, 0, 1}));
  MT_CHECK(m[2] == 0u);  // exact zeros never get mask 1
}

MT_TEST(signmax_models_with_theta0_equal_deltas_form) {
  Problem models({5000, 33}, 4, true, 22);
  MT_CHECK(models.unify() == MT_OK);
  Problem deltas = models;
  deltas.with_theta0 = false;
  for (int32_t i = 0; i < 4; ++i)
    for (size_t s = 0; s < deltas.lengths.size(); ++s)
      for (size_t j = 0; j < deltas.inputs[i][s].size(); ++j) deltas.inputs[i][s][j] -= models.theta0[s][j];
  deltas.reset_outputs();
  MT_CHECK(deltas.unify() == MT_OK);
  for (size_t s = 0; s < deltas.lengths.size(); ++s) MT_CHECK(same_bits(deltas.unified[s], models.unified[s]));
  MT_CHECK(deltas.masks == models.masks);
  MT_CHECK(deltas.sum_abs == models.sum_abs && deltas.sum_masked == models.sum_masked);
}

MT_TEST(signmax_lengths_against_reference) {
  for (int64_t n : {0, 1, 31, 32, 33, 63, 64, 65, 999, 1023, 1024, 1025, 65535, 65536, 65537}) {
    check_reference({n}, 3, false, 30 + static_cast<uint32_t>(n));
    check_reference({n}, 2, true, 31 + static_cast<uint32_t>(n));
  }
  check_reference({0, 5, 0, 0, 3000, 0, 77}, 4, true, 32);
}

MT_TEST(signmax_task_counts_against_reference) {
  for (int32_t t : {1, 2, 3, 5, 8, 9, 16}) check_reference({4097, 300}, t, t % 2 == 0, 40 + t);
}

MT_TEST(signmax_many_segments_against_reference) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int64_t> len(0, 3000);
  std::vector<int64_t> lengths(500);
  for (auto& n : lengths) n = len(rng);
  check_reference(lengths, 3, true, 50);
}

MT_TEST(signmax_large_spans_threads_against_reference) { check_reference({1'500'001, 700'000}, 3, true, 51); }

MT_TEST(signmax_no_sums_requested) {
  Problem p({10'000}, 2, false, 52);
  MT_CHECK(p.unify(MT_CHECK_FINITE, /*with_sums=*/false) == MT_OK);
  MT_CHECK(p.sum_abs[0] == -1.0);  // untouched
  p.sum_abs.assign(p.sum_abs.size(), 0.0);
  p.sum_masked.assign(p.sum_masked.size(), 0.0);
  // U and masks are the same as with sums
  Problem q = p;
  q.reset_outputs();
  MT_CHECK(q.unify() == MT_OK);
  MT_CHECK(same_bits(p.unified[0], q.unified[0]) && p.masks == q.masks);
}

MT_TEST(signmax_thread_count_does_not_change_results) {
  Problem p({1'200'003, 900'000}, 3, true, 53);
  mt_set_num_threads(1);
  MT_CHECK(p.unify() == MT_OK);
  const Problem single = p;
  for (int threads : {2, 3, 7}) {
    mt_set_num_threads(threads);
    p.reset_outputs();
    MT_CHECK(p.unify() == MT_OK);
    for (size_t s = 0; s < p.lengths.size(); ++s) MT_CHECK(same_bits(p.unified[s], single.unified[s]));
    MT_CHECK(p.masks == single.masks);
    MT_CHECK(p.sum_abs == single.sum_abs && p.sum_masked == single.sum_masked);  // bit for bit: chunk partials
  }
  mt_set_num_threads(0);
}

MT_TEST(signmax_nan_is_reported_with_its_location) {
  Problem p({50, 400'000}, 3, true, 54);
  p.inputs[2][1][123'456] = std::numeric_limits<float>::quiet_NaN();
  p.inputs[0][1][300'000] = std::numeric_limits<float>::infinity();
  MT_CHECK(p.unify() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 2);
  MT_CHECK(mt_last_error_segment() == 1);
  MT_CHECK(mt_last_error_element() == 123'456);
  MT_CHECK(std::string(mt_last_error()).find("model 2") != std::string::npos);

  Problem q({70}, 2, true, 55);
  q.theta0[0][69] = -std::numeric_limits<float>::infinity();
  q.inputs[1][0][69] = std::numeric_limits<float>::quiet_NaN();
  MT_CHECK(q.unify() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE && mt_last_error_element() == 69);

  Problem o({10}, 2, true, 56);  // finite inputs whose delta overflows: the task is named
  o.theta0[0][4] = -3e38f;
  o.inputs[1][0][4] = 3e38f;
  MT_CHECK(o.unify() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 1 && mt_last_error_element() == 4);

  Problem r({10}, 2, false, 57);  // without the flag: not checked, a NaN delta never gets a mask
  r.inputs[0][0][3] = std::numeric_limits<float>::quiet_NaN();
  MT_CHECK(r.unify(0) == MT_OK);
  MT_CHECK(((r.masks[0][0][0] >> 3) & 1u) == 0);
}

MT_TEST(signmax_bad_arguments_are_named) {
  int64_t len = 4;
  float buf[4] = {1, 2, 3, 4};
  uint32_t word = 0;
  const float* in[2] = {buf, nullptr};
  float out_buf[4];
  float* unified[1] = {out_buf};
  uint32_t* masks[2] = {&word, &word};
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 2, in, unified, masks, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == 1 && mt_last_error_segment() == 0);
  MT_CHECK(std::string(mt_last_error()).find("task 1 segment 0") != std::string::npos);
  in[1] = buf;
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 0, in, unified, masks, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("n_tasks") != std::string::npos);
  MT_CHECK(mt_signmax_unify_f32(5, nullptr, 1, &len, nullptr, 2, in, unified, masks, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  const float* z[1] = {nullptr};
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, z, 2, in, unified, masks, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
  float* null_u[1] = {nullptr};
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 2, in, null_u, masks, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT);
  uint32_t* null_m[2] = {&word, nullptr};
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 2, in, unified, null_m, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT && std::string(mt_last_error()).find("task 1") != std::string::npos);
  float* aliased[1] = {buf};  // unified may not alias an input
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &len, nullptr, 2, in, aliased, masks, nullptr, nullptr, 0) ==
           MT_INVALID_ARGUMENT);
  int64_t negative = -1;
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 1, &negative, nullptr, 2, in, unified, masks, nullptr, nullptr,
                                0) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, 0, nullptr, nullptr, 2, nullptr, nullptr, nullptr, nullptr,
                                nullptr, 0) == MT_OK);

  const float* zz[1] = {buf};
  const float* uu[1] = {out_buf};
  const uint32_t* mm[1] = {&word};
  float* o[1] = {out_buf};
  MT_CHECK(mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, 1, &len, o, zz, uu, mm, NAN, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("lambda") != std::string::npos);
  const uint32_t* null_mask[1] = {nullptr};
  MT_CHECK(mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, 1, &len, o, zz, uu, null_mask, 1.f, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("mask segment 0") != std::string::npos);
  MT_CHECK(mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, 1, &len, o, z, uu, mm, 1.f, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
}

MT_TEST(signmax_decouple_in_place_over_theta0_matches_reference) {
  Problem p({100'003, 31, 0, 300'000}, 3, true, 60);
  MT_CHECK(p.unify() == MT_OK);
  const int64_t S = p.segments();
  for (int32_t task = 0; task < 3; ++task) {
    const float lambda = 0.7f + 0.4f * static_cast<float>(task);
    std::vector<std::vector<float>> theta = p.theta0;  // in place over a copy of θ0
    std::vector<float*> o;
    std::vector<const float*> z, u;
    std::vector<const uint32_t*> m;
    for (int64_t s = 0; s < S; ++s) {
      o.push_back(theta[s].data());
      z.push_back(theta[s].data());
      u.push_back(p.unified[s].data());
      m.push_back(p.masks[task][s].data());
    }
    MT_CHECK_MSG(mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, S, p.lengths.data(), o.data(), z.data(), u.data(),
                                         m.data(), lambda, MT_CHECK_FINITE) == MT_OK, mt_last_error());
    for (int64_t s = 0; s < S; ++s) {
      std::vector<float> want(p.lengths[s]);
      mt::ref::signmax_decouple(p.lengths[s], p.theta0[s].data(), p.unified[s].data(), p.masks[task][s].data(), lambda,
                                want.data());
      MT_CHECK(same_bits(want, theta[s]));
    }
  }
}

MT_TEST(signmax_decouple_reports_non_finite) {
  Problem p({2000, 500'000}, 2, true, 61);
  MT_CHECK(p.unify() == MT_OK);
  const int64_t S = p.segments();
  auto run = [&](std::vector<std::vector<float>>& theta, float lambda) {
    std::vector<float*> o;
    std::vector<const float*> z, u;
    std::vector<const uint32_t*> m;
    for (int64_t s = 0; s < S; ++s) {
      o.push_back(theta[s].data());
      z.push_back(theta[s].data());
      u.push_back(p.unified[s].data());
      m.push_back(p.masks[0][s].data());
    }
    return mt_signmax_decouple_f32(MT_DEVICE_CPU, nullptr, S, p.lengths.data(), o.data(), z.data(), u.data(), m.data(),
                                   lambda, MT_CHECK_FINITE);
  };
  auto theta = p.theta0;
  theta[1][400'001] = std::numeric_limits<float>::quiet_NaN();
  p.unified[1][400'000] = std::numeric_limits<float>::infinity();
  MT_CHECK(run(theta, 1.f) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 0 && mt_last_error_segment() == 1 && mt_last_error_element() == 400'000);
  p.unified[1][400'000] = 0.f;
  theta = p.theta0;
  theta[1][400'001] = std::numeric_limits<float>::quiet_NaN();
  MT_CHECK(run(theta, 1.f) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE && mt_last_error_element() == 400'001);
  MT_CHECK(std::isnan(theta[1][400'001]));  // in place: the bad input is still there
  // overflow from finite inputs at an element whose bit is set
  int64_t j = 0;
  while (((p.masks[0][0][j / 32] >> (j % 32)) & 1u) == 0) ++j;
  theta = p.theta0;
  theta[0][j] = 3e38f;
  p.unified[0][j] = 3e38f;
  MT_CHECK(run(theta, 2.f) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT && mt_last_error_element() == j);
}

MT_TEST(signmax_mask_words_have_zero_high_bits) {
  for (int64_t n : {1, 5, 31, 33, 100}) {
    Problem p({n}, 2, false, 70 + static_cast<uint32_t>(n));
    for (auto& v : p.inputs[0][0]) v = 1.f;  // every element agrees with +1
    MT_CHECK(p.unify() == MT_OK);
    const uint32_t last = p.masks[0][0].back();
    const int64_t used = n % 32 == 0 ? 32 : n % 32;
    MT_CHECK(used == 32 || (last >> used) == 0);
    MT_CHECK(used == 32 ? last == ~0u : last == (1u << used) - 1);
  }
}
