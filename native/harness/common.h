// The parts every kernel family of the check-and-time harness shares (main.cpp has the overview): the pass/fail
// bookkeeping, the test problems (flat parameter sets in segments), host/device buffers, and the timing rows.
#pragma once

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mergetune/mergetune.h"

namespace mt::harness {

// ---------------------------------------------------------------------------------------------- bookkeeping

extern int g_passed;
extern int g_failed;

// Counts one check and prints its line ("ok" or "FAIL").
__attribute__((format(printf, 2, 3))) void result(bool ok, const char* fmt, ...);

// Counts one check whose line the caller prints itself (a family's one line per problem).
inline void count(bool ok) { (ok ? g_passed : g_failed)++; }

const char* device_name(int32_t device);
std::string last_error(mt_status st);

constexpr double kTolerance = 1e-6;       // interp_ref.h: covers the fp32 bound for up to 14 models
constexpr double kCpuTolerance = 2e-6;    // two results each within kTolerance of the exact value

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
Problem make_problem(const std::string& name, const std::vector<int64_t>& lengths, uint64_t seed);

// `count` segment lengths up to max_len, about 10% of them empty.
std::vector<int64_t> random_lengths(int64_t count, int64_t max_len, uint64_t seed);

// The problems K4a and K3 are checked on: tiny, odd, many segments with empty ones, one wide enough to split over
// CPU threads ([4]), large (full run only). [3] has the many segments.
std::vector<Problem> standard_problems(bool quick);
int64_t many_segments_count(bool quick);

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

inline const char* alias_name(Alias a) { return a == Alias::base ? "out=base" : a == Alias::model ? "out=model" : ""; }

struct Call {
  std::vector<float*> out;
  std::vector<const float*> base;
  std::vector<const float*> models;
  int32_t aliased_model = -1;
};

// Segment tables over the buffers; with an alias, out's buffer (already holding a copy of that input) replaces it.
Call make_call(const Problem& p, Buffers& b, int32_t n_models, Alias alias);

// Fills out for a call: NaN (so a skipped element fails the comparison), or a copy of the aliased input.
bool prepare_out(const Problem& p, Buffers& b, int32_t n_models, Alias alias);

// Raw memory on one device (host, or mt_cuda_malloc): floats and mask words alike.
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

// ---------------------------------------------------------------------------------------------- timing

struct Row {
  std::string kernel, device;
  int32_t n_models;
  int64_t mb;
  double ms, gbps, fraction;
};
extern std::vector<Row> g_rows;

// Prints a timing row and keeps it for the CSV.
void print_row(const Row& r);

// Median of `samples` timings of f (seconds each).
template <class F>
double median_seconds(int samples, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < samples; ++i) t.push_back(f());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void parallel_copy(float* dst, const float* src, int64_t n, int32_t threads);

// The best plain copy already timed on this device (at `mb` MB, or any size when mb < 0); 0 when none was.
double best_copy_gbps(int32_t device, int64_t mb);

constexpr int kSamples = 5;
constexpr int kCudaBatch = 10;  // calls per CUDA sample, between two synchronisations

}  // namespace mt::harness
