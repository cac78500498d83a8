// Check-and-time harness for K4a (mt_interp_f32), K3 (mt_signmax_*), K4b (mt_dare_f32) and K4c (mt_ties_*,
// ties_section.h), in the spirit of llm.c's dev/cuda files:
// every kernel is first checked against its reference (interp_ref.h, signmax_ref.h), then timed against a plain
// copy on the same device. On CUDA, K3's U and masks and K4b's NONE/INVERSE results are also checked bit for bit
// against the CPU's (K4b's L1 results to rounding).
//
//   mergetune_harness [--quick | --timing-only] [--mb N]
//
// --quick runs small sizes and checks only (seconds; a ctest, also on machines without a GPU). The full run adds
// large sizes and the timing table; MT_HARNESS_CSV=path also writes the timing rows as CSV. --timing-only skips
// the checks and prints the timing table alone (copies, K4a, K3 unify and K4b at N MB, default 64; N MB is one
// array: a K3 or K4b call with T inputs moves (T + 2)·N MB). The CUDA sections
// run only when mt_cuda_device_count() > 0. The exit status is 0 when every check passed, and the last line
// reads "N passed, M failed".
#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "dare_ref.h"
#include "interp_ref.h"
#include "signmax_ref.h"
#include "ties_ref.h"
#include "mergetune/mergetune.h"

namespace {

// ---------------------------------------------------------------------------------------------- bookkeeping

int g_passed = 0;
int g_failed = 0;

__attribute__((format(printf, 2, 3))) void result(bool ok, const char* fmt, ...) {
  char line[768];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  std::printf("  %-4s  %s\n", ok ? "ok" : "FAIL", line);
  std::fflush(stdout);
  (ok ? g_passed : g_failed)++;
}

const char* device_name(int32_t device) { return device == MT_DEVICE_CUDA ? "cuda" : "cpu"; }

std::string last_error(mt_status st) { return std::string(mt_status_name(st)) + ": " + mt_last_error(); }

// ---------------------------------------------------------------------------------------------- problems

struct Rng {
  uint64_t s;
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>((next() >> 40) * 0x1p-24); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

constexpr int32_t kMaxModels = 8;
constexpr int32_t kModelCounts[] = {0, 1, 2, 4, 8};

// One parameter set laid out flat: segment s of every input starts at offsets[s] of that input's array, so the
// reference can run over the concatenation. A call with k models uses models[0..k) and lambdas[0..k).
struct Problem {
  std::string name;
  std::vector<int64_t> lengths;
  std::vector<int64_t> offsets;  // segments + 1 entries
  int64_t total = 0;
  std::vector<float> base;
  std::vector<std::vector<float>> models;
  std::vector<float> lambdas;

  int64_t segments() const { return static_cast<int64_t>(lengths.size()); }
  int64_t segment_of(int64_t flat) const {
    return std::upper_bound(offsets.begin(), offsets.end(), flat) - offsets.begin() - 1;
  }
};

// Fine-tuned models near a base: each segment has its own magnitude (2^-8 .. 2^8), each model a small delta.
Problem make_problem(const std::string& name, const std::vector<int64_t>& lengths, uint64_t seed) {
  Problem p;
  p.name = name;
  p.lengths = lengths;
  p.offsets.assign(lengths.size() + 1, 0);
  for (size_t s = 0; s < lengths.size(); ++s) p.offsets[s + 1] = p.offsets[s] + lengths[s];
  p.total = p.offsets.back();
  Rng rng{seed};
  p.base.resize(p.total);
  p.models.assign(kMaxModels, std::vector<float>(p.total));
  for (size_t s = 0; s < lengths.size(); ++s) {
    const float scale = std::ldexp(1.0f, static_cast<int>(rng.below(17)) - 8);
    for (int64_t j = p.offsets[s]; j < p.offsets[s + 1]; ++j) {
      const float b = scale * rng.uniform(-1.0f, 1.0f);
      p.base[j] = b;
      for (int32_t i = 0; i < kMaxModels; ++i) p.models[i][j] = b + 0.05f * scale * rng.uniform(-1.0f, 1.0f);
    }
  }
  for (int32_t i = 0; i < kMaxModels; ++i) p.lambdas.push_back(rng.uniform(-1.0f, 1.0f));
  return p;
}

std::vector<int64_t> random_lengths(int64_t count, int64_t max_len, uint64_t seed) {
  Rng rng{seed};
  std::vector<int64_t> lengths(count);
  for (int64_t& n : lengths) n = rng.below(10) == 0 ? 0 : rng.below(max_len + 1);  // ~10% empty
  return lengths;
}

// ---------------------------------------------------------------------------------------------- buffers

// Flat base, models and out of one problem on one device (host memory, or mt_cuda_malloc). Each array can start
// `pad` floats past an aligned allocation, which makes every segment pointer unaligned.
class Buffers {
 public:
  Buffers(int32_t device, int64_t n, int32_t n_models, int64_t pad_out, int64_t pad_in) : device_(device) {
    out_ = alloc(n, pad_out);
    base_ = alloc(n, pad_in);
    for (int32_t i = 0; i < n_models; ++i) models_.push_back(alloc(n, pad_in));
  }
  ~Buffers() {
    for (void* a : allocations_) {
      if (device_ == MT_DEVICE_CUDA) {
        mt_cuda_free(a);
      } else {
        std::free(a);
      }
    }
  }
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;

  bool ok() const { return ok_; }
  float* out() { return out_; }
  float* base() { return base_; }
  float* model(int32_t i) { return models_[i]; }

  // Copies between these buffers and host memory (n floats).
  bool write(float* dst, const float* host, int64_t n) { return copy(dst, host, n, MT_COPY_HOST_TO_DEVICE); }
  bool read(float* host, const float* src, int64_t n) { return copy(host, src, n, MT_COPY_DEVICE_TO_HOST); }
  bool write_value(float* dst, float v) { return write(dst, &v, 1); }

  bool upload(const Problem& p) {
    bool good = write(base_, p.base.data(), p.total);
    for (size_t i = 0; i < models_.size(); ++i) good = good && write(models_[i], p.models[i].data(), p.total);
    return good;
  }

 private:
  float* alloc(int64_t n, int64_t pad) {
    const int64_t bytes = (n + pad + 16) * static_cast<int64_t>(sizeof(float));
    void* a = nullptr;
    if (device_ == MT_DEVICE_CUDA) {
      if (mt_cuda_malloc(bytes, &a) != MT_OK) a = nullptr;
    } else {
      a = std::aligned_alloc(64, static_cast<size_t>((bytes + 63) / 64 * 64));
    }
    if (a == nullptr) {
      ok_ = false;
      return nullptr;
    }
    allocations_.push_back(a);
    return static_cast<float*>(a) + pad;
  }
  bool copy(void* dst, const void* src, int64_t n, int32_t direction) {
    if (n == 0) return true;
    if (device_ == MT_DEVICE_CPU) {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return true;
    }
    return mt_cuda_memcpy(dst, src, n * static_cast<int64_t>(sizeof(float)), direction) == MT_OK;
  }

  int32_t device_;
  bool ok_ = true;
  std::vector<void*> allocations_;
  float* out_ = nullptr;
  float* base_ = nullptr;
  std::vector<float*> models_;
};

// ---------------------------------------------------------------------------------------------- one call

enum class Alias { none, base, model };  // out is its own buffer, or base itself, or model (n_models / 2) itself

const char* alias_name(Alias a) { return a == Alias::base ? "out=base" : a == Alias::model ? "out=model" : ""; }

struct Call {
  std::vector<float*> out;
  std::vector<const float*> base;
  std::vector<const float*> models;
  int32_t aliased_model = -1;
};

// Segment tables over the buffers; with an alias, out's buffer (already holding a copy of that input) replaces it.
Call make_call(const Problem& p, Buffers& b, int32_t n_models, Alias alias) {
  Call c;
  if (alias == Alias::model) c.aliased_model = n_models / 2;
  const int64_t S = p.segments();
  for (int64_t s = 0; s < S; ++s) {
    c.out.push_back(b.out() + p.offsets[s]);
    c.base.push_back((alias == Alias::base ? b.out() : b.base()) + p.offsets[s]);
  }
  for (int32_t i = 0; i < n_models; ++i) {
    for (int64_t s = 0; s < S; ++s) c.models.push_back((i == c.aliased_model ? b.out() : b.model(i)) + p.offsets[s]);
  }
  return c;
}

mt_status run(int32_t device, const Problem& p, int32_t n_models, const Call& c, int32_t flags) {
  return mt_interp_f32(device, nullptr, p.segments(), p.lengths.data(), c.out.data(), c.base.data(), n_models,
                       c.models.data(), p.lambdas.data(), flags);
}

// Fills out for a call: NaN (so a skipped element fails the comparison), or a copy of the aliased input.
bool prepare_out(const Problem& p, Buffers& b, int32_t n_models, Alias alias) {
  if (alias == Alias::none) {
    const std::vector<float> nan(p.total, std::numeric_limits<float>::quiet_NaN());
    return b.write(b.out(), nan.data(), p.total);
  }
  const std::vector<float>& src = alias == Alias::base ? p.base : p.models[n_models / 2];
  return b.write(b.out(), src.data(), p.total);
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

constexpr double kTolerance = 1e-6;       // interp_ref.h: covers the fp32 bound for up to 14 models
constexpr double kCpuTolerance = 2e-6;    // two results each within kTolerance of the exact value

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

// ---------------------------------------------------------------------------------------------- K3 checks

// Raw memory on one device (host, or mt_cuda_malloc), for the K3 sections: floats and mask words alike.
class Raw {
 public:
  Raw(int32_t device, int64_t bytes) : device_(device) {
    const int64_t n = std::max<int64_t>(bytes, 64);
    if (device == MT_DEVICE_CUDA) {
      if (mt_cuda_malloc(n, &ptr_) != MT_OK) ptr_ = nullptr;
    } else {
      ptr_ = std::aligned_alloc(64, static_cast<size_t>((n + 63) / 64 * 64));
    }
  }
  ~Raw() {
    if (device_ == MT_DEVICE_CUDA) {
      mt_cuda_free(ptr_);
    } else {
      std::free(ptr_);
    }
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  bool ok() const { return ptr_ != nullptr; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  bool write(const void* host, int64_t bytes, int64_t at = 0) {
    if (bytes == 0) return true;
    if (device_ == MT_DEVICE_CPU) {
      std::memcpy(static_cast<char*>(ptr_) + at, host, static_cast<size_t>(bytes));
      return true;
    }
    return mt_cuda_memcpy(static_cast<char*>(ptr_) + at, host, bytes, MT_COPY_HOST_TO_DEVICE) == MT_OK;
  }
  bool read(void* host, int64_t bytes) const {
    if (bytes == 0) return true;
    if (device_ == MT_DEVICE_CPU) {
      std::memcpy(host, ptr_, static_cast<size_t>(bytes));
      return true;
    }
    return mt_cuda_memcpy(host, ptr_, bytes, MT_COPY_DEVICE_TO_HOST) == MT_OK;
  }

 private:
  int32_t device_;
  void* ptr_ = nullptr;
};

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

// ---------------------------------------------------------------------------------------------- K4b checks

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

// ---------------------------------------------------------------------------------------------- timing

struct Row {
  std::string kernel, device;
  int32_t n_models;
  int64_t mb;
  double ms, gbps, fraction;
};
std::vector<Row> g_rows;

void print_row(const Row& r) {
  char models[16] = "-";
  if (r.n_models >= 0) std::snprintf(models, sizeof(models), "%d", r.n_models);
  std::printf("  %-18s %-6s %8s %6lld %9.3f %9.1f %8.2f\n", r.kernel.c_str(), r.device.c_str(), models,
              (long long)r.mb, r.ms, r.gbps, r.fraction);
  std::fflush(stdout);
  g_rows.push_back(r);
}

// Median of `samples` timings of f (seconds each).
template <class F>
double median_seconds(int samples, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < samples; ++i) t.push_back(f());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void parallel_copy(float* dst, const float* src, int64_t n, int32_t threads) {
  std::vector<std::thread> pool;
  const int64_t step = (n + threads - 1) / threads;
  for (int32_t t = 1; t < threads; ++t) {
    const int64_t b = std::min(n, t * step), e = std::min(n, b + step);
    pool.emplace_back([=] { std::memcpy(dst + b, src + b, static_cast<size_t>(e - b) * sizeof(float)); });
  }
  std::memcpy(dst, src, static_cast<size_t>(std::min(n, step)) * sizeof(float));
  for (std::thread& t : pool) t.join();
}

constexpr int32_t kTimedModels[] = {1, 2, 4, 8};
constexpr int kSamples = 5;
constexpr int kCudaBatch = 10;  // calls per CUDA sample, between two synchronisations

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

// K3 unify, models with θ0, sums on: GB/s counts (T + 2)·4 bytes + T/8 bytes of masks per element.
constexpr int32_t kSignmaxTimedTasks[] = {2, 4, 8};

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
  // The copy it is measured against: best of the copies already timed on this device.
  double copy_gbps = 0;
  for (const Row& r : g_rows) {
    if (r.device == device_name(device) && r.n_models < 0 && r.mb == mb) copy_gbps = std::max(copy_gbps, r.gbps);
  }
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

// K4b, one segment: GB/s counts (n_models + 2)·4 bytes per element (L1 reads the inputs twice but is counted once).
constexpr int32_t kDareTimedModels[] = {1, 2, 4, 8};

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
  double copy_gbps = 0;
  for (const Row& r : g_rows) {
    if (r.device == device_name(device) && r.n_models < 0 && r.mb == mb) copy_gbps = std::max(copy_gbps, r.gbps);
  }
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

#include "ties_section.h"
// ---- K1 (multi-α loss)
#include "multialpha_section.h"
// ---- end K1
// ---- K2 (zero-shot anchor) and K5 (scratch interpolation)
#include "anchor_section.h"
// ---- end K2/K5

void write_csv(const char* path) {
  FILE* f = std::fopen(path, "w");
  if (f == nullptr) {
    result(false, "writing CSV to %s: %s", path, std::strerror(errno));
    return;
  }
  std::fprintf(f, "kernel,device,n_models,mb,ms,gb_per_s,fraction_of_copy\n");
  for (const Row& r : g_rows) {  // n_models is empty for the copies
    const std::string models = r.n_models >= 0 ? std::to_string(r.n_models) : "";
    std::fprintf(f, "%s,%s,%s,%lld,%.4f,%.2f,%.4f\n", r.kernel.c_str(), r.device.c_str(), models.c_str(),
                 (long long)r.mb, r.ms, r.gbps, r.fraction);
  }
  const bool ok = std::fclose(f) == 0;
  result(ok, "timing rows written to %s", path);
}

// ---------------------------------------------------------------------------------------------- main

void print_cuda_status(bool* available) {
  int32_t runtime = 0, driver = 0;
  mt_cuda_versions(&runtime, &driver);
  const int32_t count = mt_cuda_device_count();
  *available = count > 0;
  std::printf("CUDA: built %s", mt_built_with_cuda() ? "with kernels for " : "without CUDA");
  if (mt_built_with_cuda()) std::printf("sm %s, runtime %d, driver %d", mt_cuda_architectures(), runtime, driver);
  std::printf("\n");
  if (!*available) {
    std::printf("CUDA: not available (%s)\n", mt_cuda_unavailable_reason());
    return;
  }
  for (int32_t d = 0; d < count; ++d) {
    char name[256];
    int64_t total = 0, free_bytes = 0;
    int32_t major = 0, minor = 0;
    const mt_status st = mt_cuda_device_info(d, name, sizeof(name), &total, &free_bytes, &major, &minor);
    if (st != MT_OK) {
      result(false, "cuda device %d info: %s", d, last_error(st).c_str());
      continue;
    }
    std::printf("CUDA: device %d: %s, sm_%d%d, %.1f GiB (%.1f GiB free)\n", d, name, major, minor,
                total / 1073741824.0, free_bytes / 1073741824.0);
  }
}

void time_all(bool cuda, int64_t kernel_mb) {
  std::printf("  %-18s %-6s %8s %6s %9s %9s %8s\n", "kernel", "device", "n_models", "MB", "ms", "GB/s", "of copy");
  for (const int64_t mb : {int64_t{64}, int64_t{256}}) time_cpu(mb);
  if (kernel_mb != 64 && kernel_mb != 256) time_cpu(kernel_mb);
  time_signmax(MT_DEVICE_CPU, kernel_mb);
  time_dare(MT_DEVICE_CPU, kernel_mb);
  time_ties(MT_DEVICE_CPU, kernel_mb);
  time_multialpha(MT_DEVICE_CPU);  // K1
  time_anchor(MT_DEVICE_CPU);  // K2/K5, at ViT-B/16 size
  if (cuda) {
    for (const int64_t mb : {int64_t{64}, int64_t{256}}) time_cuda(mb);
    if (kernel_mb != 64 && kernel_mb != 256) time_cuda(kernel_mb);
    time_signmax(MT_DEVICE_CUDA, kernel_mb);
    time_dare(MT_DEVICE_CUDA, kernel_mb);
    time_ties(MT_DEVICE_CUDA, kernel_mb);
    time_multialpha(MT_DEVICE_CUDA);  // K1
    time_anchor(MT_DEVICE_CUDA);  // K2/K5, at ViT-B/16 size
  } else {
    std::printf("  cuda: not available (%s)\n", mt_cuda_unavailable_reason());
  }
  if (const char* csv = std::getenv("MT_HARNESS_CSV"); csv != nullptr && csv[0] != '\0') write_csv(csv);
}

int harness(bool quick, bool timing_only, int64_t kernel_mb) {
  std::printf("mergetune harness (%s): libmergetune %s, %d CPU threads, CPU ISA %s\n",
              timing_only ? "timing only" : quick ? "quick" : "full", mt_version(), mt_get_num_threads(), mt_cpu_isa());
  bool cuda = false;
  print_cuda_status(&cuda);
  if (timing_only) {
    std::printf("\n== Timing (GB/s counts (n_models + 2) * 4 bytes per element; \"of copy\" is against the best copy)\n");
    time_all(cuda, kernel_mb);
    std::printf("\n%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
  }
  result((mt_cuda_device_count() > 0) == (mt_cuda_unavailable_reason()[0] == '\0'),
         "mt_cuda_unavailable_reason() is empty exactly when devices are present");

  // The problems: tiny, odd, many segments with empty ones, one wide enough to split over CPU threads, large.
  std::vector<Problem> problems;
  problems.push_back(make_problem("n=1", {1}, 11));
  problems.push_back(make_problem("n=7", {7}, 12));
  problems.push_back(make_problem("n=1000 in 3 segments", {0, 499, 501}, 13));
  const int64_t many = quick ? 200 : 1000;
  problems.push_back(
      make_problem(std::to_string(many) + " segments", random_lengths(many, quick ? 600 : 5000, 14), 15));
  problems.push_back(make_problem("1M in 3 segments", {(1 << 19) + 1, 5, (1 << 19) - 2}, 16));
  if (!quick) problems.push_back(make_problem("16M in 2 segments", {(1 << 23) + 3, (1 << 23) - 3}, 17));
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
  problems.clear();

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

  // ---- K1 (multi-α loss)
  std::printf("\n== K1 multi-alpha loss (CPU against multialpha_ref.h to %.0e, CUDA against the CPU to %.0e)\n",
              kMaTolerance, kMaCudaTolerance);
  check_multialpha(cuda, quick);
  // ---- end K1
  // ---- K2 (zero-shot anchor) and K5 (scratch interpolation)
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
  // ---- end K2/K5

  std::printf("\n== Timing (GB/s counts (n_models + 2) * 4 bytes per element; \"of copy\" is against the best copy)\n");
  if (quick) {
    std::printf("  skipped (--quick)\n");
  } else {
    time_all(cuda, kernel_mb);
  }

  std::printf("\n%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, timing_only = false;
  int64_t kernel_mb = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--timing-only") == 0) {
      timing_only = true;
    } else if (std::strcmp(argv[i], "--mb") == 0 && i + 1 < argc && std::atoll(argv[i + 1]) > 0) {
      kernel_mb = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick | --timing-only] [--mb N]\n"
                   "  --quick        small sizes, checks only\n"
                   "  --timing-only  no checks: the timing table alone\n"
                   "  --mb N         size of one array in the K3 unify and K4b timing runs (default 64)\n"
                   "  MT_HARNESS_CSV=path also writes the timing rows as CSV; MERGETUNE_CPU_ISA=generic times the\n"
                   "  portable CPU path\n",
                   argv[0]);
      return std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0 ? 0 : 2;
    }
  }
  if (quick && timing_only) {
    std::fprintf(stderr, "--quick and --timing-only exclude each other\n");
    return 2;
  }
  try {
    return harness(quick, timing_only, kernel_mb);
  } catch (const std::exception& e) {
    std::printf("harness aborted: %s\n%d passed, %d failed\n", e.what(), g_passed, g_failed + 1);
    return 1;
  }
}
