// K4b (mt_dare_f32) in the check-and-time harness: DARE, drop and rescale before task arithmetic (dare_ref.h).
//   keep_ij = u_ij >= p,  u_ij from Philox4x32-10(seed; element j, model i, segment key)
//   out_j   = base_j + Σ_i keep_ij · λ_i · r_i · τ_ij,  r_i = 1 (none), 1/(1 − p) (inverse),
//             Σ_j |τ_ij| / Σ_j |keep_ij · τ_ij| per (model, segment) (l1)
// NONE and INVERSE checked bit for bit against dare_ref.h, L1 to kTolerance of its double result; on CUDA also
// against the CPU. Timed as GB/s of (n_models + 2)·4 bytes per element (L1 reads the inputs twice but is counted
// once), against the same device's best copy.
#include "common.h"
#include "dare_ref.h"
#include "interp_ref.h"
#include "families.h"

namespace mt::harness {
namespace {

constexpr int32_t kDareModels[] = {1, 3, 8};
constexpr float kDareDropRate = 0.7f;
constexpr uint64_t kDareSeed = 0x5eed5eed12345678ull;
const char* const kRescaleName[] = {"none", "inverse", "l1"};

std::vector<uint64_t> dare_keys(const Problem& p) {
  Rng rng{static_cast<uint64_t>(p.total) * 31 + 7};
  std::vector<uint64_t> keys(p.lengths.size());
  for (uint64_t& k : keys) k = rng.next();
  return keys;
}

// One DARE call on one device over the problem's first n_models models; the result comes back in *result.
mt_status run_dare(int32_t device, const Problem& p, int32_t n_models, int32_t rescale, int64_t pad, Alias alias,
                   int32_t flags, std::vector<float>* result) {
  Buffers b(device, p.total, n_models, pad, pad);
  if (!b.ok() || !b.upload(p) || !prepare_out(p, b, n_models, alias)) return MT_INTERNAL;
  const Call c = make_call(p, b, n_models, alias);
  const std::vector<uint64_t> keys = dare_keys(p);
  mt_status st = mt_dare_f32(device, nullptr, p.segments(), p.lengths.data(), keys.data(), c.out.data(), c.base.data(),
                             n_models, c.models.data(), p.lambdas.data(), kDareDropRate, kDareSeed, rescale, flags);
  if (st == MT_OK && device == MT_DEVICE_CUDA) st = mt_cuda_synchronize();
  if (st != MT_OK) return st;
  result->assign(p.total, 0.0f);
  return b.read(result->data(), b.out(), p.total) ? MT_OK : MT_INTERNAL;
}

// Every rescale mode and model count on one problem: NONE and INVERSE bit for bit against dare_ref.h, L1 within
// kTolerance of its double result; on CUDA also against the CPU (bit for bit, L1 to kCpuTolerance).
void check_dare_problem(int32_t device, const Problem& p, int64_t pad, Alias alias, const char* layout) {
  const std::vector<uint64_t> keys = dare_keys(p);
  const bool large = p.total > (int64_t{1} << 21);  // the reference is slow: one model on the large problems
  int bad = 0;
  double worst_l1 = 0, worst_cpu = 0;
  std::string failures;
  for (int32_t rescale = 0; rescale < 3; ++rescale) {
    for (const int32_t n_models : kDareModels) {
      if (large && n_models > 1) continue;
      const int32_t flags = (rescale + n_models) % 2 == 0 ? MT_CHECK_FINITE : 0;
      std::vector<float> out;
      const mt_status st = run_dare(device, p, n_models, rescale, pad, alias, flags, &out);
      std::string why = st == MT_OK ? "" : last_error(st);
      if (why.empty()) {
        std::vector<float> want(p.total);
        std::vector<double> exact(p.total), scale(p.total);
        for (int64_t s = 0; s < p.segments(); ++s) {
          const float* models[kMaxModels];
          for (int32_t i = 0; i < n_models; ++i) models[i] = p.models[i].data() + p.offsets[s];
          mt::ref::dare(p.lengths[s], keys[s], p.base.data() + p.offsets[s], models, p.lambdas.data(), n_models,
                        kDareDropRate, kDareSeed, rescale, want.data() + p.offsets[s], exact.data() + p.offsets[s],
                        scale.data() + p.offsets[s]);
        }
        if (rescale != MT_DARE_RESCALE_L1) {
          if (std::memcmp(want.data(), out.data(), want.size() * 4) != 0) why = "differs from the reference";
        } else {
          const mt::ref::InterpError e = mt::ref::compare(p.total, out.data(), exact.data(), scale.data());
          worst_l1 = std::max(worst_l1, e.max_scaled_error);
          if (!(e.max_scaled_error <= kTolerance)) why = "L1 scaled error " + std::to_string(e.max_scaled_error);
        }
        if (why.empty() && device == MT_DEVICE_CUDA) {
          std::vector<float> cpu;
          const mt_status cs = run_dare(MT_DEVICE_CPU, p, n_models, rescale, 0, Alias::none, 0, &cpu);
          if (cs != MT_OK) why = "CPU run failed: " + last_error(cs);
          if (why.empty() && rescale != MT_DARE_RESCALE_L1 && std::memcmp(cpu.data(), out.data(), cpu.size() * 4) != 0) {
            why = "differs from the CPU result";
          }
          if (why.empty() && rescale == MT_DARE_RESCALE_L1) {
            for (int64_t j = 0; j < p.total; ++j) {
              const double d = std::fabs(static_cast<double>(cpu[j]) - out[j]) / (scale[j] + 1e-30);
              worst_cpu = std::max(worst_cpu, std::isnan(d) ? INFINITY : d);
            }
            if (!(worst_cpu <= kCpuTolerance)) why = "L1 differs from the CPU by " + std::to_string(worst_cpu);
          }
        }
      }
      if (why.empty()) {
        ++g_passed;
      } else {
        ++g_failed;
        ++bad;
        failures += std::string("\n          ") + kRescaleName[rescale] + ", models=" + std::to_string(n_models) +
                    ": " + why;
      }
    }
  }
  std::string note = layout, label = p.name;
  if (alias != Alias::none) note += std::string(note.empty() ? "" : ", ") + alias_name(alias);
  if (!note.empty()) label += " (" + note + ")";
  char extra[64] = "";
  if (device == MT_DEVICE_CUDA) std::snprintf(extra, sizeof(extra), ", L1 vs CPU %.1e", worst_cpu);
  std::printf("  %-4s  %-4s %-44s models %-6s none/inverse exact; l1 err %.1e%s%s\n", bad ? "FAIL" : "ok",
              device_name(device), label.c_str(), large ? "1" : "1,3,8", worst_l1, extra, failures.c_str());
  std::fflush(stdout);
}

// A NaN in model 1 at an element it drops, before an Inf in base: the NaN is named (it is an input), in both the
// INVERSE and the L1 path.
void check_dare_non_finite(int32_t device, const Problem& p) {
  const std::vector<uint64_t> keys = dare_keys(p);
  int64_t a = p.total * 2 / 5;
  for (;; ++a) {
    const int64_t s = p.segment_of(a);
    if (!mt::ref::dare_keep(kDareSeed, 1, keys[s], a - p.offsets[s], kDareDropRate)) break;
  }
  Problem q = p;
  q.models[1][a] = std::numeric_limits<float>::quiet_NaN();
  q.base[p.total * 3 / 5] = std::numeric_limits<float>::infinity();
  const int64_t s = p.segment_of(a);
  for (const int32_t rescale : {MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    std::vector<float> out;
    const mt_status st = run_dare(device, q, 3, rescale, 0, Alias::base, MT_CHECK_FINITE, &out);
    const std::string err = last_error(st);
    const bool ok = st == MT_NON_FINITE && mt_last_error_input() == 1 && mt_last_error_segment() == s &&
                    mt_last_error_element() == a - p.offsets[s];
    result(ok, "%-4s dare %s, out=base: NaN in model 1 where dropped, before +Inf in base -> %s", device_name(device),
           kRescaleName[rescale], err.c_str());
  }
}

void check_dare_cuda_unavailable() {
  int64_t len = 1;
  uint64_t key = 1;
  float v = 1.0f, o = 0.0f, l = 1.0f;
  const float* in[1] = {&v};
  float* out[1] = {&o};
  const mt_status st = mt_dare_f32(MT_DEVICE_CUDA, nullptr, 1, &len, &key, out, in, 1, in, &l, 0.5f, 1,
                                   MT_DARE_RESCALE_INVERSE, 0);
  result(st == MT_CUDA_UNAVAILABLE, "cuda mt_dare_f32 -> %s", mt_status_name(st));
}

constexpr int32_t kDareTimedModels[] = {1, 2, 4, 8};

}  // namespace

// K4b, one segment: GB/s counts (n_models + 2)·4 bytes per element (L1 reads the inputs twice but is counted once).
void time_dare(int32_t device, int64_t mb) {
  const int64_t n = (mb << 20) / static_cast<int64_t>(sizeof(float));
  const int32_t max_m = 8;
  Buffers b(device, n, max_m, 0, 0);
  if (!b.ok()) {
    std::printf("  %s dare %lld MB: skipped (out of memory)\n", device_name(device), (long long)mb);
    return;
  }
  {
    std::vector<float> host(n, 1.0f);
    b.write(b.base(), host.data(), n);
    b.write(b.out(), host.data(), n);
    for (int32_t i = 0; i < max_m; ++i) {
      for (int64_t j = 0; j < n; ++j) host[j] = 1.0f + 0.01f * static_cast<float>((j + i) % 7) - 0.03f;
      b.write(b.model(i), host.data(), n);
    }
  }
  const double copy_gbps = best_copy_gbps(device, mb);
  float* out = b.out();
  const float* base = b.base();
  const float* models[max_m];
  for (int32_t i = 0; i < max_m; ++i) models[i] = b.model(i);
  const float lambdas[max_m] = {0.3f, -0.2f, 0.5f, 0.1f, 0.25f, -0.4f, 0.7f, 0.05f};
  const uint64_t key = 0xabcdef;
  bool failed = false;
  for (const int32_t rescale : {MT_DARE_RESCALE_INVERSE, MT_DARE_RESCALE_L1}) {
    for (const int32_t m : kDareTimedModels) {
      auto call = [&] {
        failed = failed || mt_dare_f32(device, nullptr, 1, &n, &key, &out, &base, m, models, lambdas, 0.9f, 42,
                                       rescale, 0) != MT_OK;
        if (device == MT_DEVICE_CUDA) failed = failed || mt_cuda_synchronize() != MT_OK;
      };
      call();  // warm-up
      const double t = median_seconds(kSamples, [&] {
        const auto t0 = std::chrono::steady_clock::now();
        call();
        return seconds_since(t0);
      });
      const double bytes = (m + 2) * 4.0 * n;
      const double gbps = bytes / t / 1e9;
      print_row({rescale == MT_DARE_RESCALE_L1 ? "dare l1" : "dare inverse", device_name(device), m, mb, t * 1e3, gbps,
                 copy_gbps > 0 ? gbps / copy_gbps : 0});
    }
  }
  if (failed) result(false, "%s dare timing runs: %s", device_name(device), mt_last_error());
}

void check_dare(bool cuda, bool quick) {
  const int64_t many = many_segments_count(quick);
  std::printf("\n== K4b DARE (drop rate %.1f; none/inverse bit for bit against dare_ref.h, l1 to %.0e)\n", kDareDropRate,
              kTolerance);
  {
    std::vector<Problem> dp;
    dp.push_back(make_problem("n=1", {1}, 11));
    dp.push_back(make_problem("n=7 in 3 segments", {3, 0, 4}, 12));
    dp.push_back(make_problem(std::to_string(many) + " segments", random_lengths(many, quick ? 600 : 3000, 14), 15));
    dp.push_back(make_problem("1M in 3 segments", {(1 << 19) + 1, 5, (1 << 19) - 2}, 16));
    if (!quick) dp.push_back(make_problem("16M in 2 segments", {(1 << 23) + 3, (1 << 23) - 3}, 17));
    for (const Problem& p : dp) check_dare_problem(MT_DEVICE_CPU, p, 0, Alias::none, "");
    check_dare_problem(MT_DEVICE_CPU, dp[2], 0, Alias::base, "");
    check_dare_non_finite(MT_DEVICE_CPU, dp[3]);
    if (!cuda) {
      check_dare_cuda_unavailable();
    } else {
      for (const Problem& p : dp) check_dare_problem(MT_DEVICE_CUDA, p, 0, Alias::none, "");
      check_dare_problem(MT_DEVICE_CUDA, dp[2], 1, Alias::none, "all arrays +1 float");
      check_dare_problem(MT_DEVICE_CUDA, dp[3], 1, Alias::base, "all arrays +1 float");
      check_dare_problem(MT_DEVICE_CUDA, dp[3], 0, Alias::model, "");
      check_dare_non_finite(MT_DEVICE_CUDA, dp[3]);
    }
  }
}

}  // namespace mt::harness
