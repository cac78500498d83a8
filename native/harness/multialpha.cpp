// K1 (mt_multialpha_*) in the check-and-time harness: the multi-α loss of MergeTune's feature-space objective.
//
// Checks: the CPU against multialpha_ref.h (double) at the tolerance of multialpha.h, for plain / re-normalised
// mode and CE (label smoothing) / KL; on CUDA, every output against the CPU's (1e-5 on the scale of multialpha.h),
// two CUDA runs bit for bit, and the first non-finite input named as on the CPU. Timing: B = 128, K = 5,
// C = 50 / 100 / 1000 (ViT-B/16-like), CE re-normalised, forward and backward, per device; the "GB/s" column counts
// A and D read and dA and dD written once (16·B·C bytes), "of copy" is left at 0.
#include "common.h"
#include "families.h"
#include "multialpha_ref.h"

namespace mt::harness {
namespace {

constexpr double kMaTolerance = 1e-6;      // against the double reference (multialpha.h)
constexpr double kMaCudaTolerance = 1e-5;  // CUDA against the CPU, same scale

struct MaProblem {
  std::string name;
  int64_t B, C;
  bool renorm, kl;
  std::vector<float> a, d, n0, n1, n2, targets, alphas, weights;
  std::vector<int32_t> labels;
  float smoothing = 0.1f, scale = 100.0f;
};

// CLIP-like logits: A = cos(v, g) in [-0.3, 0.3], D a small drift, n from unit g and a small F − g.
MaProblem make_ma_problem(int64_t B, int64_t C, int32_t K, bool renorm, bool kl, uint64_t seed) {
  MaProblem p;
  p.name = "B=" + std::to_string(B) + " C=" + std::to_string(C) + " K=" + std::to_string(K) +
           (renorm ? " renorm" : " plain") + (kl ? " kl" : " ce");
  p.B = B;
  p.C = C;
  p.renorm = renorm;
  p.kl = kl;
  Rng rng{seed};
  p.a.resize(B * C);
  p.d.resize(B * C);
  for (auto& v : p.a) v = rng.uniform(-0.3f, 0.3f);
  for (auto& v : p.d) v = rng.uniform(-0.05f, 0.05f);
  if (renorm) {
    for (int64_t c = 0; c < C; ++c) {
      p.n0.push_back(1.0f);
      p.n1.push_back(rng.uniform(-0.02f, 0.02f));
      p.n2.push_back(rng.uniform(0.01f, 0.06f));
    }
  }
  for (int64_t b = 0; b < B; ++b) p.labels.push_back(static_cast<int32_t>(rng.below(C)));
  if (kl) {
    p.targets.resize(B * C);
    for (int64_t b = 0; b < B; ++b) {
      double s = 0;
      for (int64_t c = 0; c < C; ++c) s += p.targets[b * C + c] = std::exp(rng.uniform(-4.0f, 4.0f));
      for (int64_t c = 0; c < C; ++c) p.targets[b * C + c] = static_cast<float>(p.targets[b * C + c] / s);
    }
  }
  for (int32_t k = 0; k < K; ++k) {
    p.alphas.push_back(K == 1 ? 1.0f : 0.1f + 0.8f * k / (K - 1));  // arange(0.1, 1.01, 1/N) for N = 5
    p.weights.push_back(1.0f / K);
  }
  return p;
}

struct MaRun {
  std::vector<float> losses, ga, gd, gn;  // gn: n0, n1, n2 concatenated
  float total = 0;
  mt_status status = MT_OK;
  std::string error;
  int32_t input = 0;
  int64_t row = 0, element = 0;
};

// The inputs on one device and a call.
class MaBuffers {
 public:
  MaBuffers(int32_t device, const MaProblem& p)
      : device_(device), p_(p), a_(device, 4 * p.B * p.C), d_(device, 4 * p.B * p.C), n_(device, 12 * p.C),
        t_(device, 4 * p.B * p.C), l_(device, 4 * p.B), losses_(device, 4 * (p.alphas.size() + 1)),
        ga_(device, 4 * p.B * p.C), gd_(device, 4 * p.B * p.C), gn_(device, 12 * p.C) {
    const int64_t bc = 4 * p.B * p.C;
    ok_ = a_.ok() && d_.ok() && n_.ok() && t_.ok() && l_.ok() && losses_.ok() && ga_.ok() && gd_.ok() && gn_.ok() &&
          a_.write(p.a.data(), bc) && d_.write(p.d.data(), bc) && l_.write(p.labels.data(), 4 * p.B);
    if (ok_ && p.renorm) {
      ok_ = n_.write(p.n0.data(), 4 * p.C) && n_.write(p.n1.data(), 4 * p.C, 4 * p.C) &&
            n_.write(p.n2.data(), 4 * p.C, 8 * p.C);
    }
    if (ok_ && p.kl) ok_ = t_.write(p.targets.data(), bc);
  }
  bool ok() const { return ok_; }

  mt_status call(int32_t flags) {
    const int64_t C = p_.C;
    const int32_t K = static_cast<int32_t>(p_.alphas.size());
    const float* n = n_.as<float>();
    const float *n0 = p_.renorm ? n : nullptr, *n1 = p_.renorm ? n + C : nullptr, *n2 = p_.renorm ? n + 2 * C : nullptr;
    float* g = gn_.as<float>();
    float *g0 = p_.renorm ? g : nullptr, *g1 = p_.renorm ? g + C : nullptr, *g2 = p_.renorm ? g + 2 * C : nullptr;
    float* losses = losses_.as<float>();
    if (p_.kl) {
      return mt_multialpha_kl_f32(device_, nullptr, p_.B, C, a_.as<float>(), d_.as<float>(), n0, n1, n2,
                                  t_.as<float>(), K, p_.alphas.data(), p_.weights.data(), p_.scale, losses, losses + K,
                                  ga_.as<float>(), gd_.as<float>(), g0, g1, g2, flags);
    }
    return mt_multialpha_ce_f32(device_, nullptr, p_.B, C, a_.as<float>(), d_.as<float>(), n0, n1, n2,
                                l_.as<int32_t>(), p_.smoothing, K, p_.alphas.data(), p_.weights.data(), p_.scale,
                                losses, losses + K, ga_.as<float>(), gd_.as<float>(), g0, g1, g2, flags);
  }

  MaRun run(int32_t flags) {
    MaRun r;
    if (!ok_) {
      r.status = MT_INTERNAL;
      r.error = "allocation or upload failed";
      return r;
    }
    r.status = call(flags);
    if (r.status == MT_OK && device_ == MT_DEVICE_CUDA) r.status = mt_cuda_synchronize();
    if (r.status != MT_OK) {
      r.error = last_error(r.status);
      r.input = mt_last_error_input();
      r.row = mt_last_error_segment();
      r.element = mt_last_error_element();
      return r;
    }
    const size_t K = p_.alphas.size();
    std::vector<float> losses(K + 1);
    r.ga.resize(p_.B * p_.C);
    r.gd.resize(p_.B * p_.C);
    r.gn.resize(p_.renorm ? 3 * p_.C : 0);
    const bool read = losses_.read(losses.data(), 4 * (K + 1)) && ga_.read(r.ga.data(), 4 * p_.B * p_.C) &&
                      gd_.read(r.gd.data(), 4 * p_.B * p_.C) && (!p_.renorm || gn_.read(r.gn.data(), 12 * p_.C));
    if (!read) {
      r.status = MT_INTERNAL;
      r.error = "reading back failed";
    }
    r.losses.assign(losses.begin(), losses.begin() + K);
    r.total = losses[K];
    return r;
  }

 private:
  int32_t device_;
  const MaProblem& p_;
  Raw a_, d_, n_, t_, l_, losses_, ga_, gd_, gn_;
  bool ok_ = false;
};

double ma_array_error(const std::vector<float>& got, const std::vector<double>& want) {
  double e = 0, m = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    e = std::max(e, std::isnan(d) ? INFINITY : d);
    m = std::max(m, std::fabs(want[i]));
  }
  return m == 0 ? e : e / m;
}

// Worst error of `got` against `want` on the scale of multialpha.h, in units of (1 + max|z|).
double ma_error(const MaRun& got, const mt::ref::MultiAlphaResult& want) {
  double e = 0;
  for (size_t k = 0; k < want.losses.size(); ++k) {
    e = std::max(e, std::fabs(got.losses[k] - want.losses[k]) / (1 + std::fabs(want.losses[k])));
  }
  e = std::max(e, std::fabs(got.total - want.total) / (1 + std::fabs(want.total)));
  e = std::max(e, ma_array_error(got.ga, want.grad_a));
  e = std::max(e, ma_array_error(got.gd, want.grad_d));
  if (!want.grad_n0.empty()) {
    std::vector<double> gn(want.grad_n0);
    gn.insert(gn.end(), want.grad_n1.begin(), want.grad_n1.end());
    gn.insert(gn.end(), want.grad_n2.begin(), want.grad_n2.end());
    const size_t C = want.grad_n0.size();
    for (int q = 0; q < 3; ++q) {
      e = std::max(e, ma_array_error(std::vector<float>(got.gn.begin() + q * C, got.gn.begin() + (q + 1) * C),
                                     std::vector<double>(gn.begin() + q * C, gn.begin() + (q + 1) * C)));
    }
  }
  return std::isnan(e) ? INFINITY : e / (1 + want.max_abs_logit);
}

mt::ref::MultiAlphaResult ma_reference(const MaProblem& p) {
  mt::ref::MultiAlphaProblem q;
  q.rows = p.B;
  q.classes = p.C;
  q.a.assign(p.a.begin(), p.a.end());
  q.d.assign(p.d.begin(), p.d.end());
  q.n0.assign(p.n0.begin(), p.n0.end());
  q.n1.assign(p.n1.begin(), p.n1.end());
  q.n2.assign(p.n2.begin(), p.n2.end());
  q.targets.assign(p.targets.begin(), p.targets.end());
  q.labels = p.labels;
  q.smoothing = p.smoothing;
  q.alphas.assign(p.alphas.begin(), p.alphas.end());
  q.weights.assign(p.weights.begin(), p.weights.end());
  q.scale = p.scale;
  return mt::ref::multialpha(q);
}

// The worst relative difference between two runs on the scale of multialpha.h (as a MultiAlphaResult of `b`).
mt::ref::MultiAlphaResult ma_as_result(const MaRun& r, const mt::ref::MultiAlphaResult& like) {
  mt::ref::MultiAlphaResult o;
  o.losses.assign(r.losses.begin(), r.losses.end());
  o.total = r.total;
  o.grad_a.assign(r.ga.begin(), r.ga.end());
  o.grad_d.assign(r.gd.begin(), r.gd.end());
  const size_t C = r.gn.size() / 3;
  if (C > 0) {
    o.grad_n0.assign(r.gn.begin(), r.gn.begin() + C);
    o.grad_n1.assign(r.gn.begin() + C, r.gn.begin() + 2 * C);
    o.grad_n2.assign(r.gn.begin() + 2 * C, r.gn.end());
  }
  o.max_abs_logit = like.max_abs_logit;
  return o;
}

bool ma_same_bits(const MaRun& x, const MaRun& y) {
  auto same = [](const std::vector<float>& u, const std::vector<float>& v) {
    return u.size() == v.size() && (u.empty() || std::memcmp(u.data(), v.data(), 4 * u.size()) == 0);
  };
  return same(x.losses, y.losses) && std::memcmp(&x.total, &y.total, 4) == 0 && same(x.ga, y.ga) &&
         same(x.gd, y.gd) && same(x.gn, y.gn);
}

void check_multialpha_problem(int32_t device, const MaProblem& p) {
  MaBuffers buffers(device, p);
  const MaRun got = buffers.run(MT_CHECK_FINITE);
  std::string why = got.status == MT_OK ? "" : got.error;
  double err = 0;
  const mt::ref::MultiAlphaResult ref = ma_reference(p);
  if (why.empty() && device == MT_DEVICE_CPU) {
    err = ma_error(got, ref);
    if (!(err <= kMaTolerance)) why = "error " + std::to_string(err) + " above the tolerance";
  }
  if (why.empty() && device == MT_DEVICE_CUDA) {
    MaBuffers host(MT_DEVICE_CPU, p);
    const MaRun cpu = host.run(MT_CHECK_FINITE);
    const MaRun again = buffers.run(0);
    if (cpu.status != MT_OK) {
      why = "CPU run failed: " + cpu.error;
    } else {
      err = ma_error(got, ma_as_result(cpu, ref));
      if (!(err <= kMaCudaTolerance)) why = "differs from the CPU by " + std::to_string(err);
      else if (again.status != MT_OK || !ma_same_bits(got, again)) why = "two CUDA runs differ";
    }
  }
  result(why.empty(), "%-4s multialpha %-32s %s %.2e%s", device_name(device), p.name.c_str(),
         device == MT_DEVICE_CPU ? "vs multialpha_ref.h" : "vs CPU, deterministic", err,
         why.empty() ? "" : (": " + why).c_str());
}

// A NaN in A at (row 3, class 7) is named the same on both devices.
void check_multialpha_non_finite(int32_t device) {
  MaProblem p = make_ma_problem(8, 20, 5, true, false, 91);
  p.a[3 * 20 + 7] = NAN;
  MaBuffers buffers(device, p);
  const MaRun r = buffers.run(MT_CHECK_FINITE);
  const bool ok = r.status == MT_NON_FINITE && r.input == MT_MA_INPUT_A && r.row == 3 && r.element == 7;
  result(ok, "%-4s multialpha NaN in A named (input %d, row %lld, class %lld): %s", device_name(device), r.input,
         (long long)r.row, (long long)r.element, r.error.c_str());
}

void check_multialpha_cuda_unavailable() {
  const float a = 0, w = 1;
  const int32_t label = 0;
  float loss = 0;
  const mt_status st = mt_multialpha_ce_f32(MT_DEVICE_CUDA, nullptr, 1, 1, &a, &a, nullptr, nullptr, nullptr, &label,
                                            0.0f, 1, &w, &w, 1.0f, &loss, nullptr, nullptr, nullptr, nullptr, nullptr,
                                            nullptr, 0);
  result(st == MT_CUDA_UNAVAILABLE, "cuda mt_multialpha_ce_f32 -> %s", mt_status_name(st));
}

}  // namespace

void check_multialpha(bool cuda, bool quick) {
  std::printf("\n== K1 multi-alpha loss (CPU against multialpha_ref.h to %.0e, CUDA against the CPU to %.0e)\n",
              kMaTolerance, kMaCudaTolerance);
  std::vector<MaProblem> problems;
  uint64_t seed = 300;
  for (const bool renorm : {false, true}) {
    for (const bool kl : {false, true}) {
      problems.push_back(make_ma_problem(1, 1, 1, renorm, kl, ++seed));
      problems.push_back(make_ma_problem(7, 300, 3, renorm, kl, ++seed));  // C > threads of a CUDA block
      problems.push_back(make_ma_problem(quick ? 32 : 128, quick ? 100 : 1000, 5, renorm, kl, ++seed));
    }
  }
  for (const MaProblem& p : problems) check_multialpha_problem(MT_DEVICE_CPU, p);
  check_multialpha_non_finite(MT_DEVICE_CPU);
  if (!cuda) {
    check_multialpha_cuda_unavailable();
    return;
  }
  for (const MaProblem& p : problems) check_multialpha_problem(MT_DEVICE_CUDA, p);
  check_multialpha_non_finite(MT_DEVICE_CUDA);
}

// Forward + backward of one call (CE, re-normalised, B = 128, K = 5) per class count, per device.
void time_multialpha(int32_t device) {
  for (const int64_t C : {int64_t{50}, int64_t{100}, int64_t{1000}}) {
    const MaProblem p = make_ma_problem(128, C, 5, true, false, 400 + C);
    MaBuffers buffers(device, p);
    if (!buffers.ok()) {
      std::printf("  %s multialpha C=%lld: skipped (allocation failed)\n", device_name(device), (long long)C);
      continue;
    }
    bool failed = false;
    const int batch = device == MT_DEVICE_CUDA ? kCudaBatch : 1;
    auto sample = [&] {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < batch; ++i) failed = failed || buffers.call(0) != MT_OK;
      if (device == MT_DEVICE_CUDA) failed = failed || mt_cuda_synchronize() != MT_OK;
      return seconds_since(t0) / batch;
    };
    sample();  // warm-up
    const double s = median_seconds(kSamples, sample);
    const double bytes = 16.0 * p.B * p.C;
    const Row row{"multialpha C=" + std::to_string(C), device_name(device), 5, 0, s * 1e3, bytes / s / 1e9, 0};
    print_row(row);
    g_rows.push_back(row);
    if (failed) result(false, "%s multialpha timing runs: %s", device_name(device), mt_last_error());
  }
}

}  // namespace mt::harness
