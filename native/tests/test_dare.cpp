// mt_dare_f32 and mt_philox4x32_10 on the CPU: Philox known answers, the independent reference of dare_ref.h
// (bit for bit for NONE and INVERSE), K4a equivalence at drop_rate 0, mask statistics and determinism, L1 norms,
// sizes, thread counts, in-place calls, NaN reporting and arguments.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dare_ref.h"
#include "interp_ref.h"
#include "mergetune/mergetune.h"
#include "test_main.h"

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

struct Problem {
  std::vector<int64_t> lengths;
  std::vector<uint64_t> keys;
  std::vector<std::vector<float>> base, out;
  std::vector<std::vector<std::vector<float>>> models;  // [model][segment]
  std::vector<float> lambdas;
  float drop_rate = 0.5f;
  uint64_t seed = 0x0123456789abcdefull;
  int32_t rescale = MT_DARE_RESCALE_INVERSE;

  Problem(std::vector<int64_t> lens, int32_t n_models, uint32_t rng_seed) : lengths(std::move(lens)) {
    std::mt19937 rng(rng_seed);
    std::normal_distribution<float> w(0.f, 1.f), d(0.f, 0.05f);
    std::uniform_real_distribution<float> lam(-1.f, 1.5f);
    std::uniform_int_distribution<uint64_t> key;
    for (int64_t n : lengths) {
      keys.push_back(key(rng));
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

  int64_t segments() const { return static_cast<int64_t>(lengths.size()); }
  int32_t n_models() const { return static_cast<int32_t>(models.size()); }

  // out_target: nullptr → out; otherwise the table to write (in place).
  mt_status run(int32_t flags = MT_CHECK_FINITE, std::vector<std::vector<float>>* target = nullptr) {
    const int64_t S = segments();
    std::vector<float*> o;
    std::vector<const float*> b, m;
    auto& dst = target != nullptr ? *target : out;
    for (int64_t s = 0; s < S; ++s) {
      o.push_back(dst[s].data());
      b.push_back(base[s].data());
    }
    for (auto& model : models)
      for (auto& seg : model) m.push_back(seg.data());
    return mt_dare_f32(MT_DEVICE_CPU, nullptr, S, lengths.data(), keys.data(), o.data(), b.data(), n_models(),
                       m.data(), lambdas.data(), drop_rate, seed, rescale, flags);
  }

  // The reference's float result of segment s (inputs as they are now).
  std::vector<float> reference(int64_t s, std::vector<double>* exact = nullptr, std::vector<double>* scale = nullptr) {
    const int64_t n = lengths[s];
    std::vector<float> r(n);
    std::vector<const float*> m;
    for (auto& model : models) m.push_back(model[s].data());
    if (exact != nullptr) exact->resize(n);
    if (scale != nullptr) scale->resize(n);
    mt::ref::dare(n, keys[s], base[s].data(), m.data(), lambdas.data(), n_models(), drop_rate, seed, rescale, r.data(),
                  exact != nullptr ? exact->data() : nullptr, scale != nullptr ? scale->data() : nullptr);
    return r;
  }

  // Every segment of `result` bit for bit against the reference (NONE, INVERSE) or within 1e-6 scaled (L1).
  bool matches(const std::vector<std::vector<float>>& result) {
    for (int64_t s = 0; s < segments(); ++s) {
      std::vector<double> exact, scale;
      const std::vector<float> want = reference(s, &exact, &scale);
      if (rescale != MT_DARE_RESCALE_L1) {
        if (!same_bits(want, result[s])) return false;
      } else {
        const auto e = mt::ref::compare(lengths[s], result[s].data(), exact.data(), scale.data());
        if (!(e.max_scaled_error <= 1e-6)) return false;
      }
    }
    return true;
  }
};

void check_sizes(std::vector<int64_t> lengths, int32_t n_models, uint32_t seed) {
  for (int32_t rescale : {MT_DARE_RESCALE_NONE, MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    Problem p(lengths, n_models, seed);
    p.rescale = rescale;
    MT_CHECK_MSG(p.run() == MT_OK, mt_last_error());
    MT_CHECK_MSG(p.matches(p.out), "rescale " + std::to_string(rescale));
  }
}

}  // namespace

// Known-answer vectors of Philox4x32-10 from Random123, tests/kat_vectors (lines 27-29), repository
// https://github.com/DEShawResearch/random123 at commit 9545ff6413f258be2f04c1d319d99aaef7521150. Columns there:
// name, rounds, CTR (4 words), KEY (2 words), EXPECTED (4 words):
//   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
//   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
//   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1
MT_TEST(philox_known_answer_vectors) {
  struct Kat {
    uint32_t ctr[4], key[2], want[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}, {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
       {0xa4093822u, 0x299f31d0u},
       {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
  };
  for (const Kat& k : kats) {
    uint32_t got[4], ref[4];
    mt_philox4x32_10(k.ctr, k.key, got);
    mt::ref::philox4x32(10, k.ctr, k.key, ref);
    MT_CHECK(std::memcmp(got, k.want, sizeof(got)) == 0);
    MT_CHECK(std::memcmp(ref, k.want, sizeof(ref)) == 0);
  }
}

MT_TEST(philox_matches_reference_on_random_blocks) {
  std::mt19937 gen(1);
  auto rng = [&gen] { return static_cast<uint32_t>(gen()); };
  int differ = 0;
  for (int t = 0; t < 20000; ++t) {
    uint32_t c[4] = {rng(), rng(), rng(), rng()}, k[2] = {rng(), rng()}, a[4], b[4];
    mt_philox4x32_10(c, k, a);
    mt::ref::philox4x32(10, c, k, b);
    differ += std::memcmp(a, b, sizeof(a)) != 0;
  }
  MT_CHECK(differ == 0);
}

MT_TEST(dare_empty_table_is_ok) {
  Problem p({}, 2, 1);
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(mt_dare_f32(MT_DEVICE_CPU, nullptr, 0, nullptr, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 0.5f, 1,
                       MT_DARE_RESCALE_L1, 0) == MT_OK);
}

MT_TEST(dare_single_model_matches_reference) { check_sizes({1, 3, 4, 5, 1023, 1025, 4097}, 1, 2); }
MT_TEST(dare_several_models_match_reference) { check_sizes({0, 7, 0, 13, 3000, 0, 65537}, 4, 3); }
MT_TEST(dare_nine_models_match_reference) { check_sizes({2049, 17}, 9, 4); }

MT_TEST(dare_many_segments_match_reference) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int64_t> len(0, 3000);
  std::vector<int64_t> lengths(500);
  for (auto& n : lengths) n = len(rng);
  check_sizes(lengths, 3, 6);
}

MT_TEST(dare_zero_models_copies_base) {
  Problem p({100, 3}, 0, 7);
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(p.out == p.base);
}

MT_TEST(dare_drop_rate_zero_is_task_arithmetic_bit_for_bit) {
  Problem p({5, 4099, 70'001}, 3, 8);
  p.drop_rate = 0.0f;
  std::vector<std::vector<float>> interp = p.out;
  {
    std::vector<float*> o;
    std::vector<const float*> b, m;
    for (int64_t s = 0; s < p.segments(); ++s) {
      o.push_back(interp[s].data());
      b.push_back(p.base[s].data());
    }
    for (auto& model : p.models)
      for (auto& seg : model) m.push_back(seg.data());
    MT_CHECK(mt_interp_f32(MT_DEVICE_CPU, nullptr, p.segments(), p.lengths.data(), o.data(), b.data(), 3, m.data(),
                           p.lambdas.data(), 0) == MT_OK);
  }
  for (int32_t rescale : {MT_DARE_RESCALE_NONE, MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    p.rescale = rescale;
    MT_CHECK(p.run() == MT_OK);
    MT_CHECK_MSG(p.out == interp, "rescale " + std::to_string(rescale));
  }
}

MT_TEST(dare_keep_rate_is_one_minus_drop_rate) {
  const int64_t n = 1'000'000;
  for (float p_drop : {0.1f, 0.5f, 0.9f, 0.99f}) {
    Problem p({n}, 1, 9);
    std::fill(p.base[0].begin(), p.base[0].end(), 0.f);
    std::fill(p.models[0][0].begin(), p.models[0][0].end(), 1.f);
    p.lambdas = {1.f};
    p.drop_rate = p_drop;
    p.rescale = MT_DARE_RESCALE_NONE;
    MT_CHECK(p.run() == MT_OK);
    double kept = 0;
    for (float v : p.out[0]) kept += v;
    const double q = 1.0 - p_drop, sd = std::sqrt(n * q * (1 - q));
    MT_CHECK_MSG(std::fabs(kept - n * q) <= 5 * sd, std::to_string(kept) + " kept at p=" + std::to_string(p_drop));
  }
}

MT_TEST(dare_inverse_is_unbiased_over_seeds) {
  const int64_t n = 2000;
  const int K = 400;
  Problem p({n}, 1, 10);
  p.drop_rate = 0.3f;
  p.lambdas = {0.8f};
  std::vector<double> sum(n, 0.0);
  for (int k = 0; k < K; ++k) {
    p.seed = 1000 + static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ull;
    MT_CHECK(p.run() == MT_OK);
    for (int64_t j = 0; j < n; ++j) sum[j] += p.out[0][j];
  }
  const double r = 1.0 / (1.0 - 0.3);
  double total_dev = 0, total_sd2 = 0;
  int outliers = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = 0.8 * (static_cast<double>(p.models[0][0][j]) - p.base[0][j]);
    const double want = p.base[0][j] + d, got = sum[j] / K;
    const double sd = std::fabs(d) * r * std::sqrt(0.3 * 0.7 / K);
    outliers += std::fabs(got - want) > 6 * sd + 1e-6;
    total_dev += got - want;
    total_sd2 += sd * sd;
  }
  MT_CHECK_MSG(outliers == 0, std::to_string(outliers) + " elements beyond 6 sd");
  MT_CHECK(std::fabs(total_dev) <= 5 * std::sqrt(total_sd2) + 1e-4);
}

MT_TEST(dare_l1_preserves_each_tensors_l1_norm) {
  Problem p({100'000, 37, 300'001}, 1, 11);
  p.lambdas = {1.f};
  p.rescale = MT_DARE_RESCALE_L1;
  for (float p_drop : {0.2f, 0.9f}) {
    p.drop_rate = p_drop;
    MT_CHECK(p.run() == MT_OK);
    for (int64_t s = 0; s < p.segments(); ++s) {
      double all = 0, got = 0;
      for (int64_t j = 0; j < p.lengths[s]; ++j) {
        all += std::fabs(static_cast<double>(p.models[0][s][j] - p.base[s][j]));
        got += std::fabs(static_cast<double>(p.out[s][j]) - p.base[s][j]);
      }
      MT_CHECK_MSG(std::fabs(got - all) <= 1e-5 * all, std::to_string(got) + " vs " + std::to_string(all));
    }
    MT_CHECK(p.matches(p.out));
  }
}

// L1 runs stats then apply group by group (segments whose inputs fit a cache budget): every budget, from one
// segment a group to the whole call in one, on one and two threads, gives the same bits as the default, in place
// as well; and a bad input in a later group is still reported before an overflowing result in an earlier one.
MT_TEST(dare_l1_segment_groups_change_no_bit_and_no_report) {
  Problem p({70'000, 37, 300'001, 4096, 1, 150'000, 64}, 3, 31);
  p.rescale = MT_DARE_RESCALE_L1;
  p.drop_rate = 0.7f;
  unsetenv("MERGETUNE_DARE_L1_GROUP_BYTES");
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(p.matches(p.out));
  const auto whole = p.out;
  for (const char* budget : {"1", "600000", "5000000", "100000000"}) {
    for (const int32_t threads : {1, 2}) {
      setenv("MERGETUNE_DARE_L1_GROUP_BYTES", budget, 1);
      mt_set_num_threads(threads);
      for (auto& seg : p.out) std::fill(seg.begin(), seg.end(), -7.f);
      MT_CHECK(p.run() == MT_OK);
      auto inplace = p.base;
      Problem q = p;
      MT_CHECK(q.run(MT_CHECK_FINITE, &inplace) == MT_OK);
      for (int64_t s = 0; s < p.segments(); ++s) {
        MT_CHECK_MSG(same_bits(p.out[s], whole[s]), std::string("budget ") + budget + ", segment " + std::to_string(s));
        MT_CHECK(same_bits(inplace[s], whole[s]));
      }
    }
  }
  // segment 0 overflows in the apply pass (finite inputs), segment 5 holds a NaN: the NaN is named, whatever the
  // groups
  Problem bad({4, 100, 100, 100, 100, 100}, 1, 32);
  bad.rescale = MT_DARE_RESCALE_L1;
  bad.drop_rate = 0.0f;
  bad.base[0][1] = 3e38f;
  bad.models[0][0][1] = 1e38f;
  bad.lambdas = {-2.f};
  bad.models[0][5][17] = NAN;
  for (const char* budget : {"1", "100000000"}) {
    setenv("MERGETUNE_DARE_L1_GROUP_BYTES", budget, 1);
    MT_CHECK(bad.run() == MT_NON_FINITE);
    MT_CHECK(mt_last_error_segment() == 5);
    MT_CHECK(mt_last_error_element() == 17);
    MT_CHECK(mt_last_error_input() == 0);
  }
  bad.models[0][5][17] = 0.5f;
  setenv("MERGETUNE_DARE_L1_GROUP_BYTES", "1", 1);
  MT_CHECK(bad.run() == MT_NON_FINITE);  // now the overflow itself
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT);
  MT_CHECK(mt_last_error_segment() == 0);
  MT_CHECK(mt_last_error_element() == 1);
  unsetenv("MERGETUNE_DARE_L1_GROUP_BYTES");
  mt_set_num_threads(0);
}

MT_TEST(dare_l1_with_nothing_kept_gives_base) {
  Problem p({3}, 1, 12);
  p.rescale = MT_DARE_RESCALE_L1;
  p.drop_rate = 0.999999f;
  // find a seed whose 3 draws are all dropped (probability ~1 per draw)
  MT_CHECK(p.run() == MT_OK);
  MT_CHECK(p.matches(p.out));
}

MT_TEST(dare_masks_depend_only_on_seed_model_key_and_element) {
  Problem p({5000, 123, 4097}, 2, 13);
  p.rescale = MT_DARE_RESCALE_L1;
  MT_CHECK(p.run() == MT_OK);
  const auto whole = p.out;
  // segment 2 alone, in a call of its own
  Problem q({4097}, 2, 14);
  q.keys = {p.keys[2]};
  q.base = {p.base[2]};
  q.models = {{p.models[0][2]}, {p.models[1][2]}};
  q.lambdas = p.lambdas;
  q.rescale = p.rescale;
  q.seed = p.seed;
  q.out = {std::vector<float>(4097)};
  MT_CHECK(q.run() == MT_OK);
  MT_CHECK(same_bits(q.out[0], whole[2]));
  // the segments in reverse order
  Problem rv = p;
  std::reverse(rv.lengths.begin(), rv.lengths.end());
  std::reverse(rv.keys.begin(), rv.keys.end());
  std::reverse(rv.base.begin(), rv.base.end());
  std::reverse(rv.out.begin(), rv.out.end());
  for (auto& m : rv.models) std::reverse(m.begin(), m.end());
  MT_CHECK(rv.run() == MT_OK);
  for (int64_t s = 0; s < 3; ++s) MT_CHECK(same_bits(rv.out[2 - s], whole[s]));
  // different seed / model / key → different masks
  auto differs = [](const std::vector<bool>& a, const std::vector<bool>& b) {
    int64_t d = 0;
    for (size_t j = 0; j < a.size(); ++j) d += a[j] != b[j];
    return d > static_cast<int64_t>(a.size()) / 4;  // independent masks at p = 0.5 differ in ~half
  };
  const auto m0 = mt::ref::dare_mask(7, 0, 42, 4000, 0.5f);
  MT_CHECK(differs(m0, mt::ref::dare_mask(8, 0, 42, 4000, 0.5f)));
  MT_CHECK(differs(m0, mt::ref::dare_mask(7, 1, 42, 4000, 0.5f)));
  MT_CHECK(differs(m0, mt::ref::dare_mask(7, 0, 43, 4000, 0.5f)));
  MT_CHECK(differs(m0, mt::ref::dare_mask(7, 0, 42ull | (1ull << 40), 4000, 0.5f)));
  MT_CHECK(differs(m0, mt::ref::dare_mask(7 | (1ull << 50), 0, 42, 4000, 0.5f)));
  // and the kernel follows: a different seed changes the result
  Problem other = p;
  other.seed ^= 1;
  MT_CHECK(other.run() == MT_OK);
  MT_CHECK(!same_bits(other.out[0], whole[0]));
}

MT_TEST(dare_large_segments_do_not_depend_on_thread_count) {
  for (int32_t rescale : {MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    Problem p({2'000'003, 5, 1'000'000}, 2, 15);
    p.rescale = rescale;
    mt_set_num_threads(1);
    MT_CHECK(p.run() == MT_OK);
    const auto single = p.out;
    mt_set_num_threads(3);
    MT_CHECK(p.run() == MT_OK);
    const auto three = p.out;
    mt_set_num_threads(0);
    MT_CHECK(p.run() == MT_OK);
    MT_CHECK(three == single && p.out == single);
    MT_CHECK(p.matches(p.out));
  }
}

MT_TEST(dare_in_place_over_base_and_over_a_model) {
  Problem p({10'000, 77, 200'001}, 3, 16);
  for (int32_t rescale : {MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    p.rescale = rescale;
    MT_CHECK(p.run() == MT_OK);
    const auto want = p.out;
    Problem q = p;
    auto target = q.base;  // aliasing: out is base's own storage
    q.base = target;
    std::vector<float*> o;
    std::vector<const float*> b, m;
    for (int64_t s = 0; s < q.segments(); ++s) {
      o.push_back(q.base[s].data());
      b.push_back(q.base[s].data());
    }
    for (auto& model : q.models)
      for (auto& seg : model) m.push_back(seg.data());
    MT_CHECK(mt_dare_f32(MT_DEVICE_CPU, nullptr, q.segments(), q.lengths.data(), q.keys.data(), o.data(), b.data(), 3,
                         m.data(), q.lambdas.data(), q.drop_rate, q.seed, q.rescale, MT_CHECK_FINITE) == MT_OK);
    MT_CHECK(q.base == want);
    Problem r = p;  // out aliases model 1
    o.clear();
    b.clear();
    m.clear();
    for (int64_t s = 0; s < r.segments(); ++s) {
      o.push_back(r.models[1][s].data());
      b.push_back(r.base[s].data());
    }
    for (auto& model : r.models)
      for (auto& seg : model) m.push_back(seg.data());
    MT_CHECK(mt_dare_f32(MT_DEVICE_CPU, nullptr, r.segments(), r.lengths.data(), r.keys.data(), o.data(), b.data(), 3,
                         m.data(), r.lambdas.data(), r.drop_rate, r.seed, r.rescale, MT_CHECK_FINITE) == MT_OK);
    MT_CHECK(r.models[1] == want);
  }
}

MT_TEST(dare_nan_is_reported_even_where_dropped) {
  for (int32_t rescale : {MT_DARE_RESCALE_NONE, MT_DARE_RESCALE_L1}) {
    Problem p({50, 400'000}, 3, 17);
    p.rescale = rescale;
    p.drop_rate = 0.5f;
    // an element model 2 drops
    int64_t j = 123'456;
    while (mt::ref::dare_keep(p.seed, 2, p.keys[1], j, p.drop_rate)) ++j;
    p.models[2][1][j] = std::numeric_limits<float>::quiet_NaN();
    MT_CHECK(p.run() == MT_NON_FINITE);
    MT_CHECK(mt_last_error_input() == 2);
    MT_CHECK(mt_last_error_segment() == 1);
    MT_CHECK(mt_last_error_element() == j);
    MT_CHECK(std::string(mt_last_error()).find("model 2") != std::string::npos);
    // without the check a dropped NaN does not reach the result
    if (rescale == MT_DARE_RESCALE_NONE) {
      MT_CHECK(p.run(0) == MT_OK);
      MT_CHECK(std::isfinite(p.out[1][j]));
    }
  }
}

MT_TEST(dare_inf_in_base_is_reported_in_place_and_first_wins) {
  Problem p({300'000, 300'000}, 2, 18);
  p.base[0][299'999] = -std::numeric_limits<float>::infinity();
  p.models[1][1][5] = NAN;
  for (int32_t rescale : {MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    p.rescale = rescale;
    auto target = p.base;
    MT_CHECK(p.run(MT_CHECK_FINITE, &target) == MT_NON_FINITE);
    MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
    MT_CHECK(mt_last_error_segment() == 0);
    MT_CHECK(mt_last_error_element() == 299'999);
  }
}

MT_TEST(dare_overflow_from_finite_inputs_is_reported_as_output) {
  Problem p({4}, 1, 19);
  p.drop_rate = 0.0f;
  p.rescale = MT_DARE_RESCALE_NONE;
  p.base[0][1] = 3e38f;
  p.models[0][0][1] = 1e38f;
  p.lambdas = {-2.f};  // 3e38 + (-2)(-2e38) overflows
  MT_CHECK(p.run() == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT);
  MT_CHECK(mt_last_error_element() == 1);
}

MT_TEST(dare_bad_arguments_are_named) {
  int64_t len = 4;
  uint64_t key = 1;
  float buf[4] = {};
  float* out[1] = {buf};
  const float* base[1] = {buf};
  const float* models[1] = {buf};
  float lambda = 1.f;
  auto call = [&](int32_t device, const int64_t* l, const uint64_t* k, float* const* o, const float* const* b,
                  int32_t n, const float* const* m, const float* lam, float p, int32_t rescale) {
    return mt_dare_f32(device, nullptr, 1, l, k, o, b, n, m, lam, p, 7, rescale, 0);
  };
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, models, &lambda, 0.5f, 1) == MT_OK);
  MT_CHECK(call(9, &len, &key, out, base, 1, models, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(call(MT_DEVICE_CPU, &len, nullptr, out, base, 1, models, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("tensor_keys") != std::string::npos);
  for (float p : {-0.1f, 1.0f, 2.0f, NAN, INFINITY}) {
    MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, models, &lambda, p, 1) == MT_INVALID_ARGUMENT);
    MT_CHECK(std::string(mt_last_error()).find("drop_rate") != std::string::npos);
  }
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, models, &lambda, 0.5f, 3) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("rescale") != std::string::npos);
  float nan_lambda = NAN;
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, models, &nan_lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == 0 && std::string(mt_last_error()).find("lambda of model 0") != std::string::npos);
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, -1, models, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  const float* null_model[1] = {nullptr};
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, null_model, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == 0 && mt_last_error_segment() == 0);
  MT_CHECK(std::string(mt_last_error()).find("model 0 segment 0") != std::string::npos);
  const float* null_base[1] = {nullptr};
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, null_base, 1, models, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
  float* null_out[1] = {nullptr};
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, null_out, base, 1, models, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT);
  int64_t negative = -1;
  MT_CHECK(call(MT_DEVICE_CPU, &negative, &key, out, base, 1, models, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, nullptr, &lambda, 0.5f, 1) == MT_INVALID_ARGUMENT);
  MT_CHECK(call(MT_DEVICE_CPU, &len, &key, out, base, 1, models, nullptr, 0.5f, 1) == MT_INVALID_ARGUMENT);
  if (mt_cuda_device_count() == 0) {
    MT_CHECK(call(MT_DEVICE_CUDA, &len, &key, out, base, 1, models, &lambda, 0.5f, 1) == MT_CUDA_UNAVAILABLE);
  }
}
