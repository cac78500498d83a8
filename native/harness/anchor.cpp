// K2 (mt_anchor_f32) and K5 (mt_scratch_interp_f32) in the check-and-time harness: MergeTune's zero-shot anchor
// and the scratch interpolation of the α path points.
//
// Checks, per device: the weight-space value and gradient, an SGD step (momentum, nesterov) and an AdamW step with
// their values, the feature-space anchor, K5's five-α scratch write and five-set gradient accumulation. On the CPU
// against anchor_ref.h / scratch_interp_ref.h (values to 1e-12 relative, fp32 outputs to kTolerance of each
// result's scale); on CUDA every output and every value must equal the CPU's bit for bit (anchor.h, scratch_interp.h
// promise it). Timing at ViT-B/16 size (kAnchorTimedParams) as GB/s of the bytes each call must move and as a
// fraction of the best plain copy measured on the same device.
#include "common.h"
#include "families.h"
#include "anchor_ref.h"
#include "scratch_interp_ref.h"

namespace mt::harness {
namespace {

constexpr int32_t kScratchAlphas = 5;
constexpr float kAnchorAlphas[kScratchAlphas] = {0.1f, 0.3f, 0.5f, 0.7f, 0.9f};
constexpr float kAnchorOmegas[kScratchAlphas] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
constexpr int64_t kAnchorTimedParams = 150'000'000;  // ViT-B/16 CLIP, image and text towers

// MT_HARNESS_ANCHOR_PARAMS=n times the K2/K5 calls at n parameters instead (a smoke run on a small machine).
int64_t anchor_timed_params() {
  const char* s = std::getenv("MT_HARNESS_ANCHOR_PARAMS");
  return s != nullptr && std::atoll(s) > 0 ? std::atoll(s) : kAnchorTimedParams;
}
constexpr int64_t kFeatureClasses = 1000, kFeatureDim = 512;

// Inputs derived from a Problem: w = model 0, w1 = base, g = small, m and v small (v >= 0).
struct AnchorInputs {
  std::vector<float> w, w1, g, m, v, gs;  // gs: kScratchAlphas gradient sets, set-major flat
  explicit AnchorInputs(const Problem& p) : w(p.models[0]), w1(p.base), g(p.total), m(p.total), v(p.total) {
    for (int64_t j = 0; j < p.total; ++j) {
      g[j] = 0.1f * (p.models[1][j] - p.base[j]);
      m[j] = 0.05f * (p.models[2][j] - p.base[j]);
      v[j] = 1e-3f * (p.models[3][j] - p.base[j]) * (p.models[3][j] - p.base[j]);
    }
    gs.resize(kScratchAlphas * p.total);
    for (int32_t k = 0; k < kScratchAlphas; ++k) {
      for (int64_t j = 0; j < p.total; ++j) gs[k * p.total + j] = p.models[4 + k % 4][j] - p.base[j];
    }
  }
};

struct AnchorRun {
  double value = 0, sgd_value = 0, adam_value = 0, feature_value = 0;
  std::vector<float> g, w_sgd, buf, w_adam, m, v, scratch, gacc, fgrad;
  mt_status status = MT_OK;
  std::string error;
};

// The features of the feature-space check: F rows of mixed magnitudes, z normalised rows correlated with F.
void feature_inputs(std::vector<float>* f, std::vector<float>* z) {
  Rng rng{77};
  f->resize(kFeatureClasses * kFeatureDim);
  z->resize(f->size());
  for (int64_t c = 0; c < kFeatureClasses; ++c) {
    const float scale = std::ldexp(1.0f, static_cast<int>(rng.below(9)) - 4);
    double nz = 0;
    for (int64_t j = 0; j < kFeatureDim; ++j) {
      const int64_t k = c * kFeatureDim + j;
      (*f)[k] = scale * rng.uniform(-1.0f, 1.0f);
      (*z)[k] = (*f)[k] / scale + rng.uniform(-1.0f, 1.0f);
      nz += static_cast<double>((*z)[k]) * (*z)[k];
    }
    for (int64_t j = 0; j < kFeatureDim; ++j) (*z)[c * kFeatureDim + j] /= static_cast<float>(std::sqrt(nz));
  }
}

// Everything one device computes for a problem.
AnchorRun run_anchor(int32_t device, const Problem& p, const AnchorInputs& in) {
  AnchorRun r;
  const int64_t S = p.segments(), n = p.total, fb = 4 * n;
  Raw w(device, fb), w1(device, fb), g(device, fb), m(device, fb), v(device, fb), gs(device, fb * kScratchAlphas),
      scratch(device, fb * kScratchAlphas), gacc(device, fb);
  auto fail_with = [&](mt_status st, const char* what) {
    r.status = st;
    r.error = std::string(what) + ": " + last_error(st);
    return r;
  };
  bool ok = w.ok() && w1.ok() && g.ok() && m.ok() && v.ok() && gs.ok() && scratch.ok() && gacc.ok();
  ok = ok && w.write(in.w.data(), fb) && w1.write(in.w1.data(), fb) && g.write(in.g.data(), fb) &&
       m.write(in.m.data(), fb) && v.write(in.v.data(), fb) && gs.write(in.gs.data(), fb * kScratchAlphas) &&
       gacc.write(in.g.data(), fb);
  if (!ok) return fail_with(MT_INTERNAL, "allocation or upload");
  auto table = [&](const Raw& raw, int64_t set) {
    std::vector<float*> t(S);
    for (int64_t s = 0; s < S; ++s) t[s] = raw.as<float>() + set * n + p.offsets[s];
    return t;
  };
  auto sets = [&](const Raw& raw) {
    std::vector<float*> t;
    for (int32_t k = 0; k < kScratchAlphas; ++k) {
      const auto one = table(raw, k);
      t.insert(t.end(), one.begin(), one.end());
    }
    return t;
  };
  const auto tw = table(w, 0), tw1 = table(w1, 0), tg = table(g, 0), tm = table(m, 0), tv = table(v, 0);
  const auto cw = std::vector<const float*>(tw.begin(), tw.end());
  const auto cw1 = std::vector<const float*>(tw1.begin(), tw1.end());
  const auto cg = std::vector<const float*>(tg.begin(), tg.end());
  const int32_t F = MT_CHECK_FINITE;
  const int64_t* L = p.lengths.data();

  // K5 first (it only reads w and w1): five scratch points, then five gradient sets into gacc (= g copy).
  const auto ts = sets(scratch), tgs = sets(gs);
  const auto cgs = std::vector<const float*>(tgs.begin(), tgs.end());
  mt_status st = mt_scratch_interp_f32(device, nullptr, S, L, cw.data(), cw1.data(), kScratchAlphas, kAnchorAlphas,
                                       ts.data(), F);
  if (st != MT_OK) return fail_with(st, "scratch interp");
  const auto tacc = table(gacc, 0);
  st = mt_scratch_grad_accumulate_f32(device, nullptr, S, L, tacc.data(), kScratchAlphas, cgs.data(), kAnchorAlphas,
                                      kAnchorOmegas, F);
  if (st != MT_OK) return fail_with(st, "scratch grad accumulate");
  // The anchor: value + grad into g; then SGD on (w, g) with the buffer in m; then AdamW on the same w with (m, v).
  st = mt_anchor_f32(device, nullptr, S, L, cw.data(), cw1.data(), tg.data(), 8.0f, &r.value, F);
  if (st != MT_OK) return fail_with(st, "anchor value+grad");
  r.g.resize(n);
  if (!g.read(r.g.data(), fb)) return fail_with(MT_INTERNAL, "read back");
  st = mt_anchor_sgd_step_f32(device, nullptr, S, L, tw.data(), cw1.data(), cg.data(), tm.data(), 8.0f, 0.002, 0.9,
                              0.0, 5e-4, 1, 0, &r.sgd_value, F);
  if (st != MT_OK) return fail_with(st, "anchor sgd step");
  r.w_sgd.resize(n);
  r.buf.resize(n);
  if (!w.read(r.w_sgd.data(), fb) || !m.read(r.buf.data(), fb)) return fail_with(MT_INTERNAL, "read back");
  st = mt_anchor_adamw_step_f32(device, nullptr, S, L, tw.data(), cw1.data(), cg.data(), tm.data(), tv.data(), 8.0f,
                                1e-3, 0.9, 0.999, 1e-8, 0.01, 7, &r.adam_value, F);
  if (st != MT_OK) return fail_with(st, "anchor adamw step");
  r.w_adam.resize(n);
  r.m.resize(n);
  r.v.resize(n);
  r.scratch.resize(n * kScratchAlphas);
  r.gacc.resize(n);
  if (!w.read(r.w_adam.data(), fb) || !m.read(r.m.data(), fb) || !v.read(r.v.data(), fb) ||
      !scratch.read(r.scratch.data(), fb * kScratchAlphas) || !gacc.read(r.gacc.data(), fb)) {
    return fail_with(MT_INTERNAL, "read back");
  }
  std::vector<float> hf, hz;
  feature_inputs(&hf, &hz);
  const int64_t fbytes = 4 * static_cast<int64_t>(hf.size());
  Raw df(device, fbytes), dz(device, fbytes), dg(device, fbytes);
  if (!df.ok() || !dz.ok() || !dg.ok() || !df.write(hf.data(), fbytes) || !dz.write(hz.data(), fbytes)) {
    return fail_with(MT_INTERNAL, "feature upload");
  }
  st = mt_anchor_feature_f32(device, nullptr, kFeatureClasses, kFeatureDim, df.as<float>(), dz.as<float>(), 10.0f,
                             &r.feature_value, dg.as<float>(), F);
  if (st != MT_OK) return fail_with(st, "feature anchor");
  r.fgrad.resize(hf.size());
  if (!dg.read(r.fgrad.data(), fbytes)) return fail_with(MT_INTERNAL, "read back");
  return r;
}

// Max scaled error of fp32 results against double ones.
struct Worst {
  double e = 0;
  void add(double got, double exact, double scale) {
    const double d = std::fabs(got - exact) / (scale + 1e-30);
    e = std::max(e, std::isnan(d) ? INFINITY : d);
  }
};

std::string anchor_reference_errors(const Problem& p, const AnchorInputs& in, const AnchorRun& r) {
  const int64_t n = p.total;
  const double rel_value = std::fabs(r.value - mt::ref::anchor_value(n, in.w.data(), in.w1.data(), 8.0)) /
                           std::max(1e-300, std::fabs(r.value));
  Worst grad, sgd_w, sgd_buf, adam_w, adam_m, adam_v, scr, acc;
  for (int64_t j = 0; j < n; ++j) {
    double e, s;
    mt::ref::anchored_grad(in.w[j], in.w1[j], in.g[j], 8.0, &e, &s);
    grad.add(r.g[j], e, s);
    const auto sg = mt::ref::sgd(in.w[j], in.w1[j], r.g[j], in.m[j], 8.0, 0.002, 0.9, 0.0, 5e-4, true, false);
    sgd_w.add(r.w_sgd[j], sg.w, sg.w_scale);
    sgd_buf.add(r.buf[j], sg.buf, sg.buf_scale);
    const auto ad = mt::ref::adamw(r.w_sgd[j], in.w1[j], r.g[j], r.buf[j], in.v[j], 8.0, 1e-3, 0.9, 0.999, 1e-8, 0.01, 7);
    adam_w.add(r.w_adam[j], ad.w, ad.w_scale);
    adam_m.add(r.m[j], ad.m, ad.m_scale);
    adam_v.add(r.v[j], ad.v, ad.v_scale);
    for (int32_t k = 0; k < kScratchAlphas; ++k) {
      mt::ref::scratch_interp(in.w[j], in.w1[j], kAnchorAlphas[k], &e, &s);
      scr.add(r.scratch[k * n + j], e, s);
    }
    double gk[kScratchAlphas];
    for (int32_t k = 0; k < kScratchAlphas; ++k) gk[k] = in.gs[k * n + j];
    mt::ref::scratch_grad(in.g[j], kScratchAlphas, gk, kAnchorAlphas, kAnchorOmegas, &e, &s);
    acc.add(r.gacc[j], e, s);
  }
  std::vector<float> hf, hz;
  feature_inputs(&hf, &hz);
  std::vector<double> fg(hf.size());
  const double fv = mt::ref::anchor_feature(kFeatureClasses, kFeatureDim, hf.data(), hz.data(), 10.0, fg.data());
  double fmax = 0;
  for (double x : fg) fmax = std::max(fmax, std::fabs(x));
  Worst feat;
  for (size_t k = 0; k < fg.size(); ++k) feat.add(r.fgrad[k], fg[k], std::fabs(fg[k]) + 1e-9 * fmax);
  const double rel_fv = std::fabs(r.feature_value - fv) / std::fabs(fv);
  std::string why;
  auto need = [&](bool ok, const char* what, double e) {
    if (!ok && why.empty()) why = std::string(what) + " error " + std::to_string(e);
  };
  need(rel_value <= 1e-12 || n == 0, "value", rel_value);
  need(grad.e <= kTolerance, "grad", grad.e);
  need(sgd_w.e <= kTolerance && sgd_buf.e <= kTolerance, "sgd", std::max(sgd_w.e, sgd_buf.e));
  need(adam_w.e <= kTolerance && adam_m.e <= kTolerance && adam_v.e <= kTolerance, "adamw",
       std::max({adam_w.e, adam_m.e, adam_v.e}));
  need(scr.e <= kTolerance, "scratch", scr.e);
  need(acc.e <= kTolerance, "grad accumulate", acc.e);
  need(rel_fv <= 1e-12, "feature value", rel_fv);
  need(feat.e <= kTolerance, "feature grad", feat.e);
  return why;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
}

void check_anchor_problem(int32_t device, const Problem& p) {
  const AnchorInputs in(p);
  const AnchorRun got = run_anchor(device, p, in);
  std::string why = got.status == MT_OK ? "" : got.error;
  const bool large = p.total > (int64_t{1} << 21);
  if (why.empty() && device == MT_DEVICE_CPU && !large) why = anchor_reference_errors(p, in, got);
  if (why.empty() && device == MT_DEVICE_CUDA) {
    const AnchorRun cpu = run_anchor(MT_DEVICE_CPU, p, in);
    if (cpu.status != MT_OK) why = "CPU run failed: " + cpu.error;
    else if (cpu.value != got.value || !same_bits(cpu.g, got.g)) why = "value/grad differ from the CPU";
    else if (cpu.sgd_value != got.sgd_value || !same_bits(cpu.w_sgd, got.w_sgd) || !same_bits(cpu.buf, got.buf)) why = "sgd differs from the CPU";
    else if (cpu.adam_value != got.adam_value || !same_bits(cpu.w_adam, got.w_adam) || !same_bits(cpu.m, got.m) ||
             !same_bits(cpu.v, got.v)) why = "adamw differs from the CPU";
    else if (!same_bits(cpu.scratch, got.scratch) || !same_bits(cpu.gacc, got.gacc)) why = "K5 differs from the CPU";
    else if (cpu.feature_value != got.feature_value || !same_bits(cpu.fgrad, got.fgrad)) why = "feature anchor differs from the CPU";
  }
  result(why.empty(), "%-4s anchor+K5 %-34s %s%s", device_name(device), p.name.c_str(),
         device == MT_DEVICE_CPU ? (large ? "(no reference: large)" : "vs anchor_ref.h, scratch_interp_ref.h")
                                 : "bit for bit vs CPU",
         why.empty() ? "" : (": " + why).c_str());
}

// A NaN in the loss gradient of the SGD step: reported with its input, segment and element, the element unchanged.
void check_anchor_non_finite(int32_t device, const Problem& p) {
  const AnchorInputs in(p);
  const int64_t S = p.segments(), n = p.total, fb = 4 * n, s = S - 1, e = p.lengths[s] / 2;
  std::vector<float> g = in.g;
  g[p.offsets[s] + e] = std::numeric_limits<float>::quiet_NaN();
  Raw w(device, fb), w1(device, fb), dg(device, fb), m(device, fb);
  bool ok = w.ok() && w1.ok() && dg.ok() && m.ok() && w.write(in.w.data(), fb) && w1.write(in.w1.data(), fb) &&
            dg.write(g.data(), fb) && m.write(in.m.data(), fb);
  std::vector<float*> tw(S), tm(S);
  std::vector<const float*> tw1(S), tg(S);
  for (int64_t k = 0; k < S; ++k) {
    tw[k] = w.as<float>() + p.offsets[k];
    tm[k] = m.as<float>() + p.offsets[k];
    tw1[k] = w1.as<float>() + p.offsets[k];
    tg[k] = dg.as<float>() + p.offsets[k];
  }
  double v = 0;
  const mt_status st = ok ? mt_anchor_sgd_step_f32(device, nullptr, S, p.lengths.data(), tw.data(), tw1.data(), tg.data(),
                                                   tm.data(), 1.0f, 0.1, 0.9, 0.0, 0.0, 0, 0, &v, MT_CHECK_FINITE)
                          : MT_INTERNAL;
  std::vector<float> after(n);
  ok = ok && w.read(after.data(), fb);
  const bool reported = st == MT_NON_FINITE && mt_last_error_input() == MT_ANCHOR_INPUT_GRAD &&
                        mt_last_error_segment() == s && mt_last_error_element() == e;
  const bool untouched = ok && std::memcmp(&after[p.offsets[s] + e], &in.w[p.offsets[s] + e], 4) == 0;
  result(reported && untouched, "%-4s anchor sgd: NaN in grad reported (%s) and its element left unchanged",
         device_name(device), mt_status_name(st));
}

void check_anchor_cuda_unavailable() {
  int64_t len = 1;
  float x = 1.0f, y = 2.0f, z = 0.0f;
  const float* a[1] = {&x};
  const float* b[1] = {&y};
  float* o[1] = {&z};
  double v = 0;
  const mt_status st = mt_anchor_f32(MT_DEVICE_CUDA, nullptr, 1, &len, a, b, nullptr, 1.0f, &v, 0);
  const mt_status st2 = mt_scratch_interp_f32(MT_DEVICE_CUDA, nullptr, 1, &len, a, b, 1, kAnchorAlphas, o, 0);
  result(st == MT_CUDA_UNAVAILABLE && st2 == MT_CUDA_UNAVAILABLE, "cuda mt_anchor_f32 -> %s, mt_scratch_interp_f32 -> %s",
         mt_status_name(st), mt_status_name(st2));
}

}  // namespace

// Each call over one segment of kAnchorTimedParams elements; GB/s counts the bytes the call must move.
void time_anchor(int32_t device) {
  const int64_t n = anchor_timed_params(), fb = 4 * n;
  const int64_t mb = fb >> 20;
  Raw w(device, fb), w1(device, fb), g(device, fb), m(device, fb), v(device, fb);
  std::vector<std::unique_ptr<Raw>> sets;
  bool ok = w.ok() && w1.ok() && g.ok() && m.ok() && v.ok();
  for (int32_t k = 0; k < kScratchAlphas && ok; ++k) {
    sets.push_back(std::make_unique<Raw>(device, fb));
    ok = sets.back()->ok();
  }
  if (ok) {
    std::vector<float> host(n);
    Rng rng{5};
    for (auto& x : host) x = rng.uniform(-1.0f, 1.0f);
    ok = w.write(host.data(), fb) && w1.write(host.data(), fb) && m.write(host.data(), fb);
    for (auto& x : host) x = 0.01f * x * x;
    ok = ok && g.write(host.data(), fb) && v.write(host.data(), fb);
    for (auto& s : sets) ok = ok && s->write(host.data(), fb);
  }
  if (!ok) {
    std::printf("  %s anchor at %lld params: skipped (out of memory)\n", device_name(device), (long long)n);
    return;
  }
  const double copy_gbps = best_copy_gbps(device, -1);  // the best plain copy this run measured on the device
  float* pw = w.as<float>();
  float* pg = g.as<float>();
  float* pm = m.as<float>();
  float* pv = v.as<float>();
  const float* cw = pw;
  const float* cw1 = w1.as<float>();
  const float* cg = pg;
  float* scratch[kScratchAlphas];
  const float* cscratch[kScratchAlphas];
  for (int32_t k = 0; k < kScratchAlphas; ++k) {
    scratch[k] = sets[k]->as<float>();
    cscratch[k] = scratch[k];
  }
  bool failed = false;
  double value = 0;
  auto chk = [&](mt_status st) { failed = failed || st != MT_OK; };
  const int32_t F = MT_CHECK_FINITE;
  struct Timed {
    const char* name;
    int32_t k;
    double bytes_per_element;
    std::function<void()> call;
  };
  const std::vector<Timed> calls = {
      {"anchor value", 0, 8, [&] { chk(mt_anchor_f32(device, nullptr, 1, &n, &cw, &cw1, nullptr, 8.0f, &value, 0)); }},
      {"anchor value+grad", 0, 16, [&] { chk(mt_anchor_f32(device, nullptr, 1, &n, &cw, &cw1, &pg, 0.0f, &value, 0)); }},
      {"anchor sgd", 0, 24, [&] { chk(mt_anchor_sgd_step_f32(device, nullptr, 1, &n, &pw, &cw1, &cg, &pm, 8.0f, 0.0, 0.9,
                                                             0.0, 5e-4, 0, 0, nullptr, 0)); }},
      {"anchor sgd+value", 0, 24, [&] { chk(mt_anchor_sgd_step_f32(device, nullptr, 1, &n, &pw, &cw1, &cg, &pm, 8.0f, 0.0,
                                                                   0.9, 0.0, 5e-4, 0, 0, &value, F)); }},
      {"anchor adamw", 0, 32, [&] { chk(mt_anchor_adamw_step_f32(device, nullptr, 1, &n, &pw, &cw1, &cg, &pm, &pv, 8.0f,
                                                                 0.0, 0.9, 0.999, 1e-8, 0.0, 10, nullptr, 0)); }},
      {"k5 interp", 1, 12, [&] { chk(mt_scratch_interp_f32(device, nullptr, 1, &n, &cw, &cw1, 1, kAnchorAlphas, scratch, 0)); }},
      {"k5 interp", 5, 28, [&] { chk(mt_scratch_interp_f32(device, nullptr, 1, &n, &cw, &cw1, 5, kAnchorAlphas, scratch, 0)); }},
      {"k5 grad accumulate", 1, 12, [&] { chk(mt_scratch_grad_accumulate_f32(device, nullptr, 1, &n, &pg, 1, cscratch,
                                                                             kAnchorAlphas, kAnchorOmegas, 0)); }},
      {"k5 grad accumulate", 5, 28, [&] { chk(mt_scratch_grad_accumulate_f32(device, nullptr, 1, &n, &pg, 5, cscratch,
                                                                             kAnchorAlphas, kAnchorOmegas, 0)); }},
  };
  const int batch = device == MT_DEVICE_CUDA ? kCudaBatch : 1;
  for (const Timed& t : calls) {
    t.call();  // warm-up
    if (device == MT_DEVICE_CUDA) chk(mt_cuda_synchronize());
    const double s = median_seconds(kSamples, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      for (int b = 0; b < batch; ++b) t.call();
      if (device == MT_DEVICE_CUDA) chk(mt_cuda_synchronize());
      return seconds_since(t0) / batch;
    });
    const double gbps = t.bytes_per_element * n / s / 1e9;
    print_row({t.name, device_name(device), t.k, mb, s * 1e3, gbps, copy_gbps > 0 ? gbps / copy_gbps : 0});
  }
  // The feature-space anchor is tiny (C·d elements): its time per call, GB/s of reading F, z and writing dF.
  std::vector<float> hf, hz;
  feature_inputs(&hf, &hz);
  const int64_t fbytes = 4 * static_cast<int64_t>(hf.size());
  Raw df(device, fbytes), dz(device, fbytes), dg(device, fbytes);
  if (df.ok() && dz.ok() && dg.ok() && df.write(hf.data(), fbytes) && dz.write(hz.data(), fbytes)) {
    auto call = [&] {
      chk(mt_anchor_feature_f32(device, nullptr, kFeatureClasses, kFeatureDim, df.as<float>(), dz.as<float>(), 10.0f,
                                &value, dg.as<float>(), 0));
    };
    call();
    const double s = median_seconds(kSamples, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      call();
      return seconds_since(t0);
    });
    const double gbps = 3.0 * fbytes / s / 1e9;
    print_row({"anchor feature 1000x512", device_name(device), 0, fbytes >> 20, s * 1e3, gbps,
               copy_gbps > 0 ? gbps / copy_gbps : 0});
  }
  if (failed) result(false, "%s anchor/K5 timing runs: %s", device_name(device), mt_last_error());
}

void check_anchor(bool cuda, bool quick) {
  const int64_t many = many_segments_count(quick);
  std::printf("\n== K2 anchor and K5 scratch interpolation (CPU against anchor_ref.h / scratch_interp_ref.h, CUDA bit for bit against the CPU)\n");
  {
    std::vector<Problem> ap;
    ap.push_back(make_problem("n=1", {1}, 31));
    ap.push_back(make_problem("n=9 in 3 segments", {4, 0, 5}, 32));
    ap.push_back(make_problem(std::to_string(many) + " segments", random_lengths(many, quick ? 600 : 5000, 33), 34));
    ap.push_back(make_problem("1M in 3 segments", {(1 << 19) + 1, 5, (1 << 19) - 2}, 35));
    if (!quick) ap.push_back(make_problem("16M in 2 segments", {(1 << 23) + 3, (1 << 23) - 3}, 36));
    for (const Problem& p : ap) check_anchor_problem(MT_DEVICE_CPU, p);
    check_anchor_non_finite(MT_DEVICE_CPU, ap[3]);
    if (!cuda) {
      check_anchor_cuda_unavailable();
    } else {
      for (const Problem& p : ap) check_anchor_problem(MT_DEVICE_CUDA, p);
      check_anchor_non_finite(MT_DEVICE_CUDA, ap[3]);
    }
  }
}

}  // namespace mt::harness
