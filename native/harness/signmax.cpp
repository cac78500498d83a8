// K3 (mt_signmax_unify_f32 / mt_signmax_decouple_f32) in the check-and-time harness: ConDU's sign-consistent max.
//   unify:    s_j = sign(Σ_i τ_ij), U_j = s_j · max_i { |τ_ij| : sign(τ_ij) = s_j },  mask_ij = [sign(τ_ij) = s_j]
//   decouple: θ_k = θ0 + λ_k · mask_k ⊙ U,  λ_k = Σ|τ_k| / Σ|mask_k ⊙ U|   (per task, over all segments)
// U, masks and task 0's decoupled expert checked bit for bit against signmax_ref.h, the per-segment sums to 1e-12
// relative, for deltas and for models with θ0; on CUDA U and masks also bit for bit against the CPU. Timed as GB/s
// of (T + 2)·4 bytes + T/8 bytes of masks per element, against the same device's best copy.
#include <memory>
#include <utility>

#include "common.h"
#include "families.h"
#include "signmax_ref.h"

namespace mt::harness {
namespace {

constexpr int32_t kSignmaxTasks[] = {1, 2, 3, 8, 9};  // 9 takes the CUDA many-task path (task 8 reuses model 0)
constexpr double kSumTolerance = 1e-12;               // relative, chunked sums against plain running sums

int64_t mask_words(int64_t n) { return (n + 31) / 32; }

// Word offsets of each segment's mask inside one task's flat mask array (segments + 1 entries).
std::vector<int64_t> word_offsets(const Problem& p) {
  std::vector<int64_t> w(p.lengths.size() + 1, 0);
  for (size_t s = 0; s < p.lengths.size(); ++s) w[s + 1] = w[s] + mask_words(p.lengths[s]);
  return w;
}

// Task i of a K3 call: model i (mod kMaxModels) with θ0 = base, or its delta model − base (fp32).
std::vector<float> signmax_input(const Problem& p, int32_t i, bool with_theta0) {
  std::vector<float> x = p.models[i % kMaxModels];
  if (!with_theta0) {
    for (int64_t j = 0; j < p.total; ++j) x[j] -= p.base[j];
  }
  return x;
}

struct SignmaxResult {
  mt_status status = MT_OK;
  std::string error;
  std::vector<float> unified, decoupled;  // decoupled: task 0's expert, computed in place over a copy of θ0
  std::vector<uint32_t> masks;            // task-major, word_offsets layout per task
  std::vector<double> sum_abs, sum_masked;
  float lambda0 = 1.0f;
};

// Unify (with sums) and then decouple task 0 on one device; `pad` shifts every array by that many floats.
SignmaxResult run_signmax(int32_t device, const Problem& p, int32_t n_tasks, bool with_theta0, int64_t pad,
                          const std::vector<std::vector<float>>& host_inputs) {
  SignmaxResult r;
  const int64_t S = p.segments(), W = word_offsets(p).back();
  const std::vector<int64_t> wo = word_offsets(p);
  const int64_t fbytes = (p.total + pad) * 4;
  Raw theta(device, fbytes), unified(device, fbytes), out(device, fbytes), masks(device, W * 4 * n_tasks);
  std::vector<std::unique_ptr<Raw>> inputs;
  bool ok = theta.ok() && unified.ok() && out.ok() && masks.ok();
  ok = ok && theta.write(p.base.data(), p.total * 4, pad * 4) && out.write(p.base.data(), p.total * 4, pad * 4);
  for (int32_t i = 0; i < n_tasks && ok; ++i) {
    inputs.push_back(std::make_unique<Raw>(device, fbytes));
    ok = inputs.back()->ok() && inputs.back()->write(host_inputs[i].data(), p.total * 4, pad * 4);
  }
  if (!ok) {
    r.status = MT_INTERNAL;
    r.error = std::string("buffer setup failed: ") + mt_last_error();
    return r;
  }
  std::vector<const float*> z, x;
  std::vector<float*> u, o;
  std::vector<uint32_t*> m;
  for (int64_t s = 0; s < S; ++s) {
    z.push_back(theta.as<float>() + pad + p.offsets[s]);
    u.push_back(unified.as<float>() + pad + p.offsets[s]);
    o.push_back(out.as<float>() + pad + p.offsets[s]);
  }
  for (int32_t i = 0; i < n_tasks; ++i) {
    for (int64_t s = 0; s < S; ++s) {
      x.push_back(inputs[i]->as<float>() + pad + p.offsets[s]);
      m.push_back(masks.as<uint32_t>() + i * W + wo[s]);
    }
  }
  r.sum_abs.assign(static_cast<size_t>(n_tasks) * S, -1.0);
  r.sum_masked.assign(static_cast<size_t>(n_tasks) * S, -1.0);
  r.status = mt_signmax_unify_f32(device, nullptr, S, p.lengths.data(), with_theta0 ? z.data() : nullptr, n_tasks,
                                  x.data(), u.data(), m.data(), r.sum_abs.data(), r.sum_masked.data(), MT_CHECK_FINITE);
  if (r.status != MT_OK) {
    r.error = last_error(r.status);
    return r;
  }
  r.lambda0 = static_cast<float>(mt::ref::signmax_rescaler(S, p.lengths.data(), 0, r.sum_abs.data(), r.sum_masked.data()));
  if (!std::isfinite(r.lambda0)) r.lambda0 = 1.0f;  // no element kept: the expert is θ0 whatever λ is
  std::vector<const float*> uc(u.begin(), u.end());
  std::vector<const uint32_t*> m0(m.begin(), m.begin() + S);
  std::vector<const float*> oc(o.begin(), o.end());  // in place: θ0 is out's own buffer
  r.status = mt_signmax_decouple_f32(device, nullptr, S, p.lengths.data(), o.data(), oc.data(), uc.data(), m0.data(),
                                     r.lambda0, MT_CHECK_FINITE);
  if (r.status == MT_OK && device == MT_DEVICE_CUDA) r.status = mt_cuda_synchronize();
  if (r.status != MT_OK) {
    r.error = last_error(r.status);
    return r;
  }
  std::vector<float> ub((p.total + pad)), ob(p.total + pad);
  r.masks.resize(static_cast<size_t>(W) * n_tasks);
  if (!unified.read(ub.data(), fbytes) || !out.read(ob.data(), fbytes) || !masks.read(r.masks.data(), W * 4 * n_tasks)) {
    r.status = MT_INTERNAL;
    r.error = "reading results back failed";
    return r;
  }
  r.unified.assign(ub.begin() + pad, ub.end());
  r.decoupled.assign(ob.begin() + pad, ob.end());
  return r;
}

// One problem, every task count of kSignmaxTasks, deltas or models with θ0: U and masks bit for bit against the
// reference (and, on CUDA, the CPU), the sums to kSumTolerance, task 0's decoupled expert bit for bit.
void check_signmax_problem(int32_t device, const Problem& p, bool with_theta0, int64_t pad, const char* layout) {
  const int64_t S = p.segments();
  const std::vector<int64_t> wo = word_offsets(p);
  const int64_t W = wo.back();
  int bad = 0;
  double worst_sum = 0;
  std::string failures, counts;
  for (const int32_t T : kSignmaxTasks) {
    counts += (counts.empty() ? "" : ",") + std::to_string(T);
    std::vector<std::vector<float>> in;
    for (int32_t i = 0; i < T; ++i) in.push_back(signmax_input(p, i, with_theta0));
    const SignmaxResult r = run_signmax(device, p, T, with_theta0, pad, in);
    std::string why = r.status == MT_OK ? "" : r.error;
    if (why.empty()) {  // the reference, segment by segment
      std::vector<float> u(p.total), dec(p.total);
      std::vector<uint32_t> m(static_cast<size_t>(W) * T);
      std::vector<double> sa(static_cast<size_t>(T) * S, 0.0), sm(static_cast<size_t>(T) * S, 0.0);
      for (int64_t s = 0; s < S; ++s) {
        std::vector<const float*> x;
        std::vector<uint32_t*> mp;
        for (int32_t i = 0; i < T; ++i) {
          x.push_back(in[i].data() + p.offsets[s]);
          mp.push_back(m.data() + i * W + wo[s]);
        }
        std::vector<double> a(T, 0.0), b(T, 0.0);
        mt::ref::signmax_unify(p.lengths[s], with_theta0 ? p.base.data() + p.offsets[s] : nullptr, x.data(), T,
                               u.data() + p.offsets[s], mp.data(), a.data(), b.data());
        for (int32_t i = 0; i < T; ++i) {
          sa[i * S + s] = a[i];
          sm[i * S + s] = b[i];
        }
        mt::ref::signmax_decouple(p.lengths[s], p.base.data() + p.offsets[s], u.data() + p.offsets[s],
                                  m.data() + wo[s], r.lambda0, dec.data() + p.offsets[s]);
      }
      if (std::memcmp(u.data(), r.unified.data(), u.size() * 4) != 0) why = "U differs from the reference";
      if (why.empty() && m != r.masks) why = "masks differ from the reference";
      if (why.empty() && std::memcmp(dec.data(), r.decoupled.data(), dec.size() * 4) != 0) {
        why = "decoupled expert differs from the reference";
      }
      for (size_t k = 0; k < sa.size() && why.empty(); ++k) {
        for (const auto& [want, got] : {std::pair{sa[k], r.sum_abs[k]}, std::pair{sm[k], r.sum_masked[k]}}) {
          const double e = std::fabs(want - got) / std::max(std::fabs(want), 1e-300);
          worst_sum = std::max(worst_sum, want == got ? 0.0 : e);
          if (!(e <= kSumTolerance) && want != got) why = "sum differs by " + std::to_string(e);
        }
      }
    }
    if (why.empty() && device == MT_DEVICE_CUDA) {  // CPU and CUDA: U and masks bit-identical
      const SignmaxResult c = run_signmax(MT_DEVICE_CPU, p, T, with_theta0, 0, in);
      if (c.status != MT_OK) why = "CPU run failed: " + c.error;
      if (why.empty() && (std::memcmp(c.unified.data(), r.unified.data(), c.unified.size() * 4) != 0 || c.masks != r.masks)) {
        why = "U or masks differ between CPU and CUDA";
      }
    }
    if (why.empty()) {
      ++g_passed;
    } else {
      ++g_failed;
      ++bad;
      failures += "\n          tasks=" + std::to_string(T) + ": " + why;
    }
  }
  std::string label = p.name + (with_theta0 ? " (models, theta0" : " (deltas");
  label += std::string(layout[0] ? ", " : "") + layout + ")";
  std::printf("  %-4s  %-4s %-44s tasks %-10s U, masks exact; sums %.1e%s\n", bad ? "FAIL" : "ok",
              device_name(device), label.c_str(), counts.c_str(), worst_sum, failures.c_str());
  std::fflush(stdout);
}

// A NaN in one task and an Inf in θ0 later: the first (by flat index) is named, on either device.
void check_signmax_non_finite(int32_t device, const Problem& p) {
  const int32_t T = 4;
  std::vector<std::vector<float>> in;
  for (int32_t i = 0; i < T; ++i) in.push_back(signmax_input(p, i, true));
  const int64_t a = p.total * 2 / 5, z = p.total * 3 / 5;
  in[2][a] = std::numeric_limits<float>::quiet_NaN();
  Problem q = p;  // θ0 is the problem's base
  q.base[z] = std::numeric_limits<float>::infinity();
  const SignmaxResult r = run_signmax(device, q, T, true, 0, in);
  const int64_t s = p.segment_of(a);
  const bool ok = r.status == MT_NON_FINITE && mt_last_error_input() == 2 && mt_last_error_segment() == s &&
                  mt_last_error_element() == a - p.offsets[s];
  result(ok, "%-4s signmax NaN in task 2 before +Inf in theta0 -> %s (input %d, segment %lld, element %lld)",
         device_name(device), r.error.c_str(), mt_last_error_input(), (long long)mt_last_error_segment(),
         (long long)mt_last_error_element());
}

void check_signmax_cuda_unavailable() {
  int64_t len = 1;
  float v = 1.0f, u = 0.0f;
  uint32_t w = 0;
  const float* in[1] = {&v};
  float* un[1] = {&u};
  uint32_t* m[1] = {&w};
  const mt_status st =
      mt_signmax_unify_f32(MT_DEVICE_CUDA, nullptr, 1, &len, nullptr, 1, in, un, m, nullptr, nullptr, 0);
  result(st == MT_CUDA_UNAVAILABLE, "cuda mt_signmax_unify_f32 -> %s", mt_status_name(st));
}

constexpr int32_t kSignmaxTimedTasks[] = {2, 4, 8};

}  // namespace

// K3 unify, models with θ0, sums on: GB/s counts (T + 2)·4 bytes + T/8 bytes of masks per element.
void time_signmax(int32_t device, int64_t mb) {
  const int64_t n = (mb << 20) / static_cast<int64_t>(sizeof(float));
  const int32_t max_t = 8;
  Raw theta(device, n * 4), unified(device, n * 4), masks(device, mask_words(n) * 4 * max_t);
  std::vector<std::unique_ptr<Raw>> inputs;
  bool ok = theta.ok() && unified.ok() && masks.ok();
  {
    std::vector<float> host(n, 1.0f);
    ok = ok && theta.write(host.data(), n * 4);
    for (int32_t i = 0; i < max_t && ok; ++i) {
      for (int64_t j = 0; j < n; ++j) host[j] = 1.0f + 0.01f * static_cast<float>((j + i) % 7) - 0.03f;
      inputs.push_back(std::make_unique<Raw>(device, n * 4));
      ok = inputs.back()->ok() && inputs.back()->write(host.data(), n * 4);
    }
  }
  if (!ok) {
    std::printf("  %s signmax %lld MB: skipped (out of memory)\n", device_name(device), (long long)mb);
    return;
  }
  const double copy_gbps = best_copy_gbps(device, mb);  // the copies already timed on this device
  const float* z = theta.as<float>();
  float* u = unified.as<float>();
  std::vector<const float*> x;
  std::vector<uint32_t*> m;
  for (int32_t i = 0; i < max_t; ++i) {
    x.push_back(inputs[i]->as<float>());
    m.push_back(masks.as<uint32_t>() + i * mask_words(n));
  }
  double sa[max_t], sm[max_t];
  bool failed = false;
  for (const int32_t T : kSignmaxTimedTasks) {
    auto call = [&] {
      failed = failed || mt_signmax_unify_f32(device, nullptr, 1, &n, &z, T, x.data(), &u, m.data(), sa, sm,
                                              MT_CHECK_FINITE) != MT_OK;
    };
    call();  // warm-up (also synchronises on CUDA: sums are requested)
    const double t = median_seconds(kSamples, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      call();
      return seconds_since(t0);
    });
    const double bytes = (T + 2) * 4.0 * n + T / 8.0 * n;
    const double gbps = bytes / t / 1e9;
    print_row({"signmax unify", device_name(device), T, mb, t * 1e3, gbps, copy_gbps > 0 ? gbps / copy_gbps : 0});
  }
  if (failed) result(false, "%s signmax timing runs: %s", device_name(device), mt_last_error());
}

void check_signmax(bool cuda, bool quick) {
  const std::vector<Problem> problems = standard_problems(quick);
  const Problem& many_segments = problems[3];
  const Problem& wide = problems[4];
  std::printf("\n== K3 sign-consistent max (unify + decouple of task 0, against signmax_ref.h)\n");
  for (const Problem& p : problems) check_signmax_problem(MT_DEVICE_CPU, p, true, 0, "");
  check_signmax_problem(MT_DEVICE_CPU, many_segments, false, 0, "");
  check_signmax_non_finite(MT_DEVICE_CPU, wide);
  if (!cuda) {
    check_signmax_cuda_unavailable();
  } else {
    for (const Problem& p : problems) check_signmax_problem(MT_DEVICE_CUDA, p, true, 0, "");
    check_signmax_problem(MT_DEVICE_CUDA, many_segments, false, 1, "all arrays +1 float");
    check_signmax_problem(MT_DEVICE_CUDA, wide, false, 0, "");
    check_signmax_non_finite(MT_DEVICE_CUDA, wide);
  }
}

}  // namespace mt::harness
