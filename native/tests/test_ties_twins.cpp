// K4c's CPU twins (ties_cpu_loops.h as portable, AVX2 and AVX-512 code; the trim's window scan portable and
// AVX-512) against each other in one process: the same inputs through every path, every output compared bit for
// bit — the trim's thresholds and cutoffs, both histogram levels, the census for both elections, the merge for
// every election, aggregate and zero sign, and the status and error location of a NaN. The per-segment trim is
// also held against a full sort (an independent reference), on the window route and where its sample misleads
// it (the fallback to the histogram route). Inputs reach the edges: lengths around the tile (1024) and the
// large-segment bound (2^18), zeros of both signs, subnormals, huge magnitudes whose double mass rounds, repeated
// magnitudes (ties at the threshold), exact cancellations, negative and zero weights, 1, 3 and 8 models, 1 and 2
// threads. On a CPU without AVX2 / AVX-512 the missing twins are skipped and the reference checks still run.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mergetune/mergetune.h"
#include "test_main.h"

namespace {

constexpr int32_t CPU = MT_DEVICE_CPU;

// "generic", "avx2" (AVX-512 off) or "avx512"; false where the CPU lacks it.
bool use_isa(const char* isa) {
  const bool wide = std::strcmp(isa, "avx512") == 0;
  if (mt_set_cpu_isa(wide ? "avx2" : isa) != MT_OK) return false;
  if (std::strcmp(isa, "generic") == 0) return true;
  return mt_set_cpu_avx512(wide ? 1 : 0) == MT_OK;
}

struct Restore {
  ~Restore() {
    mt_set_cpu_isa(nullptr);
    mt_set_cpu_avx512(1);  // refused (and harmless) where the CPU has no AVX-512
    mt_set_num_threads(0);
  }
};

uint32_t pattern(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u & 0x7fffffffu;
}

struct Set {
  std::vector<int64_t> lengths;
  int32_t T;
  bool has_base;
  std::vector<std::vector<float>> base;
  std::vector<std::vector<std::vector<float>>> models;  // [i][s]
  std::vector<const float*> bp, mp;
  std::vector<float> weights;

  int64_t S() const { return static_cast<int64_t>(lengths.size()); }
  const float* const* b() const { return has_base ? bp.data() : nullptr; }
  void tables() {
    bp.clear();
    mp.clear();
    for (auto& v : base) bp.push_back(v.data());
    for (auto& m : models) {
      for (auto& v : m) mp.push_back(v.data());
    }
  }
  float delta(int32_t i, int64_t s, int64_t j) const {
    return has_base ? models[i][s][j] - base[s][j] : models[i][s][j];
  }

  static Set random(std::vector<int64_t> lens, int32_t t, bool with_base, uint32_t seed) {
    Set p{std::move(lens), t, with_base, {}, {}, {}, {}, {}};
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> w(0.f, 1.f), d(0.f, 0.01f);
    p.base.resize(p.S());
    p.models.assign(t, std::vector<std::vector<float>>(p.S()));
    for (int64_t s = 0; s < p.S(); ++s) {
      p.base[s].resize(p.lengths[s]);
      for (int32_t i = 0; i < t; ++i) p.models[i][s].resize(p.lengths[s]);
      for (int64_t j = 0; j < p.lengths[s]; ++j) {
        const float b0 = with_base ? w(rng) : 0.0f;
        p.base[s][j] = b0;
        for (int32_t i = 0; i < t; ++i) {
          float x = d(rng);
          switch (rng() % 24) {
            case 0: x = 0.0f; break;
            case 1: x = -0.0f; break;
            case 2: x = 1e-41f; break;                           // subnormal
            case 3: x = d(rng) * 1e30f; break;                   // the double mass of small terms rounds
            case 4: x = 0.0078125f; break;                       // repeated magnitudes: ties
            case 5: x = -0.0078125f; break;
            case 6: if (i > 0) x = -p.delta(0, s, j); break;  // cancels model 0's δ (up to b0's rounding)
            default: break;
          }
          p.models[i][s][j] = with_base ? b0 + x : x;
        }
      }
    }
    p.weights.resize(t);
    for (int32_t i = 0; i < t; ++i) p.weights[i] = i % 4 == 3 ? 0.0f : std::uniform_real_distribution<float>(-0.5f, 2.f)(rng);
    p.tables();
    return p;
  }
};

struct Outcome {
  mt_status status = MT_OK;
  int64_t segment = 0, element = 0;
  int32_t input = 0;
  std::vector<uint32_t> thresholds;
  std::vector<int64_t> cutoffs, hist0, hist1, census;
  std::vector<float> merged;
  void capture(mt_status st) {
    if (status != MT_OK || st == MT_OK) return;
    status = st;
    segment = mt_last_error_segment();
    element = mt_last_error_element();
    input = mt_last_error_input();
  }
  bool operator==(const Outcome& o) const {
    return status == o.status && segment == o.segment && element == o.element && input == o.input &&
           thresholds == o.thresholds && cutoffs == o.cutoffs && hist0 == o.hist0 && hist1 == o.hist1 &&
           census == o.census && merged.size() == o.merged.size() &&
           (merged.empty() || std::memcmp(merged.data(), o.merged.data(), merged.size() * 4) == 0);
  }
};

// Every pass on one ISA path: the trim, both histogram levels, the census and the merge for each configuration.
Outcome run_all(const Set& p, const std::vector<int64_t>& keep, int32_t ties, int32_t flags) {
  Outcome o;
  const int64_t S = p.S(), T = p.T;
  o.thresholds.resize(T * S);
  o.cutoffs.resize(T * S);
  o.capture(mt_ties_trim_per_segment_f32(CPU, nullptr, S, p.lengths.data(), p.b(), p.T, p.mp.data(), keep.data(), ties,
                                         o.thresholds.data(), o.cutoffs.data(), flags));
  o.hist0.assign(T * MT_TIES_LEVEL0_BINS, 0);
  o.capture(mt_ties_histogram_f32(CPU, nullptr, S, p.lengths.data(), p.b(), p.T, p.mp.data(), 0, nullptr,
                                  o.hist0.data(), flags));
  std::vector<uint32_t> prefix(T);
  for (int64_t i = 0; i < T; ++i) prefix[i] = i == 1 ? MT_TIES_KEEP_NONE : o.thresholds[i * S] >> 16;
  o.hist1.assign(T * MT_TIES_LEVEL1_BINS, 0);
  o.capture(mt_ties_histogram_f32(CPU, nullptr, S, p.lengths.data(), p.b(), p.T, p.mp.data(), 1, prefix.data(),
                                  o.hist1.data(), flags));
  for (int32_t election : {MT_TIES_ELECT_MASS, MT_TIES_ELECT_COUNT}) {
    std::vector<int64_t> sums(S);
    o.capture(mt_ties_sign_census_f32(CPU, nullptr, S, p.lengths.data(), p.b(), p.T, p.mp.data(), o.thresholds.data(),
                                      o.cutoffs.data(), p.weights.data(), election, sums.data(), flags));
    o.census.insert(o.census.end(), sums.begin(), sums.end());
    for (int32_t aggregate : {MT_TIES_DISJOINT_SUM, MT_TIES_DISJOINT_MEAN, MT_TIES_DISJOINT_MAX}) {
      std::vector<float> zero(S);
      for (int64_t s = 0; s < S; ++s) zero[s] = static_cast<float>(static_cast<int>((s + aggregate) % 3) - 1);
      std::vector<std::vector<float>> out(S);
      std::vector<float*> op;
      for (int64_t s = 0; s < S; ++s) {
        out[s].assign(p.lengths[s], -12345.f);
        op.push_back(out[s].data());
      }
      o.capture(mt_ties_merge_f32(CPU, nullptr, S, p.lengths.data(), op.data(), p.b(), p.T, p.mp.data(),
                                  o.thresholds.data(), o.cutoffs.data(), p.weights.data(), election, zero.data(),
                                  aggregate, 0.7f, flags));
      for (auto& v : out) o.merged.insert(o.merged.end(), v.begin(), v.end());
    }
  }
  return o;
}

// The trim by a full sort of each (model, segment): t, and the cutoff of the tie rule.
void sorted_trim(const Set& p, const std::vector<int64_t>& keep, int32_t ties, std::vector<uint32_t>* t,
                 std::vector<int64_t>* c) {
  const int64_t S = p.S();
  t->assign(p.T * S, 0);
  c->assign(p.T * S, 0);
  for (int32_t i = 0; i < p.T; ++i) {
    for (int64_t s = 0; s < S; ++s) {
      const size_t q = i * S + s;
      const int64_t n = p.lengths[s], k = keep[q];
      if (k == 0) {
        (*t)[q] = MT_TIES_KEEP_NONE;
        continue;
      }
      (*c)[q] = n;
      if (k >= n) continue;
      std::vector<uint32_t> a(n);
      for (int64_t j = 0; j < n; ++j) a[j] = pattern(p.delta(i, s, j));
      std::vector<uint32_t> sorted = a;
      std::sort(sorted.begin(), sorted.end(), std::greater<uint32_t>());
      const uint32_t th = sorted[k - 1];
      (*t)[q] = th;
      int64_t above = 0, equal = 0;
      for (uint32_t x : a) {
        above += x > th;
        equal += x == th;
      }
      const int64_t r = k - above;
      if (ties != MT_TIES_TIES_EXACT || r >= equal) continue;
      for (int64_t j = 0, seen = 0; j < n; ++j) {
        if (a[j] == th && ++seen == r) {
          (*c)[q] = j + 1;
          break;
        }
      }
    }
  }
}

std::vector<int64_t> keep_fifth(const Set& p) {
  std::vector<int64_t> keep(p.T * p.S());
  for (int64_t q = 0; q < p.T * p.S(); ++q) keep[q] = p.lengths[q % p.S()] / 5 + (q % 3 == 0 ? 1 : 0);
  return keep;
}

void twins_agree(const Set& p, const std::vector<int64_t>& keep, const std::string& what) {
  Restore restore;
  for (int32_t ties : {MT_TIES_TIES_KEEP_ALL, MT_TIES_TIES_EXACT}) {
    for (int32_t flags : {MT_CHECK_FINITE, 0}) {
      for (int32_t threads : {1, 2}) {
        mt_set_num_threads(threads);
        MT_CHECK(use_isa("generic"));
        const Outcome g = run_all(p, keep, ties, flags);
        for (const char* isa : {"avx2", "avx512"}) {
          if (!use_isa(isa)) continue;
          MT_CHECK_MSG(run_all(p, keep, ties, flags) == g, what + ", " + isa + ", ties " + std::to_string(ties) +
                                                               ", flags " + std::to_string(flags) + ", " +
                                                               std::to_string(threads) + " threads");
        }
      }
    }
  }
}

}  // namespace

MT_TEST(ties_twins_agree_bit_for_bit_on_every_pass) {
  for (int32_t T : {1, 3, 8}) {
    for (bool base : {true, false}) {
      const Set p = Set::random({0, 1, 7, 1023, 1024, 1025, 5000, 70001}, T, base, 100 + T + (base ? 50 : 0));
      twins_agree(p, keep_fifth(p), std::to_string(T) + " models, base " + std::to_string(base));
    }
  }
  const Set large = Set::random({300000, 17, (1 << 18) + 3}, 3, true, 7);
  twins_agree(large, keep_fifth(large), "large segments");
}

MT_TEST(ties_twins_agree_on_the_first_bad_element) {
  Set p = Set::random({5000, 300000, 2000}, 3, true, 9);
  p.models[2][1][250000] = std::numeric_limits<float>::infinity();
  p.models[1][1][260001] = std::numeric_limits<float>::quiet_NaN();
  p.models[0][2][5] = std::numeric_limits<float>::quiet_NaN();
  twins_agree(p, keep_fifth(p), "NaN / Inf");
  Restore restore;
  const std::vector<int64_t> keep = keep_fifth(p);
  std::vector<uint32_t> t(9);
  std::vector<int64_t> c(9);
  MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, 3, p.lengths.data(), p.b(), 3, p.mp.data(), keep.data(),
                                        MT_TIES_TIES_EXACT, t.data(), c.data(), MT_CHECK_FINITE) == MT_NON_FINITE);
  MT_CHECK(mt_last_error_segment() == 1 && mt_last_error_element() == 250000 && mt_last_error_input() == 2);
}

MT_TEST(ties_large_segment_trim_equals_a_full_sort_on_the_window_route_and_its_fallback) {
  Restore restore;
  // Random magnitudes (the window holds the threshold), and a set whose sampled blocks (the first 64 elements of
  // every n / (n / 8192)-th stretch, ties_select_cpu.cpp) are tiny, so every window lies far below the threshold
  // and the segment must fall back to the histogram route.
  Set normal = Set::random({300000, (1 << 18) + 5, 1 << 20}, 3, true, 21);
  Set misled = Set::random({1 << 18, 1 << 19}, 2, false, 22);
  for (int64_t s = 0; s < misled.S(); ++s) {
    const int64_t n = misled.lengths[s], stride = n / (n / 8192);
    for (int32_t i = 0; i < misled.T; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        if (j % stride < 64) misled.models[i][s][j] = 1e-20f * static_cast<float>(j % 7);
      }
    }
  }
  for (Set* p : {&normal, &misled}) {
    for (int32_t ties : {MT_TIES_TIES_KEEP_ALL, MT_TIES_TIES_EXACT}) {
      for (const double frac : {0.2, 0.01, 0.9}) {
        std::vector<int64_t> keep(p->T * p->S());
        for (int64_t q = 0; q < p->T * p->S(); ++q) {
          keep[q] = static_cast<int64_t>(static_cast<double>(p->lengths[q % p->S()]) * frac) + q % 2;
        }
        std::vector<uint32_t> want_t;
        std::vector<int64_t> want_c;
        sorted_trim(*p, keep, ties, &want_t, &want_c);
        for (const char* isa : {"generic", "avx512"}) {
          if (!use_isa(isa)) continue;
          for (int32_t threads : {1, 2, 3}) {
            mt_set_num_threads(threads);
            std::vector<uint32_t> t(p->T * p->S());
            std::vector<int64_t> c(p->T * p->S());
            MT_CHECK(mt_ties_trim_per_segment_f32(CPU, nullptr, p->S(), p->lengths.data(), p->b(), p->T, p->mp.data(),
                                                  keep.data(), ties, t.data(), c.data(), MT_CHECK_FINITE) == MT_OK);
            const std::string what = std::string(p == &normal ? "window" : "fallback") + ", " + isa + ", ties " +
                                     std::to_string(ties) + ", keep " + std::to_string(frac);
            MT_CHECK_MSG(t == want_t, what + ": thresholds");
            MT_CHECK_MSG(c == want_c, what + ": cutoffs");
          }
        }
      }
    }
  }
}
