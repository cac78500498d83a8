// K4a (mt_interp_f32) in the check-and-time harness: task arithmetic / interpolation
//   out = base + Σ_i λ_i (model_i − base)
// checked against interp_ref.h's double result (scaled error ≤ kTolerance) for 0..8 models, in place (out = base,
// out = a model) and with unaligned arrays; on CUDA also against the CPU's result. Non-finite detection names the
// first bad input by flat index, across the CPU threads' / CUDA blocks' work split. Timed against plain copies on the
// same device: these copies are the "of copy" reference of every other family's timing rows.
#include <iterator>

#include "common.h"
#include "families.h"
#include "interp_ref.h"

namespace mt::harness {
namespace {

constexpr int32_t kModelCounts[] = {0, 1, 2, 4, 8};

mt_status run(int32_t device, const Problem& p, int32_t n_models, const Call& c, int32_t flags) {
  return mt_interp_f32(device, nullptr, p.segments(), p.lengths.data(), c.out.data(), c.base.data(), n_models,
                       c.models.data(), p.lambdas.data(), flags);
}

struct Compare {
  double ref_error = 0;   // max scaled error against the double reference
  int64_t worst = -1;
  double cpu_error = 0;   // max scaled difference to the CPU result
  int64_t cpu_differ = 0; // elements not bit-identical to the CPU result
};

// Compares out (host) with the reference, block by block so the doubles stay small, and with `cpu` if given.
Compare compare(const Problem& p, int32_t n_models, const float* out, const float* cpu) {
  constexpr int64_t kBlock = 1 << 16;
  std::vector<double> exact(kBlock), scale(kBlock);
  Compare c;
  for (int64_t j0 = 0; j0 < p.total; j0 += kBlock) {
    const int64_t n = std::min(kBlock, p.total - j0);
    const float* models[kMaxModels];
    for (int32_t i = 0; i < n_models; ++i) models[i] = p.models[i].data() + j0;
    mt::ref::interp(n, p.base.data() + j0, models, p.lambdas.data(), n_models, exact.data(), scale.data());
    const mt::ref::InterpError e = mt::ref::compare(n, out + j0, exact.data(), scale.data());
    if (!(e.max_scaled_error <= c.ref_error)) {
      c.ref_error = e.max_scaled_error;
      c.worst = j0 + e.worst_index;
    }
    if (cpu == nullptr) continue;
    for (int64_t j = 0; j < n; ++j) {
      const float a = out[j0 + j], b = cpu[j0 + j];
      if (std::memcmp(&a, &b, sizeof(float)) == 0) continue;
      ++c.cpu_differ;
      const double d = std::fabs(static_cast<double>(a) - b) / (scale[j] + 1e-30);
      c.cpu_error = std::max(c.cpu_error, std::isnan(d) ? INFINITY : d);
    }
  }
  return c;
}

// The CPU result of a problem (the CUDA checks compare with it).
std::vector<float> cpu_result(const Problem& p, int32_t n_models) {
  Buffers b(MT_DEVICE_CPU, p.total, n_models, 0, 0);
  std::vector<float> out(p.total);
  if (!b.ok() || !b.upload(p)) return out;
  const Call c = make_call(p, b, n_models, Alias::none);
  if (run(MT_DEVICE_CPU, p, n_models, c, 0) == MT_OK) b.read(out.data(), b.out(), p.total);
  return out;
}

// ---------------------------------------------------------------------------------------------- checks

// Every n_models of kModelCounts on one problem: one line per problem, one check per call.
void check_problem(int32_t device, const Problem& p, Alias alias, int64_t pad_out, int64_t pad_in,
                   const char* layout) {
  double worst_ref = 0, worst_cpu = 0;
  int64_t differ = 0;
  int bad = 0;
  std::string failures, counts;
  for (size_t k = 0; k < std::size(kModelCounts); ++k) {
    const int32_t n_models = kModelCounts[k];
    if (alias == Alias::model && n_models == 0) continue;  // no model to alias
    counts += (counts.empty() ? "" : ",") + std::to_string(n_models);
    const int32_t flags = k % 2 == 0 ? MT_CHECK_FINITE : 0;  // both paths: checked (synchronous) and plain
    Buffers b(device, p.total, n_models, pad_out, pad_in);
    std::string why;
    bool ok = b.ok() && b.upload(p) && prepare_out(p, b, n_models, alias);
    if (!ok) why = std::string("buffer setup failed: ") + mt_last_error();
    std::vector<float> out(p.total);
    Compare cmp;
    if (ok) {
      const Call c = make_call(p, b, n_models, alias);
      mt_status st = run(device, p, n_models, c, flags);
      if (st == MT_OK && device == MT_DEVICE_CUDA) st = mt_cuda_synchronize();
      if (st != MT_OK) {
        ok = false;
        why = last_error(st);
      } else if (!b.read(out.data(), b.out(), p.total)) {
        ok = false;
        why = "reading out back failed";
      }
    }
    if (ok) {
      std::vector<float> cpu;
      if (device == MT_DEVICE_CUDA) cpu = cpu_result(p, n_models);
      cmp = compare(p, n_models, out.data(), cpu.empty() ? nullptr : cpu.data());
      worst_ref = std::max(worst_ref, cmp.ref_error);
      worst_cpu = std::max(worst_cpu, cmp.cpu_error);
      differ += cmp.cpu_differ;
      if (!(cmp.ref_error <= kTolerance) || !(cmp.cpu_error <= kCpuTolerance)) {
        ok = false;
        char buf[160];
        std::snprintf(buf, sizeof(buf), "scaled error %.3g at flat %lld, vs CPU %.3g", cmp.ref_error,
                      (long long)cmp.worst, cmp.cpu_error);
        why = buf;
      }
    }
    if (ok) {
      ++g_passed;
    } else {
      ++g_failed;
      ++bad;
      failures += "\n          models=" + std::to_string(n_models) + ": " + why;
    }
  }
  char extra[96] = "";
  if (device == MT_DEVICE_CUDA) {
    std::snprintf(extra, sizeof(extra), ", vs CPU %.1e (%lld differ)", worst_cpu, (long long)differ);
  }
  std::string note = layout, label = p.name;
  if (alias != Alias::none) note += std::string(note.empty() ? "" : ", ") + alias_name(alias);
  if (!note.empty()) label += " (" + note + ")";
  std::printf("  %-4s  %-4s %-44s models %-9s max err %.1e%s%s\n", bad ? "FAIL" : "ok", device_name(device),
              label.c_str(), counts.c_str(), worst_ref, extra, failures.c_str());
  std::fflush(stdout);
}

struct Poke {
  int32_t input;  // MT_INPUT_BASE or a model index
  int64_t flat;
  float value;
};

// Injects values, runs with `flags` and checks the status and, for MT_NON_FINITE, the input/segment/element.
void check_poked(int32_t device, const Problem& p, int32_t n_models, Alias alias, int64_t pad,
                 const std::vector<Poke>& pokes, int32_t flags, mt_status want, int32_t want_input,
                 int64_t want_flat, const char* what) {
  Buffers b(device, p.total, n_models, pad, pad);
  bool ok = b.ok() && b.upload(p) && prepare_out(p, b, n_models, alias);
  const Call c = make_call(p, b, n_models, alias);
  for (const Poke& k : pokes) {  // through the call's tables, so an aliased input is poked in out's buffer
    const int64_t s = p.segment_of(k.flat);
    const float* segment = k.input == MT_INPUT_BASE ? c.base[s] : c.models[k.input * p.segments() + s];
    ok = ok && b.write_value(const_cast<float*>(segment) + (k.flat - p.offsets[s]), k.value);
  }
  if (!ok) {
    result(false, "%-4s %s: buffer setup failed", device_name(device), what);
    return;
  }
  mt_status st = run(device, p, n_models, c, flags);
  if (st == MT_OK && device == MT_DEVICE_CUDA) st = mt_cuda_synchronize();
  const int64_t want_segment = want_flat >= 0 ? p.segment_of(want_flat) : -1;
  const int64_t want_element = want_flat >= 0 ? want_flat - p.offsets[want_segment] : -1;
  bool good = st == want;
  if (good && want == MT_NON_FINITE) {
    good = mt_last_error_input() == want_input && mt_last_error_segment() == want_segment &&
           mt_last_error_element() == want_element;
  }
  if (good) {
    result(true, "%-4s %s -> %s", device_name(device), what, st == MT_OK ? "MT_OK" : last_error(st).c_str());
  } else {
    result(false, "%-4s %s -> %s (input %d, segment %lld, element %lld); wanted %s input %d segment %lld element %lld",
           device_name(device), what, last_error(st).c_str(), mt_last_error_input(),
           (long long)mt_last_error_segment(), (long long)mt_last_error_element(), mt_status_name(want), want_input,
           (long long)want_segment, (long long)want_element);
  }
}

// Non-finite detection: which culprit is named, in which order, with and without in-place output.
void check_non_finite(int32_t device, const Problem& many, const Problem& wide, int64_t pad) {
  if (pad != 0) std::printf("  (arrays shifted by %lld float: scalar path)\n", (long long)pad);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const int64_t a = many.total / 5, z = many.total * 4 / 5;  // flat indices, inside non-empty segments
  check_poked(device, many, 4, Alias::none, pad, {{2, a, nan}}, MT_CHECK_FINITE, MT_NON_FINITE, 2, a,
              "NaN in model 2");
  check_poked(device, many, 4, Alias::none, pad, {{MT_INPUT_BASE, z, inf}, {3, a, nan}}, MT_CHECK_FINITE,
              MT_NON_FINITE, 3, a, "+Inf in base after NaN in model 3: first by index");
  check_poked(device, many, 4, Alias::none, pad, {{0, a, nan}, {MT_INPUT_BASE, a, -inf}}, MT_CHECK_FINITE,
              MT_NON_FINITE, MT_INPUT_BASE, a, "-Inf in base and NaN in model 0 at one element: base first");
  check_poked(device, many, 4, Alias::none, pad, {{MT_INPUT_BASE, z, 3e38f}, {0, z, -3e38f}}, MT_CHECK_FINITE,
              MT_NON_FINITE, MT_INPUT_OUTPUT, z, "finite inputs that overflow: the result is named");
  check_poked(device, many, 4, Alias::base, pad, {{1, a, nan}}, MT_CHECK_FINITE, MT_NON_FINITE, 1, a,
              "NaN in model 1, in place out=base");
  check_poked(device, many, 4, Alias::model, pad, {{2, z, inf}}, MT_CHECK_FINITE, MT_NON_FINITE, 2, z,
              "+Inf in model 2, in place out=model 2");
  check_poked(device, many, 0, Alias::none, pad, {{MT_INPUT_BASE, z, nan}}, MT_CHECK_FINITE, MT_NON_FINITE,
              MT_INPUT_BASE, z, "NaN in base, no models");
  check_poked(device, many, 4, Alias::none, pad, {{1, a, nan}}, 0, MT_OK, MT_INPUT_NONE, -1,
              "NaN without MT_CHECK_FINITE: not checked");
  // Across the work split (CPU threads, CUDA blocks): the lowest index wins wherever it lies.
  const int64_t n = wide.total;
  check_poked(device, wide, 4, Alias::none, pad,
              {{1, n - 2, nan}, {MT_INPUT_BASE, n * 3 / 5, inf}, {3, n * 2 / 5, nan}}, MT_CHECK_FINITE, MT_NON_FINITE,
              3, n * 2 / 5, "three bad elements far apart: the first");
}

void check_arguments(const Problem& p) {
  Buffers b(MT_DEVICE_CPU, p.total, 2, 0, 0);
  if (!b.ok() || !b.upload(p)) {
    result(false, "cpu  argument checks: buffer setup failed");
    return;
  }
  const Call c = make_call(p, b, 2, Alias::none);
  std::vector<int64_t> lengths = p.lengths;
  lengths[1] = -1;
  mt_status st = mt_interp_f32(MT_DEVICE_CPU, nullptr, p.segments(), lengths.data(), c.out.data(), c.base.data(), 2,
                               c.models.data(), p.lambdas.data(), 0);
  result(st == MT_INVALID_ARGUMENT && mt_last_error_segment() == 1, "cpu  negative length -> %s",
         last_error(st).c_str());
  const float lambdas[2] = {0.5f, std::numeric_limits<float>::quiet_NaN()};
  st = mt_interp_f32(MT_DEVICE_CPU, nullptr, p.segments(), p.lengths.data(), c.out.data(), c.base.data(), 2,
                     c.models.data(), lambdas, 0);
  result(st == MT_INVALID_ARGUMENT && mt_last_error_input() == 1, "cpu  NaN lambda -> %s", last_error(st).c_str());
}

void check_empty(int32_t device) {
  const Problem none = make_problem("no segments", {}, 1);
  mt_status st = run(device, none, 2, Call{}, MT_CHECK_FINITE);
  result(st == MT_OK, "%-4s n_segments = 0 -> %s", device_name(device), mt_status_name(st));

  const Problem zeros = make_problem("zero-length segments", {0, 0, 0}, 2);
  Call c;  // any pointers will do: nothing may be touched
  float dummy = 1.0f;
  for (int64_t s = 0; s < 3; ++s) {
    c.out.push_back(&dummy);
    c.base.push_back(&dummy);
    for (int i = 0; i < 2; ++i) c.models.push_back(&dummy);
  }
  st = run(device, zeros, 2, c, MT_CHECK_FINITE);
  result(st == MT_OK && dummy == 1.0f, "%-4s three zero-length segments -> %s", device_name(device),
         mt_status_name(st));
}

// The CUDA entry points on a machine without a usable device: clean MT_CUDA_UNAVAILABLE, nothing printed.
void check_cuda_unavailable() {
  const char* reason = mt_cuda_unavailable_reason();
  result(reason != nullptr && reason[0] != '\0', "cuda unavailable reason is given: \"%s\"", reason ? reason : "");
  void* ptr = reinterpret_cast<void*>(1);
  mt_status st = mt_cuda_malloc(16, &ptr);
  result(st == MT_CUDA_UNAVAILABLE && ptr == nullptr, "cuda mt_cuda_malloc -> %s", last_error(st).c_str());
  result(mt_cuda_free(nullptr) == MT_OK, "cuda mt_cuda_free(NULL) -> MT_OK");
  st = mt_cuda_synchronize();
  result(st == MT_CUDA_UNAVAILABLE, "cuda mt_cuda_synchronize -> %s", mt_status_name(st));
  const Problem one = make_problem("one", {1}, 3);
  Buffers b(MT_DEVICE_CPU, 1, 1, 0, 0);
  b.upload(one);
  st = run(MT_DEVICE_CUDA, one, 1, make_call(one, b, 1, Alias::none), 0);
  result(st == MT_CUDA_UNAVAILABLE, "cuda mt_interp_f32 -> %s", mt_status_name(st));
}

// Host memory passed with MT_DEVICE_CUDA must be refused, naming the input.
void check_cuda_host_pointers(const Problem& p) {
  Buffers host(MT_DEVICE_CPU, p.total, 1, 0, 0);
  Buffers dev(MT_DEVICE_CUDA, p.total, 1, 0, 0);
  if (!host.ok() || !dev.ok()) {
    result(false, "cuda host-pointer checks: buffer setup failed");
    return;
  }
  const int64_t first = p.segment_of(0);
  Call c = make_call(p, host, 1, Alias::none);
  mt_status st = run(MT_DEVICE_CUDA, p, 1, c, 0);
  result(st == MT_INVALID_ARGUMENT && mt_last_error_input() == MT_INPUT_OUTPUT && mt_last_error_segment() == first,
         "cuda host out -> %s", last_error(st).c_str());
  Call d = make_call(p, dev, 1, Alias::none);
  for (int64_t s = 0; s < p.segments(); ++s) d.base[s] = host.base() + p.offsets[s];
  st = run(MT_DEVICE_CUDA, p, 1, d, 0);
  result(st == MT_INVALID_ARGUMENT && mt_last_error_input() == MT_INPUT_BASE, "cuda host base -> %s",
         last_error(st).c_str());
}

constexpr int32_t kTimedModels[] = {1, 2, 4, 8};

void time_cpu(int64_t mb) {
  const int64_t n = (mb << 20) / static_cast<int64_t>(sizeof(float));
  const double copy_bytes = 2.0 * 4.0 * n;
  Buffers b(MT_DEVICE_CPU, n, kMaxModels, 0, 0);
  if (!b.ok()) {
    std::printf("  cpu %lld MB: skipped (out of host memory)\n", (long long)mb);
    return;
  }
  std::fill(b.base(), b.base() + n, 1.0f);
  std::fill(b.out(), b.out() + n, 0.0f);
  for (int32_t i = 0; i < kMaxModels; ++i) std::fill(b.model(i), b.model(i) + n, 1.0f + 0.01f * static_cast<float>(i));
  const int32_t threads = mt_get_num_threads();

  auto timed = [&](auto&& f) {
    f();  // warm-up
    return median_seconds(kSamples, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      f();
      return seconds_since(t0);
    });
  };
  const double t1 = timed([&] { std::memcpy(b.out(), b.base(), static_cast<size_t>(n) * sizeof(float)); });
  const double tn = timed([&] { parallel_copy(b.out(), b.base(), n, threads); });
  const double copy_gbps = copy_bytes / std::min(t1, tn) / 1e9;
  print_row({"memcpy 1 thread", "cpu", -1, mb, t1 * 1e3, copy_bytes / t1 / 1e9, copy_bytes / t1 / 1e9 / copy_gbps});
  print_row({"memcpy " + std::to_string(threads) + " threads", "cpu", -1, mb, tn * 1e3, copy_bytes / tn / 1e9,
             copy_bytes / tn / 1e9 / copy_gbps});

  float* out = b.out();
  const float* base = b.base();
  const float* models[kMaxModels];
  for (int32_t i = 0; i < kMaxModels; ++i) models[i] = b.model(i);
  const float lambdas[kMaxModels] = {0.3f, -0.2f, 0.5f, 0.1f, 0.25f, -0.4f, 0.7f, 0.05f};
  for (const int32_t m : kTimedModels) {
    for (const int32_t flags : {0, MT_CHECK_FINITE}) {
      if (flags != 0 && m != 4) continue;
      mt_status st = MT_OK;
      const double t = timed(
          [&] { st = mt_interp_f32(MT_DEVICE_CPU, nullptr, 1, &n, &out, &base, m, models, lambdas, flags); });
      if (st != MT_OK) {
        result(false, "cpu  timing run failed: %s", last_error(st).c_str());
        return;
      }
      const double bytes = (m + 2) * 4.0 * n;
      const double gbps = bytes / t / 1e9;
      print_row({flags ? "interp+check" : "interp", "cpu", m, mb, t * 1e3, gbps, gbps / copy_gbps});
    }
  }
}

void time_cuda(int64_t mb) {
  const int64_t n = (mb << 20) / static_cast<int64_t>(sizeof(float));
  const double copy_bytes = 2.0 * 4.0 * n;
  Buffers b(MT_DEVICE_CUDA, n, kMaxModels, 0, 0);
  if (!b.ok()) {
    std::printf("  cuda %lld MB: skipped (out of device memory)\n", (long long)mb);
    return;
  }
  {
    std::vector<float> host(n, 1.0f);
    b.write(b.base(), host.data(), n);
    b.write(b.out(), host.data(), n);
    for (int32_t i = 0; i < kMaxModels; ++i) {
      std::fill(host.begin(), host.end(), 1.0f + 0.01f * static_cast<float>(i));
      b.write(b.model(i), host.data(), n);
    }
  }
  bool failed = false;
  auto timed = [&](auto&& f) {  // seconds per call: batches between synchronisations
    f();
    failed = failed || mt_cuda_synchronize() != MT_OK;
    return median_seconds(kSamples, [&] {
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < kCudaBatch; ++k) f();
      failed = failed || mt_cuda_synchronize() != MT_OK;
      return seconds_since(t0) / kCudaBatch;
    });
  };
  const double tc = timed([&] {
    failed = failed || mt_cuda_memcpy(b.out(), b.base(), n * 4, MT_COPY_DEVICE_TO_DEVICE) != MT_OK;
  });
  const double copy_gbps = copy_bytes / tc / 1e9;
  print_row({"cudaMemcpy D2D", "cuda", -1, mb, tc * 1e3, copy_gbps, 1.0});

  float* out = b.out();
  const float* base = b.base();
  const float* models[kMaxModels];
  for (int32_t i = 0; i < kMaxModels; ++i) models[i] = b.model(i);
  const float lambdas[kMaxModels] = {0.3f, -0.2f, 0.5f, 0.1f, 0.25f, -0.4f, 0.7f, 0.05f};
  for (const int32_t m : kTimedModels) {
    for (const int32_t flags : {0, MT_CHECK_FINITE}) {
      if (flags != 0 && m != 4) continue;
      const double t = timed([&] {
        failed = failed ||
                 mt_interp_f32(MT_DEVICE_CUDA, nullptr, 1, &n, &out, &base, m, models, lambdas, flags) != MT_OK;
      });
      const double bytes = (m + 2) * 4.0 * n;
      const double gbps = bytes / t / 1e9;
      print_row({flags ? "interp+check" : "interp", "cuda", m, mb, t * 1e3, gbps, gbps / copy_gbps});
    }
  }
  if (failed) result(false, "cuda timing runs: %s", mt_last_error());
}

}  // namespace

void check_interp(bool cuda, bool quick) {
  const std::vector<Problem> problems = standard_problems(quick);
  const Problem& many_segments = problems[3];
  const Problem& wide = problems[4];

  std::printf("\n== CPU checks (scaled error vs the double reference, tolerance %.0e)\n", kTolerance);
  check_empty(MT_DEVICE_CPU);
  for (const Problem& p : problems) check_problem(MT_DEVICE_CPU, p, Alias::none, 0, 0, "");
  check_problem(MT_DEVICE_CPU, many_segments, Alias::base, 0, 0, "");
  check_problem(MT_DEVICE_CPU, wide, Alias::model, 0, 0, "");
  check_non_finite(MT_DEVICE_CPU, many_segments, wide, 0);
  check_arguments(many_segments);

  std::printf("\n== CUDA checks\n");
  if (!cuda) {
    std::printf("  CUDA: not available (%s): skipped\n", mt_cuda_unavailable_reason());
    check_cuda_unavailable();
  } else {
    check_empty(MT_DEVICE_CUDA);
    // Segments at offsets that are multiples of 4 take the float4 path, the others the scalar one; shifting the
    // arrays by one float moves every segment of the single-segment problems to the scalar path.
    for (const Problem& p : problems) check_problem(MT_DEVICE_CUDA, p, Alias::none, 0, 0, "");
    for (const Problem& p : problems) check_problem(MT_DEVICE_CUDA, p, Alias::none, 1, 1, "all arrays +1 float");
    check_problem(MT_DEVICE_CUDA, problems[2], Alias::none, 1, 0, "out +1 float");
    check_problem(MT_DEVICE_CUDA, wide, Alias::none, 0, 1, "inputs +1 float");
    check_problem(MT_DEVICE_CUDA, many_segments, Alias::base, 0, 0, "");
    check_problem(MT_DEVICE_CUDA, wide, Alias::base, 1, 1, "all arrays +1 float");
    check_problem(MT_DEVICE_CUDA, wide, Alias::model, 0, 0, "");
    check_non_finite(MT_DEVICE_CUDA, many_segments, wide, 0);
    check_non_finite(MT_DEVICE_CUDA, many_segments, wide, 1);
    check_cuda_host_pointers(many_segments);
  }
}

void time_interp(int32_t device, int64_t mb) {
  if (device == MT_DEVICE_CUDA) {
    time_cuda(mb);
  } else {
    time_cpu(mb);
  }
}

}  // namespace mt::harness
