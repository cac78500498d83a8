// K5 (scratch_interp.h) on the CPU: interpolation into scratch sets and the α-weighted gradient accumulation
// against the double reference, hand vectors, bit identity with K4a, aliasing, thread-count independence, argument
// errors and non-finite reports.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mergetune/mergetune.h"
#include "scratch_interp_ref.h"
#include "test_main.h"

namespace {

using Table = std::vector<std::vector<float>>;

Table random_table(const std::vector<int64_t>& lengths, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, scale);
  Table t;
  for (int64_t len : lengths) {
    t.emplace_back(len);
    for (auto& x : t.back()) x = n(rng);
  }
  return t;
}

std::vector<const float*> cptrs(const Table& t) {
  std::vector<const float*> p;
  for (auto& x : t) p.push_back(x.data());
  return p;
}
std::vector<float*> ptrs(Table& t) {
  std::vector<float*> p;
  for (auto& x : t) p.push_back(x.data());
  return p;
}

const std::vector<int64_t> kOdd = {1, 7, 0, 4097, 255, 300001, 3};

mt_status interp(const std::vector<int64_t>& L, const Table& w, const Table& w2, const std::vector<float>& alphas,
                 std::vector<Table*> outs, int32_t flags = MT_CHECK_FINITE) {
  auto pw = cptrs(w), pw2 = cptrs(w2);
  std::vector<float*> po;
  for (Table* t : outs)
    for (auto& seg : *t) po.push_back(seg.data());
  return mt_scratch_interp_f32(MT_DEVICE_CPU, nullptr, static_cast<int64_t>(L.size()), L.data(), pw.data(), pw2.data(),
                               static_cast<int32_t>(alphas.size()), alphas.data(), po.data(), flags);
}

mt_status accumulate(const std::vector<int64_t>& L, Table& gw, const std::vector<const Table*>& sets,
                     const std::vector<float>& alphas, const float* omegas, int32_t flags = MT_CHECK_FINITE) {
  auto pg = ptrs(gw);
  std::vector<const float*> ps;
  for (const Table* t : sets)
    for (auto& seg : *t) ps.push_back(seg.data());
  return mt_scratch_grad_accumulate_f32(MT_DEVICE_CPU, nullptr, static_cast<int64_t>(L.size()), L.data(), pg.data(),
                                        static_cast<int32_t>(sets.size()), ps.data(), alphas.data(), omegas, flags);
}

bool equal_bits(const Table& a, const Table& b) {
  for (size_t s = 0; s < a.size(); ++s) {
    if (!a[s].empty() && std::memcmp(a[s].data(), b[s].data(), a[s].size() * 4) != 0) return false;
  }
  return true;
}

}  // namespace

MT_TEST(scratch_hand_vectors) {
  const std::vector<int64_t> L = {2};
  Table w = {{1.f, 3.f}}, w2 = {{0.f, 1.f}}, out = {{0.f, 0.f}};
  MT_CHECK(interp(L, w, w2, {0.25f}, {&out}) == MT_OK);
  MT_CHECK(out[0] == (std::vector<float>{0.25f, 1.5f}));
  Table gw = {{1.f, 1.f}}, g0 = {{2.f, 4.f}}, g1 = {{-1.f, 8.f}};
  const float omegas[2] = {1.f, 2.f};
  MT_CHECK(accumulate(L, gw, {&g0, &g1}, {0.5f, 0.25f}, omegas) == MT_OK);
  MT_CHECK(gw[0] == (std::vector<float>{1.5f, 7.f}));
}

MT_TEST(scratch_interp_vs_reference_and_k4a) {
  const Table w2 = random_table(kOdd, 1, 1.f);
  Table w = w2;
  const Table delta = random_table(kOdd, 2, 0.05f);
  for (size_t s = 0; s < w.size(); ++s)
    for (size_t j = 0; j < w[s].size(); ++j) w[s][j] += delta[s][j];
  const std::vector<float> alphas = {0.1f, 0.3f, 0.5f, 0.7f, 0.9f};
  std::vector<Table> outs(alphas.size(), random_table(kOdd, 3, 1.f));
  std::vector<Table*> po;
  for (auto& t : outs) po.push_back(&t);
  MT_CHECK_MSG(interp(kOdd, w, w2, alphas, po) == MT_OK, mt_last_error());
  int bad = 0;
  for (size_t k = 0; k < alphas.size(); ++k) {
    for (size_t s = 0; s < kOdd.size(); ++s) {
      for (int64_t j = 0; j < kOdd[s]; ++j) {
        double e, sc;
        mt::ref::scratch_interp(w[s][j], w2[s][j], alphas[k], &e, &sc);
        bad += std::fabs(outs[k][s][j] - e) > 1e-6 * sc + 1e-30;
      }
    }
    Table k4a = random_table(kOdd, 4, 1.f);  // K4a with base ŵ2 and one model w: the same bits
    auto pk = ptrs(k4a);
    auto pw = cptrs(w), pw2 = cptrs(w2);
    MT_CHECK(mt_interp_f32(MT_DEVICE_CPU, nullptr, static_cast<int64_t>(kOdd.size()), kOdd.data(), pk.data(),
                           pw2.data(), 1, pw.data(), &alphas[k], 0) == MT_OK);
    MT_CHECK(equal_bits(k4a, outs[k]));
  }
  MT_CHECK_MSG(bad == 0, std::to_string(bad) + " elements off the reference");
}

MT_TEST(scratch_interp_in_place_over_w_and_w2hat) {
  const Table w = random_table(kOdd, 5, 1.f), w2 = random_table(kOdd, 6, 1.f);
  Table want = w;
  MT_CHECK(interp(kOdd, w, w2, {0.3f}, {&want}) == MT_OK);
  Table over_w = w;
  MT_CHECK(interp(kOdd, over_w, w2, {0.3f}, {&over_w}) == MT_OK);
  MT_CHECK(equal_bits(over_w, want));
  Table over_w2 = w2;
  MT_CHECK(interp(kOdd, w, over_w2, {0.3f}, {&over_w2}) == MT_OK);
  MT_CHECK(equal_bits(over_w2, want));
}

MT_TEST(scratch_grad_vs_reference) {
  const std::vector<float> alphas = {0.1f, 0.3f, 0.5f, 0.7f, 0.9f}, omegas = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
  std::vector<Table> sets;
  for (uint32_t k = 0; k < alphas.size(); ++k) sets.push_back(random_table(kOdd, 10 + k, 1.f));
  std::vector<const Table*> ps;
  for (auto& t : sets) ps.push_back(&t);
  for (const bool with_omegas : {false, true}) {
    Table gw = random_table(kOdd, 7, 1.f);
    const Table before = gw;
    MT_CHECK(accumulate(kOdd, gw, ps, alphas, with_omegas ? omegas.data() : nullptr) == MT_OK);
    int bad = 0;
    for (size_t s = 0; s < kOdd.size(); ++s) {
      for (int64_t j = 0; j < kOdd[s]; ++j) {
        double g[5], e, sc;
        for (int k = 0; k < 5; ++k) g[k] = sets[k][s][j];
        mt::ref::scratch_grad(before[s][j], 5, g, alphas.data(), with_omegas ? omegas.data() : nullptr, &e, &sc);
        bad += std::fabs(gw[s][j] - e) > 1e-6 * sc + 1e-30;
      }
    }
    MT_CHECK_MSG(bad == 0, std::to_string(bad) + " elements off the reference");
  }
  Table gw = sets[0];  // grad_w aliasing a set: grad_w = g0 + 0.5·g0
  MT_CHECK(accumulate(kOdd, gw, {&gw}, {0.5f}, nullptr) == MT_OK);
  MT_CHECK(std::fabs(gw[5][10] - 1.5f * sets[0][5][10]) <= 1e-6f * std::fabs(sets[0][5][10]));
}

MT_TEST(scratch_thread_count_independent) {
  const std::vector<int64_t> L = {2'000'001, 5};
  const Table w = random_table(L, 20, 1.f), w2 = random_table(L, 21, 1.f), g = random_table(L, 22, 1.f);
  auto run = [&](int threads) {
    mt_set_num_threads(threads);
    Table a = w, b = w, gw = w2;
    interp(L, w, w2, {0.1f, 0.9f}, {&a, &b});
    accumulate(L, gw, {&g, &a}, {0.1f, 0.9f}, nullptr);
    mt_set_num_threads(0);
    return std::vector<Table>{a, b, gw};
  };
  const auto one = run(1), four = run(4);
  for (int k = 0; k < 3; ++k) MT_CHECK(equal_bits(one[k], four[k]));
}

MT_TEST(scratch_argument_errors) {
  const std::vector<int64_t> L = {4};
  Table w = {{1, 2, 3, 4}}, w2 = {{1, 2, 3, 4}}, a = w, b = w;
  auto expect = [](mt_status st, const char* fragment) {
    MT_CHECK(st == MT_INVALID_ARGUMENT);
    MT_CHECK_MSG(std::strstr(mt_last_error(), fragment) != nullptr, mt_last_error());
  };
  expect(interp(L, w, w2, {}, {}), "number of alphas");
  expect(interp(L, w, w2, {NAN}, {&a}), "alpha 0");
  expect(interp(L, w, w2, {0.1f, 0.2f}, {&a, &a}), "same memory");
  const float omega_nan[1] = {NAN};
  expect(accumulate(L, a, {&b}, {0.5f}, omega_nan), "omega 0");
  std::vector<const float*> nulls = {nullptr};
  auto pa = ptrs(a);
  float alpha = 0.5f;
  expect(mt_scratch_grad_accumulate_f32(MT_DEVICE_CPU, nullptr, 1, L.data(), pa.data(), 1, nulls.data(), &alpha,
                                        nullptr, 0), "grad_scratch 0 segment 0");
  expect(mt_scratch_interp_f32(3, nullptr, 1, L.data(), nulls.data(), nulls.data(), 1, &alpha, pa.data(), 0), "device");
}

MT_TEST(scratch_non_finite_reported) {
  Table w = random_table(kOdd, 30, 1.f), w2 = random_table(kOdd, 31, 1.f), out = w2;
  w[5][1234] = NAN;
  MT_CHECK(interp(kOdd, w, w2, {0.5f}, {&out}) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 0 && mt_last_error_segment() == 5 && mt_last_error_element() == 1234);
  w[5][1234] = 0.f;
  w2[3][7] = INFINITY;
  Table over = w2;  // in place over ŵ2: the culprit is not overwritten, so it can be named
  MT_CHECK(interp(kOdd, w, over, {0.5f}, {&over}) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_BASE && std::isinf(over[3][7]));
  Table gw = random_table(kOdd, 32, 1.f), g = random_table(kOdd, 33, 1.f);
  g[6][2] = -INFINITY;
  MT_CHECK(accumulate(kOdd, gw, {&w, &g}, {0.5f, 0.5f}, nullptr) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == 1 && mt_last_error_segment() == 6 && mt_last_error_element() == 2);
  Table big = {{3e38f}}, gbig = {{3e38f}};
  MT_CHECK(accumulate({1}, big, {&gbig}, {1.f}, nullptr) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_input() == MT_INPUT_OUTPUT && big[0][0] == 3e38f);
}
