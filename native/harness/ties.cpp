// K4c (mt_ties_*) in the check-and-time harness: TIES merging (trim, elect, disjoint merge; ties_ref.h).
//
// Checks, per device: per-segment trim (both tie rules), the global two-level histogram selection, the sign census
// and the merge (disjoint mean and disjoint max). On the CPU the trim masks are compared with ties_ref.h's full sort and the merge with its double
// result (scaled error); on CUDA every integer output (thresholds, cutoffs, histograms, census) and every merged
// float must equal the CPU's bit for bit.
#include "common.h"
#include "families.h"
#include "ties_ref.h"

namespace mt::harness {
namespace {

constexpr int32_t kTiesModels = 4;

struct TiesRun {
  std::vector<uint32_t> thresholds;
  std::vector<int64_t> cutoffs, census, h0, h1;
  std::vector<float> out, out_max;  // disjoint mean (count election), disjoint max (mass election)
  mt_status status = MT_OK;
  std::string error;
};

// Everything one device computes for a problem: trim (tie rule `ties`, top 20% + 1 per (model, segment)), global
// histograms at the top 10%, census and a merge.
TiesRun run_ties(int32_t device, const Problem& p, int32_t ties) {
  TiesRun r;
  const int64_t S = p.segments(), T = kTiesModels, n = p.total;
  Raw base(device, 4 * n), out(device, 4 * n);
  std::vector<std::unique_ptr<Raw>> models;
  bool ok = base.ok() && out.ok() && base.write(p.base.data(), 4 * n);
  for (int32_t i = 0; i < T && ok; ++i) {
    models.push_back(std::make_unique<Raw>(device, 4 * n));
    ok = models.back()->ok() && models.back()->write(p.models[i].data(), 4 * n);
  }
  if (!ok) {
    r.status = MT_INTERNAL;
    r.error = "allocation or upload failed";
    return r;
  }
  std::vector<const float*> b(S), m(T * S);
  std::vector<float*> o(S);
  for (int64_t s = 0; s < S; ++s) {
    b[s] = base.as<float>() + p.offsets[s];
    o[s] = out.as<float>() + p.offsets[s];
    for (int32_t i = 0; i < T; ++i) m[i * S + s] = models[i]->as<float>() + p.offsets[s];
  }
  auto fail_with = [&](mt_status st) {
    r.status = st;
    r.error = last_error(st);
    return r;
  };
  std::vector<int64_t> keep(T * S);
  for (int64_t q = 0; q < T * S; ++q) keep[q] = p.lengths[q % S] / 5 + 1;
  r.thresholds.assign(T * S, 0);
  r.cutoffs.assign(T * S, 0);
  mt_status st = mt_ties_trim_per_segment_f32(device, nullptr, S, p.lengths.data(), b.data(), T, m.data(), keep.data(),
                                              ties, r.thresholds.data(), r.cutoffs.data(), MT_CHECK_FINITE);
  if (st != MT_OK) return fail_with(st);
  r.h0.assign(T * MT_TIES_LEVEL0_BINS, 0);
  r.h1.assign(T * MT_TIES_LEVEL1_BINS, 0);
  st = mt_ties_histogram_f32(device, nullptr, S, p.lengths.data(), b.data(), T, m.data(), 0, nullptr, r.h0.data(),
                             MT_CHECK_FINITE);
  if (st != MT_OK) return fail_with(st);
  std::vector<uint32_t> prefix(T, MT_TIES_KEEP_NONE);
  for (int32_t i = 0; i < T && n > 0; ++i) {
    int32_t bin;
    int64_t rank;
    if (mt_ties_pick_bin(r.h0.data() + i * MT_TIES_LEVEL0_BINS, MT_TIES_LEVEL0_BINS, n / 10 + 1, &bin, &rank) == MT_OK) {
      prefix[i] = static_cast<uint32_t>(bin);
    }
  }
  st = mt_ties_histogram_f32(device, nullptr, S, p.lengths.data(), b.data(), T, m.data(), 1, prefix.data(),
                             r.h1.data(), MT_CHECK_FINITE);
  if (st != MT_OK) return fail_with(st);
  const float w[kTiesModels] = {1.0f, 0.5f, -0.25f, 2.0f};
  r.census.assign(S, 0);
  st = mt_ties_sign_census_f32(device, nullptr, S, p.lengths.data(), b.data(), T, m.data(), r.thresholds.data(),
                               r.cutoffs.data(), w, MT_TIES_ELECT_MASS, r.census.data(), MT_CHECK_FINITE);
  if (st != MT_OK) return fail_with(st);
  std::vector<float> zero(S);
  for (int64_t s = 0; s < S; ++s) zero[s] = static_cast<float>(s % 3) - 1.0f;
  st = mt_ties_merge_f32(device, nullptr, S, p.lengths.data(), o.data(), b.data(), T, m.data(), r.thresholds.data(),
                         r.cutoffs.data(), w, MT_TIES_ELECT_COUNT, zero.data(), MT_TIES_DISJOINT_MEAN, 0.8f,
                         MT_CHECK_FINITE);
  if (st == MT_OK && device == MT_DEVICE_CUDA) st = mt_cuda_synchronize();
  if (st != MT_OK) return fail_with(st);
  r.out.assign(n, 0.0f);
  if (!out.read(r.out.data(), 4 * n)) return fail_with(MT_INTERNAL);
  st = mt_ties_merge_f32(device, nullptr, S, p.lengths.data(), o.data(), b.data(), T, m.data(), r.thresholds.data(),
                         r.cutoffs.data(), w, MT_TIES_ELECT_MASS, zero.data(), MT_TIES_DISJOINT_MAX, 0.8f,
                         MT_CHECK_FINITE);
  if (st == MT_OK && device == MT_DEVICE_CUDA) st = mt_cuda_synchronize();
  if (st != MT_OK) return fail_with(st);
  r.out_max.assign(n, 0.0f);
  if (!out.read(r.out_max.data(), 4 * n)) return fail_with(MT_INTERNAL);
  return r;
}

void check_ties_problem(int32_t device, const Problem& p) {
  const bool large = p.total > (int64_t{1} << 21);
  for (const int32_t ties : {MT_TIES_TIES_KEEP_ALL, MT_TIES_TIES_EXACT}) {
    const TiesRun got = run_ties(device, p, ties);
    std::string why = got.status == MT_OK ? "" : got.error;
    double worst = 0;
    if (why.empty() && device == MT_DEVICE_CPU && !large) {
      const int64_t S = p.segments();
      std::vector<const float*> b(S), m(kTiesModels * S);
      for (int64_t s = 0; s < S; ++s) {
        b[s] = p.base.data() + p.offsets[s];
        for (int32_t i = 0; i < kTiesModels; ++i) m[i * S + s] = p.models[i].data() + p.offsets[s];
      }
      const mt::ref::TiesInputs in{p.lengths, b.data(), m.data(), kTiesModels};
      std::vector<int64_t> keep(kTiesModels * S);
      for (int64_t q = 0; q < kTiesModels * S; ++q) keep[q] = p.lengths[q % S] / 5 + 1;
      const auto masks = mt::ref::ties_keep_masks(in, false, keep, ties == MT_TIES_TIES_EXACT);
      const float w[kTiesModels] = {1.0f, 0.5f, -0.25f, 2.0f};
      if (mt::ref::ties_census(in, masks, w, false) != got.census) why = "census differs from the reference";
      std::vector<int> zero(S);
      for (int64_t s = 0; s < S; ++s) zero[s] = static_cast<int>(s % 3) - 1;
      std::vector<std::vector<double>> want, scale, want_max, scale_max;
      mt::ref::ties_merge(in, masks, w, true, zero, true, 0.8, &want, &scale);
      mt::ref::ties_merge(in, masks, w, false, zero, false, 0.8, &want_max, &scale_max, true);
      for (int64_t s = 0; s < S; ++s) {
        for (int64_t j = 0; j < p.lengths[s]; ++j) {
          const double e = std::fabs(got.out[p.offsets[s] + j] - want[s][j]) / (scale[s][j] + 1e-30);
          const double em = std::fabs(got.out_max[p.offsets[s] + j] - want_max[s][j]) / (scale_max[s][j] + 1e-30);
          worst = std::max(worst, std::isnan(e) ? INFINITY : e);
          worst = std::max(worst, std::isnan(em) ? INFINITY : em);
        }
      }
      if (why.empty() && !(worst <= kTolerance * 8)) why = "scaled error " + std::to_string(worst);
    }
    if (why.empty() && device == MT_DEVICE_CUDA) {
      const TiesRun cpu = run_ties(MT_DEVICE_CPU, p, ties);
      if (cpu.status != MT_OK) why = "CPU run failed: " + cpu.error;
      else if (cpu.thresholds != got.thresholds) why = "thresholds differ from the CPU";
      else if (cpu.cutoffs != got.cutoffs) why = "cutoffs differ from the CPU";
      else if (cpu.h0 != got.h0 || cpu.h1 != got.h1) why = "histograms differ from the CPU";
      else if (cpu.census != got.census) why = "census differs from the CPU";
      else if (std::memcmp(cpu.out.data(), got.out.data(), 4 * cpu.out.size()) != 0) why = "merge differs from the CPU";
      else if (std::memcmp(cpu.out_max.data(), got.out_max.data(), 4 * cpu.out_max.size()) != 0) {
        why = "disjoint-max merge differs from the CPU";
      }
    }
    result(why.empty(), "%-4s ties %-9s %-34s %s%s", device_name(device),
           ties == MT_TIES_TIES_EXACT ? "exact" : "keep-all", p.name.c_str(),
           device == MT_DEVICE_CPU ? (large ? "(no reference: large)" : "vs ties_ref.h") : "bit for bit vs CPU",
           why.empty() ? "" : (": " + why).c_str());
  }
}

void check_ties_cuda_unavailable() {
  int64_t len = 1;
  float v = 1.0f;
  const float* in[1] = {&v};
  int64_t hist[MT_TIES_LEVEL0_BINS] = {};
  const mt_status st = mt_ties_histogram_f32(MT_DEVICE_CUDA, nullptr, 1, &len, in, 1, in, 0, nullptr, hist, 0);
  result(st == MT_CUDA_UNAVAILABLE, "cuda mt_ties_histogram_f32 -> %s", mt_status_name(st));
}

}  // namespace

// The merge pass, one histogram pass and the per-segment exact trim (the mergekit preset's selection, every pass
// it makes) over 4 models of `mb` MB each, one segment; GB/s counts every byte read and written ((T + 2)·4 per
// element for the merge, (T + 1)·4 for the histogram and the trim).
void time_ties(int32_t device, int64_t mb) {
  const int64_t n = (mb << 20) / static_cast<int64_t>(sizeof(float));
  const int32_t T = kTiesModels;
  Raw base(device, 4 * n), out(device, 4 * n);
  std::vector<std::unique_ptr<Raw>> models;
  bool ok = base.ok() && out.ok();
  {
    std::vector<float> host(n);
    Rng rng{99};
    for (auto& x : host) x = rng.uniform(-1.0f, 1.0f);
    ok = ok && base.write(host.data(), 4 * n);
    for (int32_t i = 0; i < T && ok; ++i) {
      for (auto& x : host) x += 0.01f * rng.uniform(-1.0f, 1.0f);
      models.push_back(std::make_unique<Raw>(device, 4 * n));
      ok = models.back()->ok() && models.back()->write(host.data(), 4 * n);
    }
  }
  if (!ok) {
    std::printf("  %s ties %lld MB: skipped (out of memory)\n", device_name(device), (long long)mb);
    return;
  }
  const double copy_gbps = best_copy_gbps(device, mb);
  const float* b = base.as<float>();
  float* o = out.as<float>();
  std::vector<const float*> m;
  for (auto& r : models) m.push_back(r->as<float>());
  std::vector<uint32_t> t(T, 0x3c000000u);  // |δ| >= 2^-7: about a fifth of the elements
  std::vector<int64_t> c(T, n);
  const float w[kTiesModels] = {1, 1, 1, 1}, z = 1.0f;
  std::vector<int64_t> hist(T * MT_TIES_LEVEL0_BINS);
  bool failed = false;
  auto sync = [&] {
    if (device == MT_DEVICE_CUDA) failed = failed || mt_cuda_synchronize() != MT_OK;
  };
  auto merge = [&] {
    failed = failed || mt_ties_merge_f32(device, nullptr, 1, &n, &o, &b, T, m.data(), t.data(), c.data(), w,
                                         MT_TIES_ELECT_MASS, &z, MT_TIES_DISJOINT_MEAN, 1.0f, 0) != MT_OK;
    sync();
  };
  auto histogram = [&] {
    failed = failed || mt_ties_histogram_f32(device, nullptr, 1, &n, &b, T, m.data(), 0, nullptr, hist.data(), 0) != MT_OK;
  };
  // The mergekit preset's selection: exactly int(0.2·n) per (model, segment), lower indices first among equals.
  std::vector<int64_t> keep(T, n / 5), cut(T);
  std::vector<uint32_t> thr(T);
  auto trim = [&] {
    failed = failed || mt_ties_trim_per_segment_f32(device, nullptr, 1, &n, &b, T, m.data(), keep.data(),
                                                    MT_TIES_TIES_EXACT, thr.data(), cut.data(), 0) != MT_OK;
    sync();
  };
  for (const auto& [name, call, bytes] :
       {std::tuple<const char*, std::function<void()>, double>{"ties merge", merge, (T + 2) * 4.0 * n},
        std::tuple<const char*, std::function<void()>, double>{"ties histogram", histogram, (T + 1) * 4.0 * n},
        std::tuple<const char*, std::function<void()>, double>{"ties trim per segment", trim, (T + 1) * 4.0 * n}}) {
    call();  // warm-up
    const double s = median_seconds(kSamples, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      call();
      return seconds_since(t0);
    });
    const double gbps = bytes / s / 1e9;
    print_row({name, device_name(device), T, mb, s * 1e3, gbps, copy_gbps > 0 ? gbps / copy_gbps : 0});
  }
  if (failed) result(false, "%s ties timing runs: %s", device_name(device), mt_last_error());
}

void check_ties(bool cuda, bool quick) {
  const int64_t many = many_segments_count(quick);
  std::printf("\n== K4c TIES (trim, histograms, census, merge; CPU against ties_ref.h, CUDA bit for bit against the CPU)\n");
  {
    std::vector<Problem> tp;
    tp.push_back(make_problem("n=1", {1}, 21));
    tp.push_back(make_problem("n=9 in 3 segments", {4, 0, 5}, 22));
    tp.push_back(make_problem(std::to_string(many) + " segments", random_lengths(many, quick ? 300 : 2000, 23), 24));
    tp.push_back(make_problem("300k in 3 segments", {150001, 7, 149992}, 25));
    if (!quick) tp.push_back(make_problem("8M in 2 segments", {(1 << 22) + 3, (1 << 22) - 3}, 26));
    for (const Problem& p : tp) check_ties_problem(MT_DEVICE_CPU, p);
    if (!cuda) {
      check_ties_cuda_unavailable();
    } else {
      for (const Problem& p : tp) check_ties_problem(MT_DEVICE_CUDA, p);
    }
  }
}

}  // namespace mt::harness
