// mt_interp_f32 on the CPU against the double reference, plus argument and NaN reporting.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "interp_ref.h"
#include "mergetune/mergetune.h"
#include "test_main.h"

namespace {

struct Problem {
  std::vector<int64_t> lengths;
  std::vector<std::vector<float>> base, out;
  std::vector<std::vector<std::vector<float>>> models;  // [model][segment]
  std::vector<float> lambdas;

  Problem(std::vector<int64_t> lens, int32_t n_models, uint32_t seed) : lengths(std::move(lens)) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> w(0.f, 1.f), d(0.f, 0.05f);
    std::uniform_real_distribution<float> lam(-1.f, 1.5f);
    for (int64_t n : lengths) {
      base.emplace_back(n);
      out.emplace_back(n, -7.f);
      for (auto& v : base.back()) v = w(rng);
    }
    models.resize(n_models);
    for (int32_t i = 0; i < n_models; ++i) {
      for (size_t s = 0; s < lengths.size(); ++s) {
        models[i].emplace_back(base[s]);
        for (auto& v : models[i][s]) v += d(rng);
      }
      lambdas.push_back(lam(rng));
    }
  }

  mt_status run(bool in_place = false, int32_t flags = MT_CHECK_FINITE) {
    const int64_t ns = static_cast<int64_t>(lengths.size());
    std::vector<float*> o;
    std::vector<const float*> b, m;
    for (int64_t s = 0; s < ns; ++s) {
      o.push_back(in_place ? base[s].data() : out[s].data());
      b.push_back(base[s].data());
    }
    for (auto& model : models)
      for (auto& seg : model) m.push_back(seg.data());
    return mt_interp_f32(MT_DEVICE_CPU, nullptr, ns, lengths.data(), o.data(), b.data(),
                         static_cast<int32_t>(models.size()), m.data(), lambdas.data(), flags);
  }

  // Max scaled error of `result` (out, or base after an in-place run) against the reference of the inputs
  // `reference_base` held before the run.
  double error(const std::vector<std::vector<float>>& result, const std::vector<std::vector<float>>& reference_base) {
    double worst = 0;
    for (size_t s = 0; s < lengths.size(); ++s) {
      const int64_t n = lengths[s];
      std::vector<double> exact(n), scale(n);
      std::vector<const float*> m;
      for (auto& model : models) m.push_back(model[s].data());
      mt::ref::interp(n, reference_base[s].data(), m.data(), lambdas.data(), static_cast<int32_t>(models.size()),
                      exact.data(), scale.data());
      worst = std::max(worst, mt::ref::compare(n, result[s].data(), exact.data(), scale.data()).max_scaled_error);
    }
    return worst;
  }
};

void check_sizes(std::vector<int64_t> lengths, int32_t n_models, uint32_t seed) {
  Problem p(lengths, n_models, seed);
  MT_CHECK_MSG(p.run() == MT_OK, mt_last_error());
  const double err = p.error(p.out, p.base);
  MT_CHECK_MSG(err <= 1e-6, "scaled error " + std::to_string(err));
}

}  // namespace

MT_TEST(empty_table_is_ok) {
  Problem p({}, 2, 1);
  MT_CHECK(p.run() == MT_OK);
}

MT_TEST(single_element) { check_sizes({1}, 3, 2); }
MT_TEST(odd_length) { check_sizes({7, 13, 1023, 1025}, 2, 3); }
MT_TEST(zero_length_segments_between_others) { check_sizes({0, 5, 0, 0, 3000, 0}, 4, 4); }

MT_TEST(many_segments) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int64_t> len(0, 5000);
  std::vector<int64_t> lengths(1000);
  for (auto& n : lengths) n = len(rng);
  check_sizes(lengths, 3, 6);
}

MT_TEST(large_segment_spans_threads) { check_sizes({3'000'001, 1'000'000}, 2, 7); }

MT_TEST(zero_models_copies_base) {
  Problem p({100}, 0, 8);
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(p.out[0] == p.base[0]);
}

MT_TEST(wise_ft_endpoints_are_exact) {
  Problem p({4097}, 1, 9);
  p.lambdas = {0.f};
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(p.out[0] == p.base[0]);
  p.lambdas = {1.f};
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(p.error(p.out, p.base) <= 1e-6);
}

MT_TEST(in_place_over_base) {
  Problem p({10'000, 77}, 3, 10);
  const auto before = p.base;
  MT_CHECK(p.run(/*in_place=*/true) == MT_OK);
  MT_CHECK(p.error(p.base, before) <= 1e-6);
}

MT_TEST(nan_in_a_model_is_reported_with_its_location) {
  Problem p({50, 400'000}, 3, 11);
  p.models[2][1][123'456] = std::numeric_limits<float>::quiet_NaN();
  MT_CHECK(p.run() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 2);
  MT_CHECK(mt_last_error_segment() == 1);
  MT_CHECK(mt_last_error_element() == 123'456);
  MT_CHECK(std::string(mt_last_error()).find("model 2") != std::string::npos);
}

MT_TEST(inf_in_base_is_reported_even_when_in_place) {
  Problem p({1000}, 2, 12);
  p.base[0][999] = -std::numeric_limits<float>::infinity();
  MT_CHECK(p.run(/*in_place=*/true) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
  MT_CHECK(mt_last_error_element() == 999);
}

MT_TEST(first_of_several_nans_is_reported) {
  Problem p({300'000, 300'000}, 1, 13);
  p.models[0][1][5] = NAN;
  p.models[0][0][299'999] = NAN;
  MT_CHECK(p.run() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_segment() == 0);
  MT_CHECK(mt_last_error_element() == 299'999);
}

MT_TEST(overflow_from_finite_inputs_is_reported_as_output) {
  Problem p({4}, 1, 14);
  p.base[0][1] = 3e38f;
  p.models[0][0][1] = -3e38f;
  p.lambdas = {-1.f};  // 3e38 + (-1)(-6e38) overflows
  MT_CHECK(p.run() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT);
}

MT_TEST(nan_passes_through_without_the_check_flag) {
  Problem p({10}, 1, 15);
  p.models[0][0][3] = NAN;
  MT_CHECK(p.run(false, 0) == MT_OK);
  MT_CHECK(std::isnan(p.out[0][3]));
}

MT_TEST(bad_arguments_are_named) {
  int64_t len = 4;
  float buf[4] = {};
  float* out[1] = {buf};
  const float* base[1] = {nullptr};
  MT_CHECK(mt_interp_f32(MT_DEVICE_CPU, nullptr, 1, &len, out, base, 0, nullptr, nullptr, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("base segment 0") != std::string::npos);
  MT_CHECK(mt_interp_f32(7, nullptr, 0, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 0) == MT_INVALID_ARGUMENT);
  int64_t negative = -1;
  const float* base_ok[1] = {buf};
  MT_CHECK(mt_interp_f32(MT_DEVICE_CPU, nullptr, 1, &negative, out, base_ok, 0, nullptr, nullptr, 0) == MT_INVALID_ARGUMENT);
  const float* models[1] = {buf};
  float nan_lambda = NAN;
  MT_CHECK(mt_interp_f32(MT_DEVICE_CPU, nullptr, 1, &len, out, base_ok, 1, models, &nan_lambda, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("lambda of model 0") != std::string::npos);
}

MT_TEST(thread_count_does_not_change_results) {
  Problem a({2'000'003}, 2, 16);
  mt_set_num_threads(1);
  MT_CHECK(a.run() == MT_OK);
  const auto single = a.out;
  mt_set_num_threads(3);
  MT_CHECK(a.run() == MT_OK);
  mt_set_num_threads(0);
  MT_CHECK(a.out == single);
}

MT_TEST(status_names_and_cuda_query_are_consistent) {
  MT_CHECK(std::string(mt_status_name(MT_NON_FINITE)) == "MT_NON_FINITE");
  if (mt_cuda_device_count() == 0) {
    MT_CHECK(std::strlen(mt_cuda_unavailable_reason()) > 0);
  }
}

// Large calls take the streaming (non-temporal store) path on AVX2 machines; its aligned-head logic must handle
// an output that is not 32-byte aligned, and its NaN check must still locate the culprit.
MT_TEST(streaming_path_with_misaligned_output_matches_reference) {
  Problem p({3'000'001}, 3, 17);
  std::vector<float> shifted(p.lengths[0] + 3, -1.f);
  for (int offset = 1; offset <= 3; ++offset) {
    float* out[1] = {shifted.data() + offset};
    const float* base[1] = {p.base[0].data()};
    std::vector<const float*> models;
    for (auto& m : p.models) models.push_back(m[0].data());
    MT_CHECK_MSG(mt_interp_f32(MT_DEVICE_CPU, nullptr, 1, p.lengths.data(), out, base, 3, models.data(),
                               p.lambdas.data(), MT_CHECK_FINITE) == MT_OK, mt_last_error());
    std::vector<std::vector<float>> result{std::vector<float>(out[0], out[0] + p.lengths[0])};
    MT_CHECK(p.error(result, p.base) <= 1e-6);
  }
}

MT_TEST(nan_is_located_in_the_streaming_path) {
  Problem p({2'500'000, 10}, 2, 18);
  p.models[0][0][2'000'003] = std::numeric_limits<float>::infinity();
  MT_CHECK(p.run() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 0);
  MT_CHECK(mt_last_error_segment() == 0);
  MT_CHECK(mt_last_error_element() == 2'000'003);
}

MT_TEST(cpu_isa_is_reported) {
  const std::string isa = mt_cpu_isa();
  MT_CHECK(isa == "avx2" || isa == "generic");
  const char* forced = std::getenv("MERGETUNE_CPU_ISA");
  if (forced != nullptr && std::string(forced) == "generic") MT_CHECK(isa == "generic");
}
