// The AVX2 twins of the CPU kernels against their portable paths, in one process (mt_set_cpu_isa): the same random
// inputs through both, every output compared bit for bit (memcmp) — K3 unify's U, mask words and double sums, K4b's
// results for every rescale mode — and so are the status and the error location of NaN/Inf inputs.
//
// One exception: where both results are NaN, any two NaNs pass. Which NaN an operation on two NaN operands returns
// is left to the implementation by IEEE 754 (x86 returns the first operand's), and compilers commute + and *
// freely, so a NaN's sign and payload are not even stable for the portable code itself across optimisation levels
// (a -O0 sanitizer build and the -O3 release build differ), nor between CPU and GPU. NaN results arise only from
// NaN/Inf inputs with the finiteness check off. The inputs
// are chosen to reach the edges: lengths that are not multiples of 8 or 32, many (and empty) segments, 1..11
// tasks or models, exact zeros, −0, ties, subnormals and magnitudes whose double sums round, misaligned arrays,
// thread counts that split segments at odd elements, in-place calls.
//
// K4b's L1 sums only reach its results through one float rounding of r, so a wrong lane or order would hardly ever
// show there; its inner loops are also compared directly (this test compiles dare_cpu_avx2.cpp in), lanes bit for
// bit.
//
// K4b and the GTA masks also have AVX-512 twins (dare_cpu_avx512.cpp, on by default where the CPU has them):
// mt_set_cpu_avx512 picks between them and the AVX2 paths, and both are held against the portable one.
//
// On a CPU without AVX2 there is nothing to compare; the tests say so and pass.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dare_cpu_isa.h"    // the AVX2 loops, compiled into this test from native/src
#include "dare_cpu_loops.h"  // their portable twins
#include "mergetune/mergetune.h"
#include "test_main.h"

namespace {

bool have_avx2() {
  static const bool yes = [] {
    const bool ok = mt_set_cpu_isa("avx2") == MT_OK;
    mt_set_cpu_isa(nullptr);
    if (!ok) std::printf("  (this CPU has no AVX2: the twin tests have nothing to compare)\n");
    return ok;
  }();
  return yes;
}

bool have_avx512() {
  static const bool yes = [] {
    const bool ok = have_avx2() && mt_set_cpu_avx512(1) == MT_OK;
    if (!ok) std::printf("  (this CPU has no AVX-512 F/BW/DQ/VL + BMI2: the AVX-512 twins are not compared)\n");
    return ok;
  }();
  return yes;
}

// Selects one of the three CPU paths: "generic", "avx2" (AVX-512 off) or "avx512" (on; false where absent).
bool select_isa(const char* isa) {
  const bool wide = std::strcmp(isa, "avx512") == 0;
  if (wide && !have_avx512()) return false;
  if (mt_set_cpu_isa(wide ? "avx2" : isa) != MT_OK) return false;
  return mt_set_cpu_avx512(wide ? 1 : 0) == MT_OK;
}

// Restores the default ISA and thread count when a test ends, whatever it set.
struct Restore {
  ~Restore() {
    mt_set_cpu_isa(nullptr);
    mt_set_cpu_avx512(have_avx512() ? 1 : 0);
    mt_set_num_threads(0);
  }
};

template <class T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Bit for bit, or both NaN (see the top of the file).
template <class T>
bool same_value(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0 || (std::isnan(a) && std::isnan(b));
}

template <class T>
bool same_values(const T* a, const T* b, size_t n) {
  for (size_t k = 0; k < n; ++k) {
    if (!same_value(a[k], b[k])) return false;
  }
  return true;
}

// What a call left behind: status, error location and every output, flattened.
struct Outcome {
  mt_status status = MT_OK;
  std::string message;
  int64_t segment = 0, element = 0;
  int32_t input = 0;
  std::vector<float> floats;     // U, or the DARE results
  std::vector<uint32_t> words;   // mask words
  std::vector<double> doubles;   // the sums

  void capture_error(mt_status st) {
    status = st;
    message = st == MT_OK ? "" : mt_last_error();
    segment = st == MT_OK ? 0 : mt_last_error_segment();
    element = st == MT_OK ? 0 : mt_last_error_element();
    input = st == MT_OK ? 0 : mt_last_error_input();
  }
};

// First difference between the two outcomes, or "".
std::string differences(const Outcome& g, const Outcome& a) {
  if (g.status != a.status) return "status " + std::to_string(g.status) + " vs " + std::to_string(a.status);
  if (g.message != a.message) return "message \"" + g.message + "\" vs \"" + a.message + "\"";
  if (g.segment != a.segment || g.element != a.element || g.input != a.input) return "error location";
  if (g.floats.size() != a.floats.size()) return "float outputs differ in size";
  for (size_t k = 0; k < g.floats.size(); ++k) {
    if (!same_value(g.floats[k], a.floats[k])) {
      return "float output differs at flat " + std::to_string(k) + ": " + std::to_string(g.floats[k]) + " vs " +
             std::to_string(a.floats[k]);
    }
  }
  if (!same_bytes(g.words, a.words)) return "mask words differ";
  if (g.doubles.size() != a.doubles.size()) return "sums differ in size";
  for (size_t k = 0; k < g.doubles.size(); ++k) {
    if (!same_value(g.doubles[k], a.doubles[k])) return "sum " + std::to_string(k) + " differs";
  }
  return "";
}

// A value drawn to reach the edge cases of the float and double operations.
float edgy(std::mt19937_64& rng, float scale) {
  std::normal_distribution<float> normal(0.f, scale);
  switch (std::uniform_int_distribution<int>(0, 19)(rng)) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return 1e-41f * (rng() & 1 ? 1.f : -1.f);  // subnormal
    case 3: return normal(rng) * 1e30f;                // big: double sums with small ones round
    case 4: return normal(rng) * 1e-30f;
    default: return normal(rng);
  }
}

// ------------------------------------------------------------------------------------------------------- K3

struct K3 {
  std::vector<int64_t> lengths;
  int32_t tasks;
  bool theta0;
  int offset;  // every array starts this many floats into its storage (misalignment)
  std::vector<std::vector<float>> z;                // [segment], offset included
  std::vector<std::vector<std::vector<float>>> x;   // [task][segment]

  K3(std::vector<int64_t> lens, int32_t t, bool with_theta0, int off, uint64_t seed)
      : lengths(std::move(lens)), tasks(t), theta0(with_theta0), offset(off) {
    std::mt19937_64 rng(seed);
    const size_t S = lengths.size();
    z.resize(S);
    x.assign(tasks, std::vector<std::vector<float>>(S));
    for (size_t s = 0; s < S; ++s) {
      z[s].assign(lengths[s] + offset, 0.f);
      for (int64_t j = 0; j < lengths[s]; ++j) z[s][offset + j] = theta0 ? edgy(rng, 1.f) : 0.f;
      for (int32_t i = 0; i < tasks; ++i) {
        x[i][s].assign(lengths[s] + offset, 0.f);
        for (int64_t j = 0; j < lengths[s]; ++j) {
          const float base = z[s][offset + j];
          float d = edgy(rng, 0.01f);
          if (i > 0 && (rng() % 8) == 0) d = -(x[0][s][offset + j] - base);  // an exact tie with task 0
          x[i][s][offset + j] = base + d;
        }
      }
    }
  }

  void poison(uint64_t seed, int count) {  // NaN / ±Inf at random elements of random inputs (θ0 included)
    std::mt19937_64 rng(seed);
    const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity()};
    for (int c = 0; c < count; ++c) {
      const size_t s = rng() % lengths.size();
      if (lengths[s] == 0) continue;
      const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(lengths[s]));
      const int32_t i = static_cast<int32_t>(rng() % static_cast<uint64_t>(tasks + (theta0 ? 1 : 0)));
      float& v = i == tasks ? z[s][offset + j] : x[i][s][offset + j];
      v = bad[rng() % 3];
    }
  }

  Outcome run(const char* isa, int32_t flags, bool sums, int32_t threads) const {
    MT_CHECK(mt_set_cpu_isa(isa) == MT_OK);
    mt_set_num_threads(threads);
    const int64_t S = static_cast<int64_t>(lengths.size());
    std::vector<std::vector<float>> u(S);
    std::vector<std::vector<uint32_t>> m(static_cast<size_t>(tasks) * S);
    std::vector<const float*> zp, xp;
    std::vector<float*> up;
    std::vector<uint32_t*> mp;
    for (int64_t s = 0; s < S; ++s) {
      u[s].assign(lengths[s] + offset, -12345.f);  // what is not written must stay as it was
      zp.push_back(z[s].data() + offset);
      up.push_back(u[s].data() + offset);
    }
    for (int32_t i = 0; i < tasks; ++i) {
      for (int64_t s = 0; s < S; ++s) {
        xp.push_back(x[i][s].data() + offset);
        m[i * S + s].assign((lengths[s] + 31) / 32, 0xdeadbeefu);
        mp.push_back(m[i * S + s].data());
      }
    }
    std::vector<double> sa(static_cast<size_t>(tasks) * S, -1.0), sm(static_cast<size_t>(tasks) * S, -2.0);
    Outcome o;
    o.capture_error(mt_signmax_unify_f32(MT_DEVICE_CPU, nullptr, S, lengths.data(), theta0 ? zp.data() : nullptr,
                                         tasks, xp.data(), up.data(), mp.data(), sums ? sa.data() : nullptr,
                                         sums ? sm.data() : nullptr, flags));
    for (const auto& v : u) o.floats.insert(o.floats.end(), v.begin(), v.end());
    for (const auto& v : m) o.words.insert(o.words.end(), v.begin(), v.end());
    o.doubles = sa;
    o.doubles.insert(o.doubles.end(), sm.begin(), sm.end());
    return o;
  }
};

// Both paths on one problem, with and without the finiteness check and the sums.
void k3_twins(const K3& p, int32_t threads, const std::string& what) {
  for (const int32_t flags : {MT_CHECK_FINITE, 0}) {
    for (const bool sums : {true, false}) {
      const Outcome g = p.run("generic", flags, sums, threads);
      const Outcome a = p.run("avx2", flags, sums, threads);
      const std::string d = differences(g, a);
      MT_CHECK_MSG(d.empty(), what + ", T " + std::to_string(p.tasks) + (p.theta0 ? ", θ0" : ", deltas") +
                                  ", flags " + std::to_string(flags) + (sums ? ", sums" : "") + ", " +
                                  std::to_string(threads) + " threads: " + d);
    }
  }
}

std::vector<int64_t> random_lengths(std::mt19937_64& rng, int count, int64_t max_len) {
  std::vector<int64_t> lengths(count);
  for (auto& n : lengths) n = (rng() % 7 == 0) ? 0 : static_cast<int64_t>(rng() % static_cast<uint64_t>(max_len + 1));
  return lengths;
}

// ------------------------------------------------------------------------------------------------------- K4b

struct Dare {
  std::vector<int64_t> lengths;
  std::vector<uint64_t> keys;
  int32_t models;
  int offset;
  std::vector<std::vector<float>> base;              // [segment]
  std::vector<std::vector<std::vector<float>>> m;    // [model][segment]
  std::vector<float> lambdas;

  Dare(std::vector<int64_t> lens, int32_t n_models, int off, uint64_t seed)
      : lengths(std::move(lens)), models(n_models), offset(off) {
    std::mt19937_64 rng(seed);
    const size_t S = lengths.size();
    base.resize(S);
    m.assign(models, std::vector<std::vector<float>>(S));
    for (size_t s = 0; s < S; ++s) {
      keys.push_back(rng());
      base[s].assign(lengths[s] + offset, 0.f);
      for (int64_t j = 0; j < lengths[s]; ++j) base[s][offset + j] = edgy(rng, 1.f);
      for (int32_t i = 0; i < models; ++i) {
        m[i][s].assign(lengths[s] + offset, 0.f);
        for (int64_t j = 0; j < lengths[s]; ++j) m[i][s][offset + j] = base[s][offset + j] + edgy(rng, 0.05f);
      }
    }
    std::uniform_real_distribution<float> lam(-1.f, 1.5f);
    for (int32_t i = 0; i < models; ++i) lambdas.push_back(lam(rng));
  }

  void poison(uint64_t seed, int count) {
    std::mt19937_64 rng(seed);
    const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity()};
    for (int c = 0; c < count; ++c) {
      const size_t s = rng() % lengths.size();
      if (lengths[s] == 0) continue;
      const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(lengths[s]));
      const int32_t i = static_cast<int32_t>(rng() % static_cast<uint64_t>(models + 1));
      float& v = i == models ? base[s][offset + j] : m[i][s][offset + j];
      v = bad[rng() % 3];
    }
  }

  // alias: -1 none, 0 out = base, 1 out = model 0.
  Outcome run(const char* isa, int32_t rescale, float drop_rate, uint64_t seed, int32_t flags, int alias,
              int32_t threads) const {
    MT_CHECK(select_isa(isa));
    mt_set_num_threads(threads);
    const int64_t S = static_cast<int64_t>(lengths.size());
    std::vector<std::vector<float>> b = base;
    std::vector<std::vector<std::vector<float>>> mm = m;
    std::vector<std::vector<float>> out(S);
    std::vector<float*> op;
    std::vector<const float*> bp, mp;
    for (int64_t s = 0; s < S; ++s) {
      out[s].assign(lengths[s] + offset, -12345.f);
      float* dst = alias == 0 ? b[s].data() : alias == 1 && models > 0 ? mm[0][s].data() : out[s].data();
      op.push_back(dst + offset);
      bp.push_back(b[s].data() + offset);
    }
    for (int32_t i = 0; i < models; ++i) {
      for (int64_t s = 0; s < S; ++s) mp.push_back(mm[i][s].data() + offset);
    }
    Outcome o;
    o.capture_error(mt_dare_f32(MT_DEVICE_CPU, nullptr, S, lengths.data(), keys.data(), op.data(), bp.data(), models,
                                mp.data(), lambdas.data(), drop_rate, seed, rescale, flags));
    const auto& written = alias == 0 ? b : alias == 1 && models > 0 ? mm[0] : out;
    for (const auto& v : written) o.floats.insert(o.floats.end(), v.begin(), v.end());
    return o;
  }
};

void dare_twins(const Dare& p, float drop_rate, uint64_t seed, int alias, int32_t threads, const std::string& what) {
  for (const int32_t rescale : {MT_DARE_RESCALE_NONE, MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    for (const int32_t flags : {MT_CHECK_FINITE, 0}) {
      const Outcome g = p.run("generic", rescale, drop_rate, seed, flags, alias, threads);
      for (const char* isa : {"avx2", "avx512"}) {
        if (std::strcmp(isa, "avx512") == 0 && !have_avx512()) continue;
        const Outcome a = p.run(isa, rescale, drop_rate, seed, flags, alias, threads);
        const std::string d = differences(g, a);
        MT_CHECK_MSG(d.empty(), what + ", " + isa + ", " + std::to_string(p.models) + " models, rescale " +
                                    std::to_string(rescale) + ", drop " + std::to_string(drop_rate) + ", flags " +
                                    std::to_string(flags) + ", alias " + std::to_string(alias) + ", " +
                                    std::to_string(threads) + " threads: " + d);
      }
    }
  }
}

}  // namespace

MT_TEST(isa_override_is_checked_and_reported) {
  Restore restore;
  MT_CHECK(mt_set_cpu_isa("generic") == MT_OK);
  MT_CHECK(std::string(mt_cpu_isa()) == "generic");
  MT_CHECK(mt_set_cpu_isa("sse9") == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("sse9") != std::string::npos);
  MT_CHECK(std::string(mt_cpu_isa()) == "generic");  // a refused name changes nothing
  if (have_avx2()) {
    MT_CHECK(mt_set_cpu_isa("avx2") == MT_OK);
    MT_CHECK(std::string(mt_cpu_isa()) == "avx2");
  }
  MT_CHECK(mt_set_cpu_isa(nullptr) == MT_OK);
  const char* forced = std::getenv("MERGETUNE_CPU_ISA");
  const bool generic = forced != nullptr && std::string(forced) == "generic";
  MT_CHECK(std::string(mt_cpu_isa()) == (generic || !have_avx2() ? "generic" : "avx2"));
}

MT_TEST(signmax_unify_avx2_is_bit_identical_on_short_and_odd_lengths) {
  if (!have_avx2()) return;
  Restore restore;
  uint64_t seed = 100;
  for (int32_t tasks = 1; tasks <= 11; ++tasks) {
    for (const bool theta0 : {false, true}) {
      // every length 0..70 (tails of every size around 8 and 32), then tile and chunk edges
      std::vector<int64_t> lengths;
      for (int64_t n = 0; n <= 70; ++n) lengths.push_back(n);
      for (int64_t n : {1023, 1024, 1025, 1031, 2047, 3001, 65535, 65536, 65537 + 32}) lengths.push_back(n);
      ++seed;
      k3_twins(K3(lengths, tasks, theta0, static_cast<int>(seed % 3), seed), 1, "short and odd lengths");
    }
  }
}

MT_TEST(signmax_unify_avx2_is_bit_identical_on_many_segments_and_threads) {
  if (!have_avx2()) return;
  Restore restore;
  std::mt19937_64 rng(7);
  for (const int32_t tasks : {2, 3, 8, 11}) {
    for (const bool theta0 : {false, true}) {
      const K3 p(random_lengths(rng, 300, 3000), tasks, theta0, 1, rng());
      k3_twins(p, 1, "300 segments");
    }
  }
  // large enough to split over threads (chunks of 65536, at least 131072 elements a thread)
  const K3 wide({400'001, 13, 0, 131'075}, 5, true, 3, 8);
  for (const int32_t threads : {1, 2, 3}) k3_twins(wide, threads, "wide");
}

// U of 8 MiB and more is streamed (non-temporal stores after a scalar head up to 32-byte alignment).
MT_TEST(signmax_unify_avx2_is_bit_identical_when_streaming) {
  if (!have_avx2()) return;
  Restore restore;
  for (const int offset : {0, 1, 3}) {
    K3 p({2'100'003, 1'000, 70}, 2, offset != 1, offset, 60 + offset);
    k3_twins(p, 2, "streamed U, offset " + std::to_string(offset));
    if (offset == 3) {
      p.poison(61, 2);
      k3_twins(p, 2, "streamed U with NaN/Inf");
    }
  }
}

MT_TEST(signmax_unify_avx2_reports_non_finite_inputs_at_the_same_place) {
  if (!have_avx2()) return;
  Restore restore;
  std::mt19937_64 rng(9);
  for (int round = 0; round < 12; ++round) {
    const int32_t tasks = 1 + round % 11;
    K3 p(random_lengths(rng, 40, 2500), tasks, round % 2 == 0, round % 4, rng());
    p.poison(rng(), 1 + round % 3);
    k3_twins(p, 1 + round % 2, "NaN/Inf inputs");
  }
  K3 wide({300'007, 200'001}, 3, true, 0, 10);
  wide.poison(11, 4);
  for (const int32_t threads : {1, 2, 3}) k3_twins(wide, threads, "wide with NaN/Inf");
  // finite inputs whose fp32 delta overflows
  K3 over({40}, 2, true, 0, 12);
  over.z[0][17] = -3e38f;
  over.x[1][0][17] = 3e38f;
  k3_twins(over, 1, "overflowing delta");
}

MT_TEST(dare_avx2_is_bit_identical_on_short_and_odd_lengths) {
  if (!have_avx2()) return;
  Restore restore;
  uint64_t seed = 200;
  std::vector<int64_t> lengths;
  for (int64_t n = 0; n <= 40; ++n) lengths.push_back(n);
  for (int64_t n : {1023, 1025, 1029, 4099, 65537}) lengths.push_back(n);
  for (int32_t models = 0; models <= 11; ++models) {
    ++seed;
    const Dare p(lengths, models, static_cast<int>(seed % 3), seed);
    for (const float drop : {0.0f, 0.3f, 0.9f}) dare_twins(p, drop, seed * 977, -1, 1, "short and odd lengths");
  }
}

MT_TEST(dare_avx2_is_bit_identical_on_many_segments_threads_and_in_place) {
  if (!have_avx2()) return;
  Restore restore;
  std::mt19937_64 rng(21);
  for (const int32_t models : {1, 2, 5, 8}) {
    const Dare p(random_lengths(rng, 300, 3000), models, 1, rng());
    dare_twins(p, 0.7f, rng(), -1, 1, "300 segments");
    dare_twins(p, 0.5f, rng(), 0, 1, "300 segments, out = base");
    dare_twins(p, 0.5f, rng(), 1, 1, "300 segments, out = model 0");
  }
  // large enough to split over threads at odd elements (at least 65536 a thread)
  const Dare wide({250'003, 7, 0, 131'077}, 3, 2, 22);
  for (const int32_t threads : {1, 2, 3}) {
    dare_twins(wide, 0.9f, 0xfeedfacecafebeefull, -1, threads, "wide");
    dare_twins(wide, 0.25f, 5, 0, threads, "wide, out = base");
  }
}

// Outputs of 8 MiB and more are streamed, in place too.
MT_TEST(dare_avx2_is_bit_identical_when_streaming) {
  if (!have_avx2()) return;
  Restore restore;
  for (const int offset : {0, 1, 2}) {
    Dare p({2'100'001, 999, 3}, 2, offset, 70 + offset);
    dare_twins(p, 0.5f, 71, offset - 1, 2, "streamed, offset " + std::to_string(offset));
    if (offset == 2) {
      p.poison(72, 2);
      dare_twins(p, 0.5f, 73, -1, 2, "streamed with NaN/Inf");
    }
  }
}

MT_TEST(dare_avx2_reports_non_finite_inputs_at_the_same_place) {
  if (!have_avx2()) return;
  Restore restore;
  std::mt19937_64 rng(23);
  for (int round = 0; round < 12; ++round) {
    Dare p(random_lengths(rng, 40, 2500), 1 + round % 11, round % 4, rng());
    p.poison(rng(), 1 + round % 3);
    dare_twins(p, 0.6f, rng(), round % 3 - 1, 1 + round % 2, "NaN/Inf inputs");
  }
  Dare wide({300'007, 200'001}, 3, 0, 24);
  wide.poison(25, 4);
  for (const int32_t threads : {1, 2, 3}) dare_twins(wide, 0.5f, 26, -1, threads, "wide with NaN/Inf");
  // finite inputs whose result overflows
  Dare over({40}, 1, 0, 27);
  over.base[0][5] = 3e38f;
  over.m[0][0][5] = -3e38f;
  over.lambdas[0] = -2.f;
  dare_twins(over, 0.0f, 28, -1, 1, "overflowing result");
}

MT_TEST(dare_avx2_inner_loops_match_the_portable_ones_lane_for_lane) {
  if (!have_avx2()) return;
  std::mt19937_64 rng(31);
  const int64_t kMax = 1024 + 7;
  std::vector<float> m(kMax), b(kMax), acc_g(kMax), acc_a(kMax);
  std::vector<uint32_t> keep(kMax);
  for (int round = 0; round < 400; ++round) {
    // lengths of every size up to 40, then longer ones with every tail
    const int64_t n = round < 41 ? round : 41 + static_cast<int64_t>(rng() % (kMax - 40));
    double la_g[8], lk_g[8], la_a[8], lk_a[8];
    for (int q = 0; q < 8; ++q) {
      la_g[q] = la_a[q] = std::ldexp(static_cast<double>(rng() % 1000), -static_cast<int>(rng() % 60));
      lk_g[q] = lk_a[q] = q % 3 == 0 ? 0.0 : la_g[q] * 0.5;
    }
    for (int tile = 0; tile < 3; ++tile) {  // the lanes carry over from tile to tile
      for (int64_t k = 0; k < n; ++k) {
        b[k] = edgy(rng, 1.f);
        m[k] = b[k] + edgy(rng, 0.05f);
        keep[k] = rng() % 3 == 0 ? 0u : ~0u;
        acc_g[k] = acc_a[k] = edgy(rng, 1.f);
      }
      if (n > 0 && round % 5 == 0) m[rng() % n] = std::numeric_limits<float>::quiet_NaN();
      if (n > 0 && round % 7 == 0) m[rng() % n] = -std::numeric_limits<float>::infinity();
      mt::cpu::generic::dare_stats_model(m.data(), b.data(), keep.data(), n, la_g, lk_g);
      mt::cpu::avx2::dare_stats_model(m.data(), b.data(), keep.data(), n, la_a, lk_a);
      MT_CHECK_MSG(same_values(la_g, la_a, 8), "Σ|δ| lanes, n = " + std::to_string(n));
      MT_CHECK_MSG(same_values(lk_g, lk_a, 8), "Σ|keep·δ| lanes, n = " + std::to_string(n));
      const float c = std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
      const bool fine_g = mt::cpu::generic::dare_apply_model(acc_g.data(), m.data(), b.data(), keep.data(), c, n);
      const bool fine_a = mt::cpu::avx2::dare_apply_model(acc_a.data(), m.data(), b.data(), keep.data(), c, n);
      MT_CHECK_MSG(fine_g == fine_a, "finiteness, n = " + std::to_string(n));
      MT_CHECK_MSG(same_values(acc_g.data(), acc_a.data(), static_cast<size_t>(n)), "apply, n = " + std::to_string(n));
    }
  }
}

// L1's kept-mask bit buffer: the packed bits are the flags one by one (an independent bit test), unpacking from any
// bit offset gives them back as ~0u / 0 words, and the AVX2 twins write the same bytes and words.
MT_TEST(dare_keep_bits_round_trip_on_both_paths) {
  std::mt19937_64 rng(37);
  const int64_t kMax = 1024 + 13;
  std::vector<uint32_t> keep(kMax), back_g(kMax + 8), back_a(kMax + 8);
  std::vector<uint8_t> bits_g(kMax / 8 + 4), bits_a(kMax / 8 + 4);
  for (int round = 0; round < 300; ++round) {
    const int64_t n = round < 41 ? round : 41 + static_cast<int64_t>(rng() % (kMax - 40));
    for (int64_t k = 0; k < n; ++k) keep[k] = rng() % 3 == 0 ? 0u : ~0u;
    std::fill(bits_g.begin(), bits_g.end(), uint8_t{0xa5});
    std::fill(bits_a.begin(), bits_a.end(), uint8_t{0xa5});
    const int64_t at = 8 * static_cast<int64_t>(rng() % 3);
    mt::cpu::generic::dare_pack_keep(keep.data(), n, bits_g.data(), at);
    bool ok = true;
    for (int64_t k = 0; k < n; ++k) ok &= ((bits_g[(at + k) >> 3] >> ((at + k) & 7)) & 1u) == (keep[k] != 0 ? 1u : 0u);
    MT_CHECK_MSG(ok, "packed bits, n = " + std::to_string(n));
    if (have_avx2()) {
      mt::cpu::avx2::dare_pack_keep(keep.data(), n, bits_a.data(), at);
      MT_CHECK_MSG(bits_g == bits_a, "AVX2 packed bytes, n = " + std::to_string(n));
    }
    // unpack a sub-range [from, n) at an arbitrary bit offset
    const int64_t from = n == 0 ? 0 : static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
    mt::cpu::generic::dare_unpack_keep(bits_g.data(), at + from, n - from, back_g.data());
    ok = true;
    for (int64_t k = from; k < n; ++k) ok &= back_g[k - from] == keep[k];
    MT_CHECK_MSG(ok, "unpacked words, n = " + std::to_string(n) + ", from " + std::to_string(from));
    if (have_avx2()) {
      mt::cpu::avx2::dare_unpack_keep(bits_g.data(), at + from, n - from, back_a.data());
      MT_CHECK_MSG(std::equal(back_g.begin(), back_g.begin() + (n - from), back_a.begin()),
                   "AVX2 unpacked words, n = " + std::to_string(n));
    }
  }
}

// The AVX-512 Philox bits against the AVX2 blocks (packed by the portable packer) and against philox.h's scalar
// function through mt_philox4x32_10, for counters that wrap 2^32, every block count up to a tile's 257 and the
// threshold's extremes.
MT_TEST(dare_avx512_keep_bits_match_the_avx2_blocks_and_the_scalar_philox) {
  if (!have_avx512()) return;
  std::mt19937_64 rng(41);
  std::vector<uint32_t> words(32 * 40 + 64);
  std::vector<uint64_t> bits(24);
  std::vector<uint8_t> packed(32 * 40 / 8 + 8);
  const float* const pf[2] = {nullptr, nullptr};
  const int64_t pf_n[2] = {0, 0};
  for (int round = 0; round < 400; ++round) {
    const int64_t nb = round < 40 ? round + 1 : 1 + static_cast<int64_t>(rng() % 257);
    const uint32_t q0 = round % 4 == 0 ? 0xFFFFFFFFu - static_cast<uint32_t>(rng() % 300) : static_cast<uint32_t>(rng());
    const uint32_t c1 = static_cast<uint32_t>(rng() % 12), c2 = static_cast<uint32_t>(rng()),
                   c3 = static_cast<uint32_t>(rng()), k0 = static_cast<uint32_t>(rng()),
                   k1 = static_cast<uint32_t>(rng());
    const uint32_t thresholds[] = {0u, 1u, 1u << 23, (1u << 24) - 1, static_cast<uint32_t>(rng() % (1u << 24))};
    const uint32_t threshold = thresholds[round % 5];
    mt::cpu::avx2::dare_keep_blocks(q0, nb, c1, c2, c3, k0, k1, threshold, words.data(), pf, pf_n);
    std::fill(packed.begin(), packed.end(), uint8_t{0});
    mt::cpu::generic::dare_pack_keep(words.data(), 4 * nb, packed.data(), 0);
    std::fill(bits.begin(), bits.end(), 0xa5a5a5a5a5a5a5a5ull);
    mt::cpu::avx512::dare_keep_bits(q0, nb, c1, c2, c3, k0, k1, threshold, bits.data(), pf, pf_n);
    const uint8_t* wide = reinterpret_cast<const uint8_t*>(bits.data());
    bool ok = true;
    for (int64_t e = 0; e < 4 * nb; ++e) ok &= ((wide[e >> 3] ^ packed[e >> 3]) >> (e & 7) & 1u) == 0;
    MT_CHECK_MSG(ok, "AVX-512 bits against AVX2 blocks, nb = " + std::to_string(nb));
    // one block checked against the scalar Philox
    const uint32_t b = static_cast<uint32_t>(rng() % static_cast<uint64_t>(nb));
    const uint32_t ctr[4] = {q0 + b, c1, c2, c3}, key[2] = {k0, k1};
    uint32_t out[4];
    mt_philox4x32_10(ctr, key, out);
    for (int w = 0; w < 4; ++w) {
      const int64_t e = 4 * static_cast<int64_t>(b) + w;
      MT_CHECK_MSG(((wide[e >> 3] >> (e & 7)) & 1u) == ((out[w] >> 8) >= threshold ? 1u : 0u),
                   "AVX-512 bit against the scalar Philox, block " + std::to_string(b));
    }
  }
}

// The AVX-512 apply and L1 loops (masks read as bits from any bit offset) against the portable loops on the same
// masks as words: lanes and results bit for bit.
MT_TEST(dare_avx512_inner_loops_match_the_portable_ones_lane_for_lane) {
  if (!have_avx512()) return;
  std::mt19937_64 rng(43);
  const int64_t kMax = 1024 + 7;
  std::vector<float> m(kMax), b(kMax), acc_g(kMax), acc_a(kMax);
  std::vector<uint32_t> keep(kMax);
  std::vector<uint8_t> bits(kMax / 8 + 16);
  for (int round = 0; round < 400; ++round) {
    const int64_t n = round < 41 ? round : 41 + static_cast<int64_t>(rng() % (kMax - 40));
    double la_g[8], lk_g[8], la_a[8], lk_a[8];
    for (int q = 0; q < 8; ++q) {
      la_g[q] = la_a[q] = std::ldexp(static_cast<double>(rng() % 1000), -static_cast<int>(rng() % 60));
      lk_g[q] = lk_a[q] = q % 3 == 0 ? 0.0 : la_g[q] * 0.5;
    }
    for (int tile = 0; tile < 3; ++tile) {
      const int64_t at = static_cast<int64_t>(rng() % 64);
      for (auto& v : bits) v = static_cast<uint8_t>(rng());
      for (int64_t k = 0; k < n; ++k) {
        b[k] = edgy(rng, 1.f);
        m[k] = b[k] + edgy(rng, 0.05f);
        keep[k] = 0u - ((bits[(at + k) >> 3] >> ((at + k) & 7)) & 1u);
        acc_g[k] = acc_a[k] = edgy(rng, 1.f);
      }
      if (n > 0 && round % 5 == 0) m[rng() % n] = std::numeric_limits<float>::quiet_NaN();
      if (n > 0 && round % 7 == 0) m[rng() % n] = -std::numeric_limits<float>::infinity();
      mt::cpu::generic::dare_stats_model(m.data(), b.data(), keep.data(), n, la_g, lk_g);
      mt::cpu::avx512::dare_stats_model(m.data(), b.data(), bits.data(), at, n, la_a, lk_a);
      MT_CHECK_MSG(same_values(la_g, la_a, 8), "Σ|δ| lanes, n = " + std::to_string(n));
      MT_CHECK_MSG(same_values(lk_g, lk_a, 8), "Σ|keep·δ| lanes, n = " + std::to_string(n));
      const float c = std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
      const bool fine_g = mt::cpu::generic::dare_apply_model(acc_g.data(), m.data(), b.data(), keep.data(), c, n);
      const bool fine_a = mt::cpu::avx512::dare_apply_model(acc_a.data(), m.data(), b.data(), bits.data(), at, c, n);
      MT_CHECK_MSG(fine_g == fine_a, "finiteness, n = " + std::to_string(n));
      MT_CHECK_MSG(same_values(acc_g.data(), acc_a.data(), static_cast<size_t>(n)), "apply, n = " + std::to_string(n));
    }
  }
}

MT_TEST(avx512_switch_is_checked_and_reported) {
  Restore restore;
  MT_CHECK(mt_set_cpu_avx512(2) == MT_INVALID_ARGUMENT);
  MT_CHECK(std::string(mt_last_error()).find("enable") != std::string::npos);
  MT_CHECK(mt_set_cpu_avx512(0) == MT_OK);
  MT_CHECK(mt_cpu_avx512() == 0);
  if (have_avx512()) {
    MT_CHECK(mt_set_cpu_isa("avx2") == MT_OK);
    MT_CHECK(mt_set_cpu_avx512(1) == MT_OK);
    const char* forced = std::getenv("MERGETUNE_CPU_ISA");
    const bool kept_on_avx2 = forced != nullptr && std::string(forced) == "avx2";
    MT_CHECK(mt_cpu_avx512() == (kept_on_avx2 ? 0 : 1));
    MT_CHECK(mt_set_cpu_isa("generic") == MT_OK);
    MT_CHECK(mt_cpu_avx512() == 0);  // only on top of AVX2
  } else {
    MT_CHECK(mt_set_cpu_avx512(1) == MT_INVALID_ARGUMENT);
  }
}

// mt_gta_sparsify_f32's RANDOM masks (DARE's mask kernel, threaded) on all three paths: every bit equal to the
// scalar Philox's decision through mt_philox4x32_10, the bits past n zero, for lengths around the tile and word
// edges and thread counts that split them.
MT_TEST(gta_random_masks_are_the_scalar_philox_on_every_path) {
  Restore restore;
  std::mt19937_64 rng(47);
  const int64_t lengths[] = {1, 3, 31, 32, 33, 1000, 1024, 1025, 4099, 70000, 200003};
  for (const int64_t n : lengths) {
    const uint64_t seed = rng(), key = rng();
    const int32_t model = static_cast<int32_t>(rng() % 9);
    const double density = n % 2 == 0 ? 0.1 : 0.73;
    std::vector<float> m(static_cast<size_t>(n), 1.f);
    const size_t words = static_cast<size_t>((n + 31) / 32);
    std::vector<uint32_t> want(words, 0u);
    const float drop = 1.0f - static_cast<float>(density);
    const uint32_t threshold = static_cast<uint32_t>(std::ceil(static_cast<double>(drop) * 16777216.0));
    for (int64_t q = 0; 4 * q < n; ++q) {
      const uint32_t ctr[4] = {static_cast<uint32_t>(q), static_cast<uint32_t>(model), static_cast<uint32_t>(key),
                               static_cast<uint32_t>(key >> 32)};
      const uint32_t k[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
      uint32_t out[4];
      mt_philox4x32_10(ctr, k, out);
      for (int w = 0; w < 4 && 4 * q + w < n; ++w) {
        const int64_t j = 4 * q + w;
        if ((out[w] >> 8) >= threshold) want[j >> 5] |= 1u << (j & 31);
      }
    }
    for (const char* isa : {"generic", "avx2", "avx512"}) {
      if (!select_isa(isa)) continue;
      for (const int32_t threads : {1, 2, 3}) {
        mt_set_num_threads(threads);
        std::vector<uint32_t> got(words, 0xdeadbeefu);
        MT_CHECK(mt_gta_sparsify_f32(n, 1, n, 1, nullptr, m.data(), MT_GTA_SPARSIFY_RANDOM, density, 0, seed, key,
                                     model, got.data(), nullptr, 0) == MT_OK);
        MT_CHECK_MSG(got == want, std::string(isa) + ", n = " + std::to_string(n) + ", " + std::to_string(threads) +
                                      " threads");
      }
    }
  }
}
