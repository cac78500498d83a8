// mt_gta_f32 / mt_gta_sparsify_f32 on the CPU against the double reference of gta_ref.h: every consensus and
// normalisation, with and without a base, masks of every sparsification method (bit for bit against the
// reference's stable-sort selections and DARE's Philox), DARE's own kernel's masks, the AVX2 and portable twins
// bit for bit, in-place calls and NaN reports.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gta_internal.h"  // gta_element: the one scalar expression (the CUDA kernel's)
#include "gta_ref.h"
#include "mergetune/gta.h"
#include "mergetune/mergetune.h"
#include "test_main.h"

namespace {

using mt::ref::Sparsify;

struct Gta {
  int64_t n, outer, len, inner;
  bool with_base;
  std::vector<float> base, out;
  std::vector<std::vector<float>> models;
  std::vector<float> weights;
  uint64_t key;

  Gta(int64_t outer_, int64_t len_, int64_t inner_, int32_t T, bool with_base_, uint32_t seed)
      : n(outer_ * len_ * inner_), outer(outer_), len(len_), inner(inner_), with_base(with_base_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> w(0.f, 1.f), d(0.f, 0.05f);
    std::uniform_real_distribution<float> lam(-0.5f, 1.5f);
    key = (static_cast<uint64_t>(rng()) << 32) | rng();
    base.resize(n);
    for (auto& v : base) v = w(rng);
    out.assign(n, -7.f);
    for (int32_t i = 0; i < T; ++i) {
      models.push_back(base);
      for (auto& v : models.back()) v += d(rng);
      if (i == 1) for (int64_t j = 0; j < n; j += 7) models.back()[j] = base[j];  // exact zeros in δ: sign 0
      weights.push_back(lam(rng));
    }
  }

  std::vector<float> delta(int32_t i) const {
    std::vector<float> dl(n);
    for (int64_t j = 0; j < n; ++j) dl[j] = with_base ? models[i][j] - base[j] : models[i][j];
    return dl;
  }
};

int32_t code(Sparsify s) {
  switch (s) {
    case Sparsify::Magnitude: return MT_GTA_SPARSIFY_MAGNITUDE;
    case Sparsify::Outliers: return MT_GTA_SPARSIFY_OUTLIERS;
    case Sparsify::Random: return MT_GTA_SPARSIFY_RANDOM;
    case Sparsify::Della: return MT_GTA_SPARSIFY_DELLA;
    default: return -1;
  }
}

double param_of(Sparsify s) { return s == Sparsify::Outliers ? 0.05 : s == Sparsify::Della ? 0.1 : 0.0; }

// Runs sparsify + apply and checks against the reference; returns the kernel's output.
std::vector<float> check_case(Gta& g, Sparsify method, double density, int consensus, bool normalize, bool rescale,
                              float lambda, const std::string& label) {
  const int32_t T = static_cast<int32_t>(g.models.size());
  const uint64_t seed = 0x1234567890abcdefull;
  std::vector<std::vector<uint32_t>> bits(T, std::vector<uint32_t>((g.n + 31) / 32));
  std::vector<std::vector<bool>> ref_keep;
  std::vector<std::vector<float>> deltas;
  std::vector<double> ref_r, ref_w;
  std::vector<float> coefs, weights;
  for (int32_t i = 0; i < T; ++i) {
    deltas.push_back(g.delta(i));
    ref_keep.push_back(mt::ref::gta_mask(deltas.back(), method, density, param_of(method), seed, g.key, i, g.outer,
                                         g.len, g.inner));
    double sums[2] = {0, 0};
    if (method != Sparsify::None) {
      const mt_status st = mt_gta_sparsify_f32(g.n, g.outer, g.len, g.inner, g.with_base ? g.base.data() : nullptr,
                                               g.models[i].data(), code(method), density, param_of(method), seed,
                                               g.key, i, bits[i].data(), sums, MT_CHECK_FINITE);
      MT_CHECK_MSG(st == MT_OK, label + ": " + mt_last_error());
      int64_t differ = 0;
      for (int64_t j = 0; j < g.n; ++j) differ += (((bits[i][j >> 5] >> (j & 31)) & 1u) != 0) != ref_keep[i][j];
      MT_CHECK_MSG(differ == 0, label + ": " + std::to_string(differ) + " mask bits differ, model " + std::to_string(i));
    }
    const double r = rescale && method != Sparsify::None ? mt::ref::gta_l1_rescale(deltas.back(), ref_keep.back()) : 1.0;
    // the kernel caller's r: from the library's sums by the same rule
    const double r_lib = rescale && method != Sparsify::None
                             ? ((sums[0] < 1e-7 || sums[1] < 1e-7) ? 1.0 : sums[0] / sums[1]) : 1.0;
    MT_CHECK_MSG(std::fabs(r - r_lib) <= 1e-12 * r, label + ": rescale");
    ref_r.push_back(r);
    ref_w.push_back(g.weights[i]);
    coefs.push_back(static_cast<float>(g.weights[i] * r_lib));
    weights.push_back(g.weights[i]);
  }
  std::vector<const float*> m;
  std::vector<const uint32_t*> b;
  for (int32_t i = 0; i < T; ++i) {
    m.push_back(g.models[i].data());
    b.push_back(bits[i].data());
  }
  float divisor = 0.f;
  for (float w : weights) divisor += w;
  if (std::fabs(divisor) < 1e-8f) divisor = 1.f;
  const mt_status st = mt_gta_f32(MT_DEVICE_CPU, nullptr, g.n, g.out.data(), g.with_base ? g.base.data() : nullptr,
                                  T, m.data(), method == Sparsify::None ? nullptr : b.data(), coefs.data(),
                                  weights.data(), consensus, normalize ? 1 : 0, divisor, lambda, MT_CHECK_FINITE);
  MT_CHECK_MSG(st == MT_OK, label + ": " + mt_last_error());
  std::vector<double> exact, scale;
  std::vector<bool> ambiguous;
  mt::ref::gta(g.n, g.with_base ? g.base.data() : nullptr, deltas, ref_keep, ref_r, ref_w, consensus, normalize,
               lambda, exact, scale, ambiguous);
  double worst = 0;
  int64_t skipped = 0;
  for (int64_t j = 0; j < g.n; ++j) {
    if (ambiguous[j]) {
      ++skipped;
      continue;
    }
    worst = std::max(worst, std::fabs(g.out[j] - exact[j]) / (scale[j] + 1e-30));
  }
  MT_CHECK_MSG(worst <= 1e-5, label + ": scaled error " + std::to_string(worst));
  MT_CHECK_MSG(skipped <= g.n / 100 + 1, label + ": " + std::to_string(skipped) + " ambiguous elections");
  return g.out;
}

}  // namespace

MT_TEST(gta_matches_reference_for_every_method_and_consensus) {
  const Sparsify methods[] = {Sparsify::None, Sparsify::Magnitude, Sparsify::Outliers, Sparsify::Random,
                              Sparsify::Della};
  uint32_t seed = 11;
  for (auto shape : std::vector<std::vector<int64_t>>{{1, 1, 1}, {1, 37, 1}, {24, 40, 1}, {6, 3, 50}, {12, 512, 1}}) {
    for (int32_t T : {1, 2, 3, 5}) {
      for (bool with_base : {true, false}) {
        for (Sparsify method : methods) {
          if (shape[1] * shape[0] * shape[2] == 1 && method != Sparsify::None && method != Sparsify::Random) continue;
          for (int consensus : {MT_GTA_CONSENSUS_NONE, MT_GTA_CONSENSUS_SUM, MT_GTA_CONSENSUS_COUNT}) {
            for (bool normalize : {false, true}) {
              Gta g(shape[0], shape[1], shape[2], T, with_base, ++seed);
              const std::string label = "n=" + std::to_string(g.n) + " T=" + std::to_string(T) + " method=" +
                                        std::to_string(code(method)) + " consensus=" + std::to_string(consensus) +
                                        " normalize=" + std::to_string(normalize) + " base=" + std::to_string(with_base);
              check_case(g, method, method == Sparsify::Della ? 0.4 : 0.3, consensus, normalize,
                         (seed & 1) != 0, consensus == MT_GTA_CONSENSUS_NONE ? 0.7f : 1.0f, label);
            }
          }
        }
      }
    }
  }
}

MT_TEST(gta_random_masks_are_dares) {
  // DARE with one model, λ = 1 and no rescale keeps δ exactly where its mask keeps: out != base ⟺ kept (δ ≠ 0).
  Gta g(1, 10000, 1, 1, true, 5);
  const float density = 0.3f;
  const uint64_t seed = 99;
  std::vector<float> dare(g.n);
  const int64_t len = g.n;
  float* o = dare.data();
  const float* b = g.base.data();
  const float* m = g.models[0].data();
  const float lambda = 1.f;
  MT_CHECK(mt_dare_f32(MT_DEVICE_CPU, nullptr, 1, &len, &g.key, &o, &b, 1, &m, &lambda, 1.0f - density, seed,
                       MT_DARE_RESCALE_NONE, MT_CHECK_FINITE) == MT_OK);
  std::vector<uint32_t> bits((g.n + 31) / 32);
  MT_CHECK(mt_gta_sparsify_f32(g.n, 1, g.n, 1, nullptr, m, MT_GTA_SPARSIFY_RANDOM, density, 0, seed,
                               g.key, 0, bits.data(), nullptr, 0) == MT_OK);
  int64_t differ = 0, kept = 0;
  for (int64_t j = 0; j < g.n; ++j) {
    const bool bit = ((bits[j >> 5] >> (j & 31)) & 1u) != 0;
    kept += bit;
    if (g.models[0][j] != g.base[j]) differ += bit != (dare[j] != g.base[j]);
  }
  MT_CHECK_MSG(differ == 0, std::to_string(differ) + " elements differ from DARE's mask");
  MT_CHECK(kept > 2700 && kept < 3300);
}

MT_TEST(gta_avx2_twin_and_in_place_give_the_same_bits) {
  Gta g(4, 3000, 1, 4, true, 21);
  std::vector<const float*> m;
  for (auto& v : g.models) m.push_back(v.data());
  const float coefs[] = {0.3f, -0.2f, 0.9f, 0.5f}, weights[] = {0.4f, 0.1f, 1.f, 0.5f};
  for (int consensus : {MT_GTA_CONSENSUS_NONE, MT_GTA_CONSENSUS_SUM, MT_GTA_CONSENSUS_COUNT}) {
    std::vector<float> generic(g.n), avx(g.n), inplace = g.base;
    MT_CHECK(mt_set_cpu_isa("generic") == MT_OK);
    MT_CHECK(mt_gta_f32(MT_DEVICE_CPU, nullptr, g.n, generic.data(), g.base.data(), 4, m.data(), nullptr, coefs,
                        weights, consensus, 1, 2.0f, 0.8f, MT_CHECK_FINITE) == MT_OK);
    if (mt_set_cpu_isa("avx2") == MT_OK) {
      for (const int32_t wide : {0, 1}) {  // the AVX2 tiles, then the AVX-512 ones where the CPU has them
        if (mt_set_cpu_avx512(wide) != MT_OK) continue;
        MT_CHECK(mt_gta_f32(MT_DEVICE_CPU, nullptr, g.n, avx.data(), g.base.data(), 4, m.data(), nullptr, coefs,
                            weights, consensus, 1, 2.0f, 0.8f, MT_CHECK_FINITE) == MT_OK);
        MT_CHECK(std::memcmp(avx.data(), generic.data(), g.n * sizeof(float)) == 0);
      }
    }
    mt_set_cpu_isa(nullptr);
    MT_CHECK(mt_gta_f32(MT_DEVICE_CPU, nullptr, g.n, inplace.data(), inplace.data(), 4, m.data(), nullptr, coefs,
                        weights, consensus, 1, 2.0f, 0.8f, MT_CHECK_FINITE) == MT_OK);
    MT_CHECK(std::memcmp(inplace.data(), generic.data(), g.n * sizeof(float)) == 0);
  }
}

// The masked tile loops (keep bits expanded per tile) on every CPU path against gta_element element by element, bit
// for bit: lengths that end inside a word and a tile, masks of every density, a model without bits beside masked
// ones is not a case (the API takes all or none), both with and without a base.
MT_TEST(gta_masked_tiles_are_gta_element_bit_for_bit_on_every_path) {
  std::mt19937 rng(23);
  for (const int64_t n : {int64_t{1}, int64_t{33}, int64_t{1000}, int64_t{1024}, int64_t{2085}, int64_t{70001}}) {
    for (const int32_t T : {1, 3, 8}) {
      Gta g(1, n, 1, T, n % 2 == 1, static_cast<uint32_t>(n * 7 + T));
      std::vector<std::vector<uint32_t>> bits(T, std::vector<uint32_t>((n + 31) / 32));
      std::vector<const uint32_t*> bp;
      std::vector<const float*> m;
      for (int32_t i = 0; i < T; ++i) {
        const uint32_t density = rng() % 4;  // none, a quarter, most, all
        for (auto& w : bits[i]) w = density == 0 ? 0u : density == 3 ? ~0u : density == 1 ? rng() & rng() : rng() | rng();
        if (n % 32 != 0) bits[i].back() &= (1u << (n % 32)) - 1u;
        bp.push_back(bits[i].data());
        m.push_back(g.models[i].data());
      }
      std::vector<float> coefs(T);
      for (auto& c : coefs) c = std::uniform_real_distribution<float>(-1.f, 1.5f)(rng);
      const float* base = g.with_base ? g.base.data() : nullptr;
      for (int consensus : {MT_GTA_CONSENSUS_NONE, MT_GTA_CONSENSUS_SUM, MT_GTA_CONSENSUS_COUNT}) {
        for (int normalize : {0, 1}) {
          std::vector<float> want(n);
          float mv[MT_GTA_MAX_MODELS];
          for (int64_t j = 0; j < n; ++j) {
            for (int32_t i = 0; i < T; ++i) mv[i] = g.models[i][j];
            want[j] = mt::gta_element(base == nullptr ? 0.f : base[j], mv, bp.data(), j, T, coefs.data(),
                                      g.weights.data(), consensus, normalize, 1.5f, 0.7f);
          }
          for (const char* isa : {"generic", "avx2", "avx512"}) {
            const bool wide = std::strcmp(isa, "avx512") == 0;
            if (mt_set_cpu_isa(wide ? "avx2" : isa) != MT_OK) continue;
            if (mt_set_cpu_avx512(wide ? 1 : 0) != MT_OK) continue;  // AVX2 alone, or the AVX-512 tile loop
            std::vector<float> got(n, -3.f);
            MT_CHECK(mt_gta_f32(MT_DEVICE_CPU, nullptr, n, got.data(), base, T, m.data(), bp.data(), coefs.data(),
                                g.weights.data(), consensus, normalize, 1.5f, 0.7f, MT_CHECK_FINITE) == MT_OK);
            MT_CHECK_MSG(std::memcmp(got.data(), want.data(), n * sizeof(float)) == 0,
                         std::string(isa) + ": n=" + std::to_string(n) + " T=" + std::to_string(T) + " consensus=" +
                             std::to_string(consensus) + " normalize=" + std::to_string(normalize));
          }
          mt_set_cpu_isa(nullptr);
          mt_set_cpu_avx512(1);  // refused (and so unchanged: off) where the CPU lacks it
        }
      }
    }
  }
}

// Magnitude and outlier selection on tensors large enough for the radix path, with heavy ties (δ quantised to a
// few dozen values, ±, exact zeros) and thresholds that fall inside a tie: the kept set is exactly ranks [lo, hi) of
// a full std::sort on (|δ|, index), on 1, 2 and 3 threads.
MT_TEST(gta_magnitude_selection_is_the_sorted_rank_window_on_large_tensors) {
  std::mt19937 rng(29);
  for (const int64_t n : {int64_t{65536}, int64_t{100003}, int64_t{300000}}) {
    std::vector<float> base(n), model(n);
    const int levels = n == 100003 ? 1000000 : 40;  // many distinct keys in one case, few in the others
    for (int64_t j = 0; j < n; ++j) {
      base[j] = std::uniform_real_distribution<float>(-1.f, 1.f)(rng);
      const int q = static_cast<int>(rng() % (2 * levels + 1)) - levels;
      model[j] = base[j] + static_cast<float>(q) * 0.001f;
    }
    std::vector<std::pair<float, int64_t>> order(n);
    for (int64_t j = 0; j < n; ++j) order[j] = {std::fabs(model[j] - base[j]), j};
    std::sort(order.begin(), order.end());
    struct Case {
      int32_t method;
      double density, param;
    };
    for (const Case c : {Case{MT_GTA_SPARSIFY_MAGNITUDE, 0.2, 0}, Case{MT_GTA_SPARSIFY_MAGNITUDE, 0.9999, 0},
                         Case{MT_GTA_SPARSIFY_OUTLIERS, 0.2, 0.01}, Case{MT_GTA_SPARSIFY_OUTLIERS, 0.5, 0.3}}) {
      const int64_t target = static_cast<int64_t>(c.density * static_cast<double>(n));
      int64_t lo = n - target, hi = n;
      if (c.method == MT_GTA_SPARSIFY_OUTLIERS) {
        int64_t top = static_cast<int64_t>(c.param * static_cast<double>(n)), bot = n - target - top;
        if (bot < 0) {
          top += bot;
          bot = 0;
        }
        lo = bot;
        hi = n - top;
      }
      std::vector<uint32_t> want((n + 31) / 32, 0u);
      for (int64_t r = lo; r < hi; ++r) want[order[r].second >> 5] |= 1u << (order[r].second & 31);
      for (const int32_t threads : {1, 2, 3}) {
        mt_set_num_threads(threads);
        std::vector<uint32_t> got((n + 31) / 32, 0xffffffffu);
        MT_CHECK_MSG(mt_gta_sparsify_f32(n, 1, n, 1, base.data(), model.data(), c.method, c.density, c.param, 1, 2,
                                         0, got.data(), nullptr, MT_CHECK_FINITE) == MT_OK,
                     mt_last_error());
        MT_CHECK_MSG(got == want, "n=" + std::to_string(n) + " method=" + std::to_string(c.method) + " density=" +
                                      std::to_string(c.density) + " threads=" + std::to_string(threads));
      }
      mt_set_num_threads(0);
    }
  }
}

// The L1 sums against long-double sums of the same |δ| (relative 1e-12), bit-identical on 1, 2 and 3 threads.
MT_TEST(gta_sparsify_sums_match_long_double_and_ignore_the_thread_count) {
  std::mt19937 rng(31);
  for (const int64_t n : {int64_t{5}, int64_t{65537}, int64_t{300001}}) {
    std::vector<float> base(n), model(n);
    for (int64_t j = 0; j < n; ++j) {
      base[j] = std::normal_distribution<float>(0.f, 1.f)(rng);
      model[j] = base[j] + std::normal_distribution<float>(0.f, 0.01f)(rng);
    }
    std::vector<uint32_t> bits((n + 31) / 32);
    double first[2] = {0, 0};
    for (const int32_t threads : {1, 2, 3}) {
      mt_set_num_threads(threads);
      double sums[2] = {-1, -1};
      MT_CHECK(mt_gta_sparsify_f32(n, 1, n, 1, base.data(), model.data(), MT_GTA_SPARSIFY_RANDOM, 0.3, 0, 7, 8, 1,
                                   bits.data(), sums, MT_CHECK_FINITE) == MT_OK);
      if (threads == 1) {
        long double all = 0, kept = 0;
        for (int64_t j = 0; j < n; ++j) {
          const long double a = std::fabs(static_cast<long double>(model[j] - base[j]));
          all += a;
          if ((bits[j >> 5] >> (j & 31)) & 1u) kept += a;
        }
        MT_CHECK(std::fabs(sums[0] - static_cast<double>(all)) <= 1e-12 * static_cast<double>(all));
        MT_CHECK(std::fabs(sums[1] - static_cast<double>(kept)) <= 1e-12 * static_cast<double>(all));
        // bit for bit the documented order (gta.h): chunks of 2^16, 8 lanes by element mod 8, lanes folded in order,
        // chunks in order
        double ordered[2] = {0, 0};
        for (int64_t j0 = 0; j0 < n; j0 += 65536) {
          double la[8] = {}, lk[8] = {};
          for (int64_t j = j0; j < std::min(n, j0 + 65536); ++j) {
            const double a = std::fabs(static_cast<double>(model[j] - base[j]));
            la[j % 8] += a;
            lk[j % 8] += ((bits[j >> 5] >> (j & 31)) & 1u) ? a : 0.0;
          }
          double ca = 0, ck = 0;
          for (int q = 0; q < 8; ++q) {
            ca += la[q];
            ck += lk[q];
          }
          ordered[0] += ca;
          ordered[1] += ck;
        }
        MT_CHECK(std::memcmp(ordered, sums, sizeof ordered) == 0);
        // and the same bits with the AVX-512 loop off / on (where the CPU has it)
        for (const int32_t wide : {0, 1}) {
          if (mt_set_cpu_avx512(wide) != MT_OK) continue;
          double again[2] = {-1, -1};
          MT_CHECK(mt_gta_sparsify_f32(n, 1, n, 1, base.data(), model.data(), MT_GTA_SPARSIFY_RANDOM, 0.3, 0, 7, 8, 1,
                                       bits.data(), again, MT_CHECK_FINITE) == MT_OK);
          MT_CHECK_MSG(std::memcmp(again, sums, sizeof again) == 0, "avx512 " + std::to_string(wide));
        }
        first[0] = sums[0];
        first[1] = sums[1];
      } else {
        MT_CHECK_MSG(std::memcmp(first, sums, sizeof first) == 0, "threads " + std::to_string(threads));
      }
    }
    mt_set_num_threads(0);
  }
}

// DELLA's masks against an independent reading of gta.h (a std::sort of (|δ|, index) per row, the scalar Philox
// through mt_philox4x32_10), bit for bit, with ties, on every CPU path and 1 and 3 threads.
MT_TEST(gta_della_masks_are_the_sorted_ranks_and_the_scalar_philox) {
  std::mt19937 rng(37);
  struct Shape {
    int64_t outer, len, inner;
  };
  for (const Shape sh : {Shape{7, 3000, 1}, Shape{3, 700, 5}, Shape{2, 1, 9}, Shape{1, 70000, 1}}) {
    const int64_t n = sh.outer * sh.len * sh.inner;
    std::vector<float> base(n), model(n);
    for (int64_t j = 0; j < n; ++j) {
      base[j] = std::uniform_real_distribution<float>(-1.f, 1.f)(rng);
      model[j] = base[j] + static_cast<float>(static_cast<int>(rng() % 61) - 30) * 0.002f;
    }
    const double density = 0.4, eps = 0.15;
    const uint64_t seed = 0x1234567890abcdefull, key = 0xfedcba9876543210ull;
    const int32_t mi = 3;
    const float lo = static_cast<float>(density - eps), width = static_cast<float>(2.0 * eps);
    std::vector<uint32_t> want((n + 31) / 32, 0u);
    for (int64_t a = 0; a < sh.outer; ++a) {
      for (int64_t c = 0; c < sh.inner; ++c) {
        std::vector<std::pair<float, int64_t>> row;
        for (int64_t r = 0; r < sh.len; ++r) {
          const int64_t j = (a * sh.len + r) * sh.inner + c;
          row.push_back({std::fabs(model[j] - base[j]), j});
        }
        std::sort(row.begin(), row.end());
        for (int64_t r = 0; r < sh.len; ++r) {
          const int64_t j = row[r].second;
          const float norm = sh.len == 1 ? 0.0f : static_cast<float>(r) / static_cast<float>(sh.len - 1);
          const float pj = lo + norm * width;
          const uint32_t ctr[4] = {static_cast<uint32_t>(j >> 2), static_cast<uint32_t>(mi),
                                   static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)};
          const uint32_t k[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
          uint32_t out[4];
          mt_philox4x32_10(ctr, k, out);
          if (static_cast<float>(static_cast<double>(out[j & 3] >> 8) * 0x1p-24) < pj) want[j >> 5] |= 1u << (j & 31);
        }
      }
    }
    for (const char* isa : {"generic", "avx2"}) {
      if (mt_set_cpu_isa(isa) != MT_OK) continue;
      for (const int32_t threads : {1, 3}) {
        mt_set_num_threads(threads);
        std::vector<uint32_t> got((n + 31) / 32, 0xffffffffu);
        MT_CHECK_MSG(mt_gta_sparsify_f32(n, sh.outer, sh.len, sh.inner, base.data(), model.data(),
                                         MT_GTA_SPARSIFY_DELLA, density, eps, seed, key, mi, got.data(), nullptr,
                                         MT_CHECK_FINITE) == MT_OK,
                     mt_last_error());
        MT_CHECK_MSG(got == want, std::string(isa) + " shape " + std::to_string(sh.outer) + "x" +
                                      std::to_string(sh.len) + "x" + std::to_string(sh.inner) + " threads " +
                                      std::to_string(threads));
      }
    }
    mt_set_cpu_isa(nullptr);
    mt_set_num_threads(0);
  }
}

// The sparsify pre-check on a tensor split over threads: the lowest bad index is named whatever the split.
MT_TEST(gta_sparsify_names_the_lowest_non_finite_delta_on_every_thread_count) {
  const int64_t n = 1000003;
  std::vector<float> base(n, 0.5f), model(n, 0.25f);
  model[900001] = NAN;
  base[600002] = -INFINITY;
  model[600002] = 1.f;
  std::vector<uint32_t> bits((n + 31) / 32);
  for (const int32_t threads : {1, 2, 3, 7}) {
    mt_set_num_threads(threads);
    MT_CHECK(mt_gta_sparsify_f32(n, 1, n, 1, base.data(), model.data(), MT_GTA_SPARSIFY_MAGNITUDE, 0.5, 0, 0, 0, 4,
                                 bits.data(), nullptr, MT_CHECK_FINITE) == MT_NON_FINITE);
    MT_CHECK_MSG(mt_last_error_element() == 600002, "threads " + std::to_string(threads));
    MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
    // the other methods, each testing in its own first read of δ (the radix keys, the sums, DELLA's pre-check)
    double sums[2];
    for (const int32_t method : {MT_GTA_SPARSIFY_OUTLIERS, MT_GTA_SPARSIFY_RANDOM, MT_GTA_SPARSIFY_DELLA}) {
      MT_CHECK(mt_gta_sparsify_f32(n, 1, n, 1, base.data(), model.data(), method, 0.5, 0.1, 0, 0, 4, bits.data(),
                                   sums, MT_CHECK_FINITE) == MT_NON_FINITE);
      MT_CHECK_MSG(mt_last_error_element() == 600002, "method " + std::to_string(method));
      MT_CHECK(mt_last_error_input() == MT_INPUT_BASE);
    }
    // RANDOM without sums reads no δ, so there is nothing to report
    MT_CHECK(mt_gta_sparsify_f32(n, 1, n, 1, base.data(), model.data(), MT_GTA_SPARSIFY_RANDOM, 0.5, 0, 0, 0, 4,
                                 bits.data(), nullptr, MT_CHECK_FINITE) == MT_OK);
  }
  mt_set_num_threads(0);
}

MT_TEST(gta_reports_the_first_non_finite_input) {
  Gta g(1, 5000, 1, 3, true, 8);
  g.models[2][4001] = NAN;
  g.models[1][777] = INFINITY;
  std::vector<const float*> m;
  for (auto& v : g.models) m.push_back(v.data());
  const float ones[] = {1.f, 1.f, 1.f};
  MT_CHECK(mt_gta_f32(MT_DEVICE_CPU, nullptr, g.n, g.out.data(), g.base.data(), 3, m.data(), nullptr, ones, ones,
                      MT_GTA_CONSENSUS_SUM, 1, 3.f, 1.f, MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_element() == 777);
  MT_CHECK(mt_last_error_input() == 1);
  std::vector<uint32_t> bits((g.n + 31) / 32);
  MT_CHECK(mt_gta_sparsify_f32(g.n, 1, g.n, 1, g.base.data(), g.models[2].data(), MT_GTA_SPARSIFY_MAGNITUDE, 0.5, 0,
                               0, 0, 2, bits.data(), nullptr, MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_element() == 4001);
  MT_CHECK(mt_gta_f32(MT_DEVICE_CPU, nullptr, g.n, g.out.data(), g.base.data(), 0, m.data(), nullptr, ones, ones,
                      0, 0, 1.f, 1.f, 0) == MT_INVALID_ARGUMENT);
  MT_CHECK(mt_gta_sparsify_f32(g.n, 1, g.n, 1, g.base.data(), g.models[0].data(), MT_GTA_SPARSIFY_DELLA, 0.1, 0.2, 0,
                               0, 0, bits.data(), nullptr, 0) == MT_INVALID_ARGUMENT);
}

MT_TEST(gram_matches_double_sums_and_is_thread_count_independent) {
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{200000}}) {
    Gta g(1, n, 1, 3, true, 40 + static_cast<uint32_t>(n));
    std::vector<const float*> m;
    for (auto& v : g.models) m.push_back(v.data());
    for (bool with_base : {true, false}) {
      double gram[9], again[9];
      MT_CHECK(mt_gram_f32(MT_DEVICE_CPU, nullptr, n, with_base ? g.base.data() : nullptr, 3, m.data(), gram,
                           MT_CHECK_FINITE) == MT_OK);
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
          double want = 0, scale = 0;
          for (int64_t e = 0; e < n; ++e) {
            const double a = with_base ? static_cast<double>(g.models[i][e] - g.base[e]) : g.models[i][e];
            const double b = with_base ? static_cast<double>(g.models[j][e] - g.base[e]) : g.models[j][e];
            want += a * b;
            scale += std::fabs(a * b);
          }
          MT_CHECK_MSG(std::fabs(gram[i * 3 + j] - want) <= 1e-12 * scale + 1e-300, "n=" + std::to_string(n));
        }
      }
      const int32_t threads = mt_get_num_threads();
      mt_set_num_threads(1);
      MT_CHECK(mt_gram_f32(MT_DEVICE_CPU, nullptr, n, with_base ? g.base.data() : nullptr, 3, m.data(), again, 0) == MT_OK);
      mt_set_num_threads(threads);
      MT_CHECK(std::memcmp(gram, again, sizeof(gram)) == 0);
    }
    g.models[1][n / 2] = NAN;
    double gram[9];
    MT_CHECK(mt_gram_f32(MT_DEVICE_CPU, nullptr, n, g.base.data(), 3, m.data(), gram, MT_CHECK_FINITE) == MT_NON_FINITE);
    MT_CHECK(mt_last_error_element() == n / 2);
  }
}
