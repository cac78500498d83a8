// mt_ties_* on the CPU: hand-checked vectors, exact selection (histograms and the per-segment radix selection)
// against a full sort and against each other, tie cutoffs, census and merge against ties_ref.h on random inputs,
// edge cases, thread counts, NaNs, arguments.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mergetune/mergetune.h"
#include "test_main.h"
#include "ties_internal.h"
#include "ties_ref.h"

namespace {

constexpr int32_t CPU = MT_DEVICE_CPU;

// T models (and an optional base) over a segment table, with the pointer tables the ABI takes.
struct Set {
  std::vector<int64_t> lengths;
  int32_t T;
  bool has_base;
  std::vector<std::vector<float>> base;                 // [s]
  std::vector<std::vector<std::vector<float>>> models;  // [i][s]
  std::vector<const float*> base_ptrs, model_ptrs;

  Set(std::vector<int64_t> lens, int32_t t, bool with_base) : lengths(std::move(lens)), T(t), has_base(with_base) {
    base.resize(S());
    models.assign(T, std::vector<std::vector<float>>(S()));
    for (int64_t s = 0; s < S(); ++s) {
      base[s].assign(lengths[s], 0.0f);
      for (int32_t i = 0; i < T; ++i) models[i][s].assign(lengths[s], 0.0f);
    }
    tables();
  }
  int64_t S() const { return static_cast<int64_t>(lengths.size()); }
  void tables() {
    base_ptrs.clear();
    model_ptrs.clear();
    for (int64_t s = 0; s < S(); ++s) base_ptrs.push_back(base[s].data());
    for (int32_t i = 0; i < T; ++i) {
      for (int64_t s = 0; s < S(); ++s) model_ptrs.push_back(models[i][s].data());
    }
  }
  const float* const* b() const { return has_base ? base_ptrs.data() : nullptr; }
  mt::ref::TiesInputs ref() const { return {lengths, b(), model_ptrs.data(), T}; }

  // Random values: base ~ N(0,1); deltas ~ N(0, 0.01) with exact zeros, repeated magnitudes and exact cancellations.
  static Set random(std::vector<int64_t> lens, int32_t t, bool with_base, uint32_t seed) {
    Set p(std::move(lens), t, with_base);
    std::mt19937 rng(seed);
    std::normal_distribution<float> w(0.f, 1.f), d(0.f, 0.01f);
    std::uniform_int_distribution<int> pick(0, 19);
    for (int64_t s = 0; s < p.S(); ++s) {
      for (int64_t j = 0; j < p.lengths[s]; ++j) {
        const float b0 = with_base ? w(rng) : 0.0f;
        p.base[s][j] = b0;
        for (int32_t i = 0; i < t; ++i) {
          const int k = pick(rng);
          float delta = d(rng);
          if (k == 0) delta = 0.0f;
          if (k == 1) delta = 0.0078125f;                                 // a repeated magnitude (ties)
          if (k == 2) delta = -0.0078125f;
          if (k == 3 && i > 0) delta = -(p.models[0][s][j] - (with_base ? b0 : 0.0f));  // cancels model 0
          p.models[i][s][j] = with_base ? b0 + delta : delta;
        }
      }
    }
    return p;
  }
};

struct Plan {
  std::vector<uint32_t> thresholds;
  std::vector<int64_t> cutoffs;
};

// Per-(model, segment) trim through the ABI.
Plan trim(const Set& p, const std::vector<int64_t>& keep, int32_t ties) {
  Plan plan{std::vector<uint32_t>(p.T * p.S()), std::vector<int64_t>(p.T * p.S())};
  const mt_status st = mt_ties_trim_per_segment_f32(CPU, nullptr, p.S(), p.lengths.data(), p.b(), p.T,
                                                    p.model_ptrs.data(), keep.data(), ties, plan.thresholds.data(),
                                                    plan.cutoffs.data(), MT_CHECK_FINITE);
  MT_CHECK_MSG(st == MT_OK, mt_last_error());
  return plan;
}

// The keep decisions a plan makes, as the reference's [i][s][j] masks.
std::vector<std::vector<std::vector<char>>> masks_of(const Set& p, const Plan& plan) {
  std::vector<std::vector<std::vector<char>>> kept(p.T, std::vector<std::vector<char>>(p.S()));
  const auto in = p.ref();
  for (int32_t i = 0; i < p.T; ++i) {
    for (int64_t s = 0; s < p.S(); ++s) {
      const size_t q = i * p.S() + s;
      for (int64_t j = 0; j < p.lengths[s]; ++j) {
        float d = mt::ref::ties_delta(in, i, s, j);
        uint32_t a;
        std::memcpy(&a, &d, 4);
        a &= 0x7fffffffu;
        kept[i][s].push_back(a > plan.thresholds[q] || (a == plan.thresholds[q] && j < plan.cutoffs[q]));
      }
    }
  }
  return kept;
}

std::vector<std::vector<float>> merge(const Set& p, const Plan& plan, const std::vector<float>& weights,
                                      int32_t election, const std::vector<float>& zero, int32_t aggregate,
                                      float lambda, mt_status* status = nullptr) {
  std::vector<std::vector<float>> out(p.S());
  std::vector<float*> ptrs;
  for (int64_t s = 0; s < p.S(); ++s) {
    out[s].assign(p.lengths[s], -12345.0f);
    ptrs.push_back(out[s].data());
  }
  const mt_status st = mt_ties_merge_f32(CPU, nullptr, p.S(), p.lengths.data(), ptrs.data(), p.b(), p.T,
                                         p.model_ptrs.data(), plan.thresholds.data(), plan.cutoffs.data(),
                                         weights.data(), election, zero.data(), aggregate, lambda, MT_CHECK_FINITE);
  if (status != nullptr) {
    *status = st;
  } else {
    MT_CHECK_MSG(st == MT_OK, mt_last_error());
  }
  return out;
}

void expect_values(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  MT_CHECK_MSG(got.size() == want.size(), what);
  for (size_t j = 0; j < got.size() && j < want.size(); ++j) {
    MT_CHECK_MSG(std::fabs(got[j] - want[j]) <= 1e-6f * (1.0f + std::fabs(want[j])),
                 std::string(what) + " element " + std::to_string(j) + ": " + std::to_string(got[j]) + " vs " +
                     std::to_string(want[j]));
  }
}

// The worked vector: 3 models, 4 elements, base 0, top 2 per model.
//   δ1 = [ .5, −.2,  .1,   0]  keeps j0, j1      δ2 = [−.3, .4, .1, −.6]  keeps j1, j3
//   δ3 = [ .2, −.1, −.7,  .3]  keeps j2, j3
//   mass: [.5, .2, −.7, −.3] → signs [+, +, −, −] → disjoint mean = sum = [.5, .4, −.7, −.6]
//   count: [+1, 0, −1, 0] → zero sign +1: [.5, .4, −.7, .3]; zero sign 0 (negatives): [.5, −.2, −.7, −.6]
Set worked() {
  Set p({4}, 3, true);
  const float d[3][4] = {{.5f, -.2f, .1f, 0.f}, {-.3f, .4f, .1f, -.6f}, {.2f, -.1f, -.7f, .3f}};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) p.models[i][0][j] = d[i][j];
  }
  return p;
}

MT_TEST(ties_worked_vector_mass_and_count) {
  const Set p = worked();
  const Plan plan = trim(p, {2, 2, 2}, MT_TIES_TIES_KEEP_ALL);
  const std::vector<float> w = {1, 1, 1};
  expect_values(merge(p, plan, w, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0], {.5f, .4f, -.7f, -.6f},
                "mass/mean");
  expect_values(merge(p, plan, w, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_SUM, 1.f)[0], {.5f, .4f, -.7f, -.6f},
                "mass/sum");
  expect_values(merge(p, plan, w, MT_TIES_ELECT_COUNT, {1.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0], {.5f, .4f, -.7f, .3f},
                "count, zero +1");
  expect_values(merge(p, plan, w, MT_TIES_ELECT_COUNT, {0.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0],
                {.5f, -.2f, -.7f, -.6f}, "count, zero 0 selects negatives");
  // Census: count scores [+1, 0, −1, 0] sum to 0; mass scores [+, +, −, −] to 0 as well.
  int64_t census = 7;
  MT_CHECK(mt_ties_sign_census_f32(CPU, nullptr, 1, p.lengths.data(), p.b(), 3, p.model_ptrs.data(),
                                   plan.thresholds.data(), plan.cutoffs.data(), w.data(), MT_TIES_ELECT_COUNT,
                                   &census, 0) == MT_OK);
  MT_CHECK(census == 0);
}

// Mean and sum differ where models agree: keep everything, base 1, λ = 0.5.
//   δ = [1, 1, −1, 2], [1, −1, −1, 2], [1, 1, 1, −2] → elected [+, +, −, +]
//   sum [3, 2, −2, 4] → 1 + .5·sum = [2.5, 2, 0, 3];  mean [1, 1, −1, 2] → [1.5, 1.5, .5, 2]
MT_TEST(ties_disjoint_mean_and_sum_differ_where_models_agree) {
  Set p({4}, 3, true);
  const float d[3][4] = {{1, 1, -1, 2}, {1, -1, -1, 2}, {1, 1, 1, -2}};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      p.base[0][j] = 1.f;
      p.models[i][0][j] = 1.f + d[i][j];
    }
  }
  const Plan plan = trim(p, {4, 4, 4}, MT_TIES_TIES_KEEP_ALL);
  const std::vector<float> w = {1, 1, 1};
  expect_values(merge(p, plan, w, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_SUM, .5f)[0], {2.5f, 2.f, 0.f, 3.f}, "sum");
  expect_values(merge(p, plan, w, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_MEAN, .5f)[0], {1.5f, 1.5f, .5f, 2.f},
                "mean");
}

MT_TEST(ties_disjoint_max_takes_the_largest_agreeing_magnitude_times_the_sign) {
  // Everything kept (k = n), base 1, λ 2. Element 0: δ = (.1, .3, .2): mass + → max .3 (sum .6, mean .2).
  // Element 1: (−.1, −.3, .05): mass − → −.3. Element 2: (.25, −.25, 0): mass 0 → the zero sign: +1 takes .25,
  // −1 takes −.25, 0 gives 0 (the official code multiplies by the sign).
  Set p({3}, 3, true);
  const float d[3][3] = {{.1f, -.1f, .25f}, {.3f, -.3f, -.25f}, {.2f, .05f, 0.f}};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      p.base[0][j] = 1.f;
      p.models[i][0][j] = 1.f + d[i][j];
    }
  }
  const Plan all = trim(p, {3, 3, 3}, MT_TIES_TIES_EXACT);
  const std::vector<float> w = {1, 1, 1};
  // The δ are fp32 differences (1 + .1) − 1, so compare with the same float expressions.
  auto delta = [&](int i, int j) { return p.models[i][0][j] - p.base[0][j]; };
  const float e0 = 1.f + 2.f * delta(1, 0), e1 = 1.f + 2.f * delta(1, 1), e2p = 1.f + 2.f * delta(0, 2);
  const float e2n = 1.f + 2.f * delta(1, 2);
  for (float zero : {1.f, -1.f, 0.f}) {
    const auto got = merge(p, all, w, MT_TIES_ELECT_MASS, {zero}, MT_TIES_DISJOINT_MAX, 2.f)[0];
    MT_CHECK(got[0] == e0 && got[1] == e1);
    MT_CHECK(got[2] == (zero > 0 ? e2p : zero < 0 ? e2n : 1.f));
  }
  // Count election: element 2 has one vote each way, so the zero sign again; nothing kept gives the base.
  MT_CHECK(merge(p, all, w, MT_TIES_ELECT_COUNT, {1.f}, MT_TIES_DISJOINT_MAX, 2.f)[0][2] == e2p);
  const auto none = merge(p, trim(p, {0, 0, 0}, MT_TIES_TIES_EXACT), w, MT_TIES_ELECT_MASS, {1.f},
                          MT_TIES_DISJOINT_MAX, 2.f)[0];
  MT_CHECK(none == std::vector<float>(3, 1.f));
  // An unknown aggregate is named.
  std::vector<float*> o = {p.base[0].data()};
  MT_CHECK(mt_ties_merge_f32(CPU, nullptr, 1, p.lengths.data(), o.data(), p.b(), 3, p.model_ptrs.data(),
                             all.thresholds.data(), all.cutoffs.data(), w.data(), MT_TIES_ELECT_MASS,
                             std::vector<float>{1.f}.data(), 3, 1.f, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("MT_TIES_DISJOINT_MAX (2), got 3") != std::string::npos);
}

MT_TEST(ties_threshold_ties_keep_all_versus_exact) {
  // Model 0: |δ| = [1, 3, 1, 1, 2]; top 3 is {3, 2, 1...}: KEEP_ALL keeps all three 1s, EXACT only the first.
  Set p({5}, 1, false);
  const float d[5] = {1.f, -3.f, -1.f, 1.f, 2.f};
  for (int j = 0; j < 5; ++j) p.models[0][0][j] = d[j];
  const Plan all = trim(p, {3}, MT_TIES_TIES_KEEP_ALL);
  const Plan exact = trim(p, {3}, MT_TIES_TIES_EXACT);
  MT_CHECK(all.thresholds[0] == 0x3f800000u && exact.thresholds[0] == 0x3f800000u);  // the bits of 1.0f
  MT_CHECK(all.cutoffs[0] == 5);
  MT_CHECK(exact.cutoffs[0] == 1);  // the first 1 (element 0) only
  const std::vector<float> w = {1};
  expect_values(merge(p, all, w, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_SUM, 1.f)[0], {1, -3, -1, 1, 2}, "keep all");
  expect_values(merge(p, exact, w, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_SUM, 1.f)[0], {1, -3, 0, 0, 2}, "exact");
}

MT_TEST(ties_k_zero_one_and_all_and_tiny_tensors) {
  Set p({1, 2, 3}, 2, true);
  for (int64_t s = 0; s < 3; ++s) {
    for (int64_t j = 0; j < p.lengths[s]; ++j) {
      p.base[s][j] = 10.f * s;
      p.models[0][s][j] = p.base[s][j] + (j + 1);
      p.models[1][s][j] = p.base[s][j] - 0.5f * (j + 1);
    }
  }
  const std::vector<float> w = {1, 1};
  // k = 0 everywhere: nothing kept, out = base exactly.
  auto none = merge(p, trim(p, std::vector<int64_t>(6, 0), MT_TIES_TIES_EXACT), w, MT_TIES_ELECT_MASS, {1, 1, 1},
                    MT_TIES_DISJOINT_MEAN, 1.f);
  for (int64_t s = 0; s < 3; ++s) MT_CHECK(none[s] == p.base[s]);
  // k = 1 per (model, segment): model 0 keeps its last element (largest), model 1 too.
  const Plan one = trim(p, std::vector<int64_t>(6, 1), MT_TIES_TIES_EXACT);
  auto got = merge(p, one, w, MT_TIES_ELECT_MASS, {1, 1, 1}, MT_TIES_DISJOINT_MEAN, 1.f);
  expect_values(got[0], {1.f}, "n=1, k=1");           // +1 vs −.5: mass +
  expect_values(got[1], {10.f, 12.f}, "n=2, k=1");    // element 1: +2 vs −1 → +2
  expect_values(got[2], {20.f, 20.f, 23.f}, "n=3");   // element 2: +3 vs −1.5 → +3
  // k larger than the tensor keeps everything.
  const Plan all = trim(p, std::vector<int64_t>(6, 100), MT_TIES_TIES_EXACT);
  for (size_t q = 0; q < 6; ++q) MT_CHECK(all.thresholds[q] == 0 && all.cutoffs[q] == p.lengths[q % 3]);
}

MT_TEST(ties_one_model_is_its_trimmed_task_vector) {
  Set p = Set::random({777}, 1, true, 5);
  const Plan plan = trim(p, {100}, MT_TIES_TIES_KEEP_ALL);
  auto out = merge(p, plan, {1.f}, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_MEAN, 1.f);
  const auto kept = masks_of(p, plan);
  int64_t n_kept = 0;
  for (int64_t j = 0; j < 777; ++j) {
    const float d = p.models[0][0][j] - p.base[0][j];
    const float want = kept[0][0][j] && d != 0.f ? p.base[0][j] + 1.f * (d / 1.f) : p.base[0][j];
    MT_CHECK(out[0][j] == want);
    n_kept += kept[0][0][j];
  }
  MT_CHECK(n_kept >= 100);
}

MT_TEST(ties_negative_weights_flip_the_vote) {
  // δ1 = +1, δ2 = +0.5 with w = (−1, 1): v = (−1, +.5), mass −.5 → negative side: mean −1 / −1 = +1 (!), sum −1.
  Set p({1}, 2, false);
  p.models[0][0][0] = 1.f;
  p.models[1][0][0] = .5f;
  const Plan plan = trim(p, {1, 1}, MT_TIES_TIES_KEEP_ALL);
  expect_values(merge(p, plan, {-1.f, 1.f}, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_SUM, 1.f)[0], {-1.f}, "sum");
  expect_values(merge(p, plan, {-1.f, 1.f}, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0], {1.f}, "mean");
  // Weights that cancel in the divisor: w = (1, −1) on δ = (+1, −1): v = (+1, +1), d = 0 → divided by 1.
  p.models[1][0][0] = -1.f;
  expect_values(merge(p, plan, {1.f, -1.f}, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0], {2.f}, "d = 0");
}

MT_TEST(ties_zero_sums_take_the_zero_sign) {
  // Exact cancellation at every element: δ1 = −δ2. Zero sign +1 takes the positive one, −1 the negative one.
  Set p({3}, 2, true);
  for (int j = 0; j < 3; ++j) {
    p.base[0][j] = 2.f;
    p.models[0][0][j] = 2.f + (j + 1);
    p.models[1][0][j] = 2.f - (j + 1);
  }
  const Plan plan = trim(p, {3, 3}, MT_TIES_TIES_KEEP_ALL);
  expect_values(merge(p, plan, {1, 1}, MT_TIES_ELECT_MASS, {1.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0], {3, 4, 5}, "+1");
  expect_values(merge(p, plan, {1, 1}, MT_TIES_ELECT_MASS, {-1.f}, MT_TIES_DISJOINT_MEAN, 1.f)[0], {1, 0, -1}, "-1");
  int64_t census = 99;
  MT_CHECK(mt_ties_sign_census_f32(CPU, nullptr, 1, p.lengths.data(), p.b(), 2, p.model_ptrs.data(),
                                   plan.thresholds.data(), plan.cutoffs.data(), std::vector<float>{1, 1}.data(),
                                   MT_TIES_ELECT_MASS, &census, 0) == MT_OK);
  MT_CHECK(census == 0);
}

MT_TEST(ties_pick_bin_counts_from_the_top) {
  const int64_t hist[5] = {4, 0, 2, 1, 3};  // bin 4 holds the 3 largest
  int32_t bin;
  int64_t r;
  MT_CHECK(mt_ties_pick_bin(hist, 5, 1, &bin, &r) == MT_OK && bin == 4 && r == 1);
  MT_CHECK(mt_ties_pick_bin(hist, 5, 3, &bin, &r) == MT_OK && bin == 4 && r == 3);
  MT_CHECK(mt_ties_pick_bin(hist, 5, 4, &bin, &r) == MT_OK && bin == 3 && r == 1);
  MT_CHECK(mt_ties_pick_bin(hist, 5, 6, &bin, &r) == MT_OK && bin == 2 && r == 2);
  MT_CHECK(mt_ties_pick_bin(hist, 5, 7, &bin, &r) == MT_OK && bin == 0 && r == 1);
  MT_CHECK(mt_ties_pick_bin(hist, 5, 11, &bin, &r) == MT_INVALID_ARGUMENT);
}

// Global selection through the histograms, as a streaming merge does it: level 0 over every segment, pick, level
// 1, pick; the threshold must equal the full sort's k-th largest.
MT_TEST(ties_global_histogram_selection_matches_a_full_sort) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Set p = Set::random({1, 4097, 0, 333, 70000, 5}, 3, seed != 2, seed);
    const int64_t total = 1 + 4097 + 333 + 70000 + 5;
    for (int64_t k : {int64_t{1}, int64_t{2}, total / 5, total / 2, total - 1, total}) {
      std::vector<int64_t> h0(3 * MT_TIES_LEVEL0_BINS, 0), h1(3 * MT_TIES_LEVEL1_BINS, 0);
      MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, p.S(), p.lengths.data(), p.b(), 3, p.model_ptrs.data(), 0,
                                     nullptr, h0.data(), MT_CHECK_FINITE) == MT_OK);
      std::vector<uint32_t> prefix(3);
      std::vector<int64_t> rank(3, k);
      for (int i = 0; i < 3; ++i) {
        int32_t bin;
        MT_CHECK(mt_ties_pick_bin(h0.data() + i * MT_TIES_LEVEL0_BINS, MT_TIES_LEVEL0_BINS, k, &bin, &rank[i]) == MT_OK);
        prefix[i] = static_cast<uint32_t>(bin);
      }
      MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, p.S(), p.lengths.data(), p.b(), 3, p.model_ptrs.data(), 1,
                                     prefix.data(), h1.data(), MT_CHECK_FINITE) == MT_OK);
      const auto in = p.ref();
      for (int i = 0; i < 3; ++i) {
        int32_t bin;
        int64_t r;
        MT_CHECK(mt_ties_pick_bin(h1.data() + i * MT_TIES_LEVEL1_BINS, MT_TIES_LEVEL1_BINS, rank[i], &bin, &r) == MT_OK);
        const uint32_t t = (prefix[i] << 16) | static_cast<uint32_t>(bin);
        std::vector<float> mags;
        for (int64_t s = 0; s < p.S(); ++s) {
          for (int64_t j = 0; j < p.lengths[s]; ++j) mags.push_back(std::fabs(mt::ref::ties_delta(in, i, s, j)));
        }
        std::sort(mags.begin(), mags.end(), [](float a, float b) { return a > b; });
        uint32_t want;
        std::memcpy(&want, &mags[k - 1], 4);
        MT_CHECK_MSG(t == want, "seed " + std::to_string(seed) + " k " + std::to_string(k));
        // r = how many of the k-th value's equals the top k includes.
        int64_t above = 0;
        while (mags[above] > mags[k - 1]) ++above;
        MT_CHECK(r == k - above);
      }
    }
  }
}

// The histogram route to a per-segment plan (what the CUDA path runs: two histogram levels per segment, then the
// tie cutoffs), built here from the public CPU primitives: the CPU's one-read radix selection must give the same
// thresholds and cutoffs integer for integer.
Plan trim_by_histograms(const Set& p, const std::vector<int64_t>& keep, int32_t ties) {
  const int64_t S = p.S();
  Plan plan{std::vector<uint32_t>(p.T * S, 0), std::vector<int64_t>(p.T * S, 0)};
  std::vector<int64_t> wanted(p.T * S, INT64_MAX);
  for (int64_t s = 0; s < S; ++s) {
    const int64_t n = p.lengths[s];
    const float* b = p.has_base ? p.base[s].data() : nullptr;
    std::vector<const float*> m(p.T);
    for (int32_t i = 0; i < p.T; ++i) m[i] = p.models[i][s].data();
    std::vector<int64_t> h0(p.T * MT_TIES_LEVEL0_BINS, 0), h1(p.T * MT_TIES_LEVEL1_BINS, 0), rank(p.T);
    std::vector<uint32_t> prefix(p.T, MT_TIES_KEEP_NONE);
    MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, 1, &p.lengths[s], p.has_base ? &b : nullptr, p.T, m.data(), 0,
                                   nullptr, h0.data(), 0) == MT_OK);
    for (int32_t i = 0; i < p.T; ++i) {
      const int64_t k = keep[i * S + s];
      plan.thresholds[i * S + s] = k == 0 ? MT_TIES_KEEP_NONE : 0;
      plan.cutoffs[i * S + s] = k == 0 ? 0 : n;
      if (k == 0 || k >= n) continue;
      int32_t bin;
      MT_CHECK(mt_ties_pick_bin(h0.data() + i * MT_TIES_LEVEL0_BINS, MT_TIES_LEVEL0_BINS, k, &bin, &rank[i]) == MT_OK);
      prefix[i] = static_cast<uint32_t>(bin);
    }
    MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, 1, &p.lengths[s], p.has_base ? &b : nullptr, p.T, m.data(), 1,
                                   prefix.data(), h1.data(), 0) == MT_OK);
    for (int32_t i = 0; i < p.T; ++i) {
      if (prefix[i] == MT_TIES_KEEP_NONE) continue;
      int32_t bin;
      int64_t r;
      MT_CHECK(mt_ties_pick_bin(h1.data() + i * MT_TIES_LEVEL1_BINS, MT_TIES_LEVEL1_BINS, rank[i], &bin, &r) == MT_OK);
      plan.thresholds[i * S + s] = (prefix[i] << 16) | static_cast<uint32_t>(bin);
      if (ties == MT_TIES_TIES_EXACT) wanted[i * S + s] = r;
    }
  }
  std::vector<int64_t> counts(p.T * S), cut(p.T * S);
  MT_CHECK(mt_ties_tie_cutoffs_f32(CPU, nullptr, S, p.lengths.data(), p.b(), p.T, p.model_ptrs.data(),
                                   plan.thresholds.data(), wanted.data(), counts.data(), cut.data(), 0) == MT_OK);
  for (int64_t q = 0; q < p.T * S; ++q) {
    if (wanted[q] != INT64_MAX) plan.cutoffs[q] = cut[q];
  }
  return plan;
}

MT_TEST(ties_per_segment_radix_selection_equals_the_histogram_route_and_a_full_sort) {
  // Task vectors whose magnitude patterns crowd the radix digits' edges (bits 20 and 10) and repeat (ties at the
  // threshold inside one digit bin and across bins), with zeros of both signs; plus the random sets with a base.
  Set edges({0, 1, 2, 1000, 70001, 300000}, 3, false);
  std::mt19937 rng(77);
  const uint32_t offsets[] = {0, 1, 1023, 1024, 1025, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, 5u << 20, 777};
  std::uniform_int_distribution<int> pick(0, 11);
  for (int32_t i = 0; i < 3; ++i) {
    for (int64_t s = 0; s < edges.S(); ++s) {
      for (auto& x : edges.models[i][s]) {
        const int c = pick(rng);
        uint32_t a = c >= 10 ? 0u : 0x3c000000u + offsets[c];
        if (rng() & 1) a |= 0x80000000u;
        std::memcpy(&x, &a, 4);
      }
    }
  }
  std::vector<Set> sets;
  sets.reserve(2);
  sets.push_back(edges);
  sets.back().tables();
  sets.push_back(Set::random({3, 70000, 1, 131072}, 4, true, 78));
  for (const Set& p : sets) {
    std::vector<int64_t> keep(p.T * p.S());
    for (int64_t q = 0; q < p.T * p.S(); ++q) {
      const int64_t n = p.lengths[q % p.S()];
      const int64_t choice[] = {0, 1, n - 1, n, n + 3, n / 5, n / 2, (n * 7) / 10};
      keep[q] = std::max<int64_t>(0, choice[(q * 5 + 3) % 8]);
    }
    for (int32_t ties : {MT_TIES_TIES_KEEP_ALL, MT_TIES_TIES_EXACT}) {
      const Plan hist = trim_by_histograms(p, keep, ties);
      for (int32_t threads : {1, 2, 3}) {
        mt_set_num_threads(threads);
        const Plan radix = trim(p, keep, ties);
        MT_CHECK_MSG(radix.thresholds == hist.thresholds, "thresholds, ties rule " + std::to_string(ties));
        MT_CHECK_MSG(radix.cutoffs == hist.cutoffs, "cutoffs, ties rule " + std::to_string(ties));
      }
      mt_set_num_threads(0);
      const auto want = mt::ref::ties_keep_masks(p.ref(), false, keep, ties == MT_TIES_TIES_EXACT);
      MT_CHECK_MSG(masks_of(p, trim(p, keep, ties)) == want, "masks against the full sort");
    }
  }
}

MT_TEST(ties_per_segment_trim_names_the_first_bad_element_by_segment_then_index) {
  Set p = Set::random({5000, 80000, 3000}, 3, true, 79);
  p.models[2][1][70000] = std::numeric_limits<float>::infinity();
  p.models[0][1][123] = std::numeric_limits<float>::quiet_NaN();
  p.models[1][2][5] = std::numeric_limits<float>::quiet_NaN();
  std::vector<int64_t> keep(9, 100);
  std::vector<uint32_t> t(9);
  std::vector<int64_t> c(9);
  for (int32_t threads : {1, 3}) {
    mt_set_num_threads(threads);
    MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 3, p.lengths.data(), p.b(), 3, p.model_ptrs.data(),
                                          keep.data(), MT_TIES_TIES_EXACT, t.data(), c.data(),
                                          MT_CHECK_FINITE) == MT_NON_FINITE);
    MT_CHECK(mt_last_error_input() == 0 && mt_last_error_segment() == 1 && mt_last_error_element() == 123);
  }
  mt_set_num_threads(0);
  // k = 0 and k >= n read nothing: segment 1 asks for none and all, so segment 2's NaN is the one named.
  for (int32_t i = 0; i < 3; ++i) keep[i * 3 + 1] = i == 0 ? 0 : 80000;
  MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 3, p.lengths.data(), p.b(), 3, p.model_ptrs.data(),
                                        keep.data(), MT_TIES_TIES_KEEP_ALL, t.data(), c.data(),
                                        MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 1 && mt_last_error_segment() == 2 && mt_last_error_element() == 5);
  // A large segment (read for all models together) before and after a small one.
  for (bool large_first : {true, false}) {
    Set q = Set::random(large_first ? std::vector<int64_t>{300000, 5000} : std::vector<int64_t>{5000, 300000}, 2,
                        true, 80);
    const int64_t big = large_first ? 0 : 1, small = 1 - big;
    q.models[1][big][250000] = std::numeric_limits<float>::quiet_NaN();
    q.models[0][small][3] = std::numeric_limits<float>::infinity();
    std::vector<int64_t> k4(4, 1000);
    std::vector<uint32_t> t4(4);
    std::vector<int64_t> c4(4);
    MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 2, q.lengths.data(), q.b(), 2, q.model_ptrs.data(), k4.data(),
                                          MT_TIES_TIES_EXACT, t4.data(), c4.data(), MT_CHECK_FINITE) == MT_NON_FINITE);
    MT_CHECK(mt_last_error_segment() == 0);
    MT_CHECK(mt_last_error_input() == (large_first ? 1 : 0));
    MT_CHECK(mt_last_error_element() == (large_first ? 250000 : 3));
  }
}

// Per-segment trim (the CPU radix selection) against the reference's sort, both tie rules; then census and merge against the
// reference for every election / aggregate / zero-sign combination, with and without a base.
void check_against_reference(const Set& p, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int64_t> keep(p.T * p.S());
  for (int32_t i = 0; i < p.T; ++i) {
    for (int64_t s = 0; s < p.S(); ++s) {
      const int64_t n = p.lengths[s];
      keep[i * p.S() + s] = n == 0 ? 0 : std::uniform_int_distribution<int64_t>(0, n + 1)(rng);
    }
  }
  std::vector<float> w(p.T);
  for (auto& x : w) x = std::uniform_real_distribution<float>(-0.5f, 2.0f)(rng);
  const auto in = p.ref();
  for (int32_t ties : {MT_TIES_TIES_KEEP_ALL, MT_TIES_TIES_EXACT}) {
    const Plan plan = trim(p, keep, ties);
    const auto kept = masks_of(p, plan);
    const auto want = mt::ref::ties_keep_masks(in, false, keep, ties == MT_TIES_TIES_EXACT);
    MT_CHECK_MSG(kept == want, "trim masks, ties rule " + std::to_string(ties));
    for (int32_t election : {MT_TIES_ELECT_MASS, MT_TIES_ELECT_COUNT}) {
      std::vector<int64_t> census(p.S());
      MT_CHECK(mt_ties_sign_census_f32(CPU, nullptr, p.S(), p.lengths.data(), p.b(), p.T, p.model_ptrs.data(),
                                       plan.thresholds.data(), plan.cutoffs.data(), w.data(), election,
                                       census.data(), MT_CHECK_FINITE) == MT_OK);
      MT_CHECK(census == mt::ref::ties_census(in, want, w.data(), election == MT_TIES_ELECT_COUNT));
      for (int32_t aggregate : {MT_TIES_DISJOINT_SUM, MT_TIES_DISJOINT_MEAN, MT_TIES_DISJOINT_MAX}) {
        for (float zero : {-1.f, 0.f, 1.f}) {
          const std::vector<float> zs(p.S(), zero);
          const float lambda = 0.7f;
          const auto out = merge(p, plan, w, election, zs, aggregate, lambda);
          std::vector<std::vector<double>> ref, scale;
          mt::ref::ties_merge(in, want, w.data(), election == MT_TIES_ELECT_COUNT,
                              std::vector<int>(p.S(), static_cast<int>(zero)), aggregate == MT_TIES_DISJOINT_MEAN,
                              lambda, &ref, &scale, aggregate == MT_TIES_DISJOINT_MAX);
          int bad = 0;
          for (int64_t s = 0; s < p.S(); ++s) {
            for (int64_t j = 0; j < p.lengths[s]; ++j) {
              const double err = std::fabs(out[s][j] - ref[s][j]);
              if (err > 4e-7 * (scale[s][j] + 1e-30) * (p.T + 1)) ++bad;
            }
          }
          MT_CHECK_MSG(bad == 0, std::to_string(bad) + " elements off the reference");
        }
      }
    }
  }
}

MT_TEST(ties_matches_reference_with_base) {
  check_against_reference(Set::random({0, 1, 2, 31, 1000, 4099}, 3, true, 11), 1);
  check_against_reference(Set::random({5000}, 1, true, 12), 2);
  check_against_reference(Set::random({17, 2049}, 11, true, 13), 3);
  check_against_reference(Set::random({70001, 5}, 2, true, 14), 5);  // large: histogram selection on the CPU
}

MT_TEST(ties_matches_reference_on_task_vectors) {
  check_against_reference(Set::random({3, 1025, 0, 64}, 4, false, 21), 4);
}

MT_TEST(ties_tie_cutoffs_keep_the_first_equals_in_order) {
  // Every magnitude equal: the cutoff after the m-th element is m, whatever the thread split.
  Set p({300000}, 2, false);
  for (int64_t j = 0; j < 300000; ++j) {
    p.models[0][0][j] = (j % 3 == 0) ? 0.25f : -0.25f;
    p.models[1][0][j] = (j % 7 == 0) ? 0.5f : 0.125f;  // equal to 0.5 at every 7th element
  }
  const uint32_t t[2] = {0x3e800000u, 0x3f000000u};  // 0.25f, 0.5f
  for (int64_t want : {int64_t{0}, int64_t{1}, int64_t{12345}, int64_t{299999}, int64_t{300000}, int64_t{900000}}) {
    const int64_t wanted[2] = {want, want};
    int64_t counts[2], cut[2];
    for (int32_t threads : {1, 3}) {
      mt_set_num_threads(threads);
      MT_CHECK(mt_ties_tie_cutoffs_f32(CPU, nullptr, 1, p.lengths.data(), nullptr, 2, p.model_ptrs.data(), t, wanted,
                                       counts, cut, 0) == MT_OK);
      MT_CHECK(counts[0] == 300000 && counts[1] == (300000 + 6) / 7);
      MT_CHECK(cut[0] == std::min<int64_t>(want, 300000));
      const int64_t sevenths = (300000 + 6) / 7;
      MT_CHECK(cut[1] == (want == 0 ? 0 : want >= sevenths ? 300000 : 7 * (want - 1) + 1));
    }
  }
  mt_set_num_threads(0);
}

MT_TEST(ties_results_do_not_depend_on_thread_count) {
  const Set p = Set::random({400000, 3, 250001}, 4, true, 31);
  std::vector<int64_t> keep(4 * 3);
  for (size_t q = 0; q < keep.size(); ++q) keep[q] = p.lengths[q % 3] / 5 + 1;
  std::vector<std::vector<float>> first;
  std::vector<int64_t> first_census;
  for (int32_t threads : {1, 2, 7}) {
    mt_set_num_threads(threads);
    const Plan plan = trim(p, keep, MT_TIES_TIES_EXACT);
    const auto out = merge(p, plan, {1, .5f, 2, 1}, MT_TIES_ELECT_MASS, {1, 1, 1}, MT_TIES_DISJOINT_MEAN, 1.f);
    std::vector<int64_t> census(3);
    MT_CHECK(mt_ties_sign_census_f32(CPU, nullptr, 3, p.lengths.data(), p.b(), 4, p.model_ptrs.data(),
                                     plan.thresholds.data(), plan.cutoffs.data(), std::vector<float>{1, .5f, 2, 1}.data(),
                                     MT_TIES_ELECT_MASS, census.data(), 0) == MT_OK);
    if (first.empty()) {
      first = out;
      first_census = census;
    }
    MT_CHECK(out == first);
    MT_CHECK(census == first_census);
  }
  mt_set_num_threads(0);
}

// The merge and census bit for bit against ties_internal.h's element rule evaluated one element at a time (the
// CPU passes split tiles at the tie cutoffs and vectorise; this holds them to the scalar rule): odd lengths, many
// segments (empty ones too), cutoffs inside tiles, both elections and aggregates, with and without a base, 1/2/3
// threads.
MT_TEST(ties_merge_and_census_equal_the_scalar_element_rule_bit_for_bit) {
  for (const bool with_base : {true, false}) {
    std::vector<int64_t> lens;
    for (int64_t s = 0; s < 23; ++s) lens.push_back(s % 5 == 4 ? 0 : (s * 997 + 13) % 5003 + (s == 7 ? 70001 : 1));
    const Set p = Set::random(lens, 3, with_base, 77 + with_base);
    const int64_t S = p.S();
    std::vector<int64_t> keep(3 * S);
    for (size_t q = 0; q < keep.size(); ++q) keep[q] = p.lengths[q % S] / 3 + (q % 2);
    const Plan plan = trim(p, keep, MT_TIES_TIES_EXACT);
    const std::vector<float> w{1.0f, -0.75f, 1.5f};
    std::vector<float> zero(S);
    for (int64_t s = 0; s < S; ++s) zero[s] = static_cast<float>(s % 3) - 1.0f;
    for (const int32_t election : {MT_TIES_ELECT_MASS, MT_TIES_ELECT_COUNT}) {
      for (const int32_t aggregate : {MT_TIES_DISJOINT_SUM, MT_TIES_DISJOINT_MEAN}) {
        std::vector<std::vector<float>> want(S);
        std::vector<int64_t> want_census(S, 0);
        for (int64_t s = 0; s < S; ++s) {
          for (int64_t j = 0; j < p.lengths[s]; ++j) {
            mt::TiesAcc a;
            mt::ties_init(a);
            const float b0 = with_base ? p.base[s][j] : 0.0f;
            for (int32_t i = 0; i < 3; ++i) {
              const size_t q = static_cast<size_t>(i) * S + s;
              const float d = with_base ? p.models[i][s][j] - b0 : p.models[i][s][j];
              mt::ties_add(a, d, mt::ties_kept(mt::ties_magnitude_bits(d), plan.thresholds[q], j, plan.cutoffs[q]),
                           w[i]);
            }
            want[s].push_back(mt::ties_result(a, election, zero[s], aggregate, 0.3f, with_base, b0));
            want_census[s] += static_cast<int64_t>(mt::ties_elect(a, election, 0.0f));
          }
        }
        for (const int32_t threads : {1, 2, 3}) {
          mt_set_num_threads(threads);
          const auto out = merge(p, plan, w, election, zero, aggregate, 0.3f);
          for (int64_t s = 0; s < S; ++s) {
            MT_CHECK(out[s].size() == want[s].size() &&
                     std::memcmp(out[s].data(), want[s].data(), 4 * want[s].size()) == 0);
          }
          std::vector<int64_t> census(S);
          MT_CHECK(mt_ties_sign_census_f32(CPU, nullptr, S, p.lengths.data(), p.b(), 3, p.model_ptrs.data(),
                                           plan.thresholds.data(), plan.cutoffs.data(), w.data(), election,
                                           census.data(), MT_CHECK_FINITE) == MT_OK);
          MT_CHECK(census == want_census);
        }
      }
    }
  }
  mt_set_num_threads(0);
}

MT_TEST(ties_in_place_over_base) {
  Set p = Set::random({5000}, 3, true, 41);
  const Plan plan = trim(p, {1000, 1000, 1000}, MT_TIES_TIES_KEEP_ALL);
  const auto want = merge(p, plan, {1, 1, 1}, MT_TIES_ELECT_MASS, {1}, MT_TIES_DISJOINT_MEAN, .9f);
  float* out = p.base[0].data();
  MT_CHECK(mt_ties_merge_f32(CPU, nullptr, 1, p.lengths.data(), &out, p.b(), 3, p.model_ptrs.data(),
                             plan.thresholds.data(), plan.cutoffs.data(), std::vector<float>{1, 1, 1}.data(),
                             MT_TIES_ELECT_MASS, std::vector<float>{1}.data(), MT_TIES_DISJOINT_MEAN, .9f,
                             MT_CHECK_FINITE) == MT_OK);
  MT_CHECK(p.base[0] == want[0]);
}

MT_TEST(ties_nan_is_named_in_every_pass) {
  Set p = Set::random({100, 2000}, 3, true, 51);
  p.models[2][1][1234] = std::numeric_limits<float>::quiet_NaN();
  std::vector<int64_t> h0(3 * MT_TIES_LEVEL0_BINS);
  MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, 2, p.lengths.data(), p.b(), 3, p.model_ptrs.data(), 0, nullptr,
                                 h0.data(), MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 2 && mt_last_error_segment() == 1 && mt_last_error_element() == 1234);
  std::vector<int64_t> keep(6, 50);
  std::vector<uint32_t> t(6);
  std::vector<int64_t> c(6);
  MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 2, p.lengths.data(), p.b(), 3, p.model_ptrs.data(),
                                        keep.data(), MT_TIES_TIES_EXACT, t.data(), c.data(),
                                        MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 2 && mt_last_error_segment() == 1 && mt_last_error_element() == 1234);
  MT_CHECK(std::string(mt_last_error()).find("NaN in model 2, segment 1, element 1234") != std::string::npos);
  // A plan made without the check, then the merge: reported, and the element is left unwritten.
  MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 2, p.lengths.data(), p.b(), 3, p.model_ptrs.data(),
                                        keep.data(), MT_TIES_TIES_EXACT, t.data(), c.data(), 0) == MT_OK);
  mt_status st;
  auto out = merge(p, Plan{t, c}, {1, 1, 1}, MT_TIES_ELECT_MASS, {1, 1}, MT_TIES_DISJOINT_MEAN, 1.f, &st);
  MT_CHECK(st == MT_NON_FINITE && mt_last_error_input() == 2 && mt_last_error_element() == 1234);
  MT_CHECK(out[1][1234] == -12345.0f);
  MT_CHECK(out[1][1233] != -12345.0f && out[1][1235] != -12345.0f);
  std::vector<int64_t> census(2);
  MT_CHECK(mt_ties_sign_census_f32(CPU, nullptr, 2, p.lengths.data(), p.b(), 3, p.model_ptrs.data(), t.data(),
                                   c.data(), std::vector<float>{1, 1, 1}.data(), MT_TIES_ELECT_MASS, census.data(),
                                   MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_element() == 1234);
}

MT_TEST(ties_inf_in_base_is_named_as_base) {
  Set p = Set::random({64}, 2, true, 61);
  p.base[0][7] = std::numeric_limits<float>::infinity();
  std::vector<int64_t> h0(2 * MT_TIES_LEVEL0_BINS);
  MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, 1, p.lengths.data(), p.b(), 2, p.model_ptrs.data(), 0, nullptr,
                                 h0.data(), MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE && mt_last_error_element() == 7);
}

MT_TEST(ties_bad_arguments_are_named) {
  Set p = Set::random({8}, 2, true, 71);
  const uint32_t t[2] = {0, 0};
  const int64_t c[2] = {8, 8};
  float out[8];
  float* outs[1] = {out};
  const float w[2] = {1, 1}, z[1] = {1};
  auto call = [&](int32_t election, int32_t aggregate, float lambda, const float* zero, const float* weights) {
    return mt_ties_merge_f32(CPU, nullptr, 1, p.lengths.data(), outs, p.b(), 2, p.model_ptrs.data(), t, c, weights,
                             election, zero, aggregate, lambda, 0);
  };
  MT_CHECK(call(MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_MEAN, 1.f, z, w) == MT_OK);
  MT_CHECK(call(7, MT_TIES_DISJOINT_MEAN, 1.f, z, w) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("election") != std::string::npos);
  MT_CHECK(call(MT_TIES_ELECT_MASS, 9, 1.f, z, w) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("aggregate") != std::string::npos);
  MT_CHECK(call(MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_SUM, NAN, z, w) == MT_INVALID_ARGUMENT);
  const float half[1] = {0.5f};
  MT_CHECK(call(MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_SUM, 1.f, half, w) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("zero_signs[0]") != std::string::npos);
  const float bad_w[2] = {1, INFINITY};
  MT_CHECK(call(MT_TIES_ELECT_MASS, MT_TIES_DISJOINT_SUM, 1.f, z, bad_w) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("weights[1]") != std::string::npos);
  const int64_t negative[2] = {-1, 3};
  uint32_t tt[2];
  int64_t cc[2];
  MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 1, p.lengths.data(), p.b(), 2, p.model_ptrs.data(), negative,
                                        MT_TIES_TIES_EXACT, tt, cc, 0) == MT_INVALID_ARGUMENT);
  int64_t h[MT_TIES_LEVEL0_BINS * 2];
  MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, 1, p.lengths.data(), p.b(), 2, p.model_ptrs.data(), 2, nullptr, h, 0) ==
           MT_INVALID_ARGUMENT);
  MT_CHECK(mt_ties_histogram_f32(CPU, nullptr, 1, p.lengths.data(), p.b(), 0, p.model_ptrs.data(), 0, nullptr, h, 0) ==
           MT_INVALID_ARGUMENT);
  // Partial overlap of out and a model is refused; exact aliasing is allowed.
  float* overlap[1] = {p.models[0][0].data() + 1};
  const int64_t seven[1] = {7};
  MT_CHECK(mt_ties_merge_f32(CPU, nullptr, 1, seven, overlap, p.b(), 2, p.model_ptrs.data(), t, c, w,
                             MT_TIES_ELECT_MASS, z, MT_TIES_DISJOINT_SUM, 1.f, 0) == MT_INVALID_ARGUMENT);
}

}  // namespace
