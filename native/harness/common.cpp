// Definitions of common.h: bookkeeping, problems, calls and timing rows shared by every kernel family.
#include "common.h"

#include <cstdarg>
#include <thread>

namespace mt::harness {

int g_passed = 0;
int g_failed = 0;
std::vector<Row> g_rows;

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

int64_t many_segments_count(bool quick) { return quick ? 200 : 1000; }

std::vector<Problem> standard_problems(bool quick) {
  std::vector<Problem> problems;
  problems.push_back(make_problem("n=1", {1}, 11));
  problems.push_back(make_problem("n=7", {7}, 12));
  problems.push_back(make_problem("n=1000 in 3 segments", {0, 499, 501}, 13));
  const int64_t many = many_segments_count(quick);
  problems.push_back(
      make_problem(std::to_string(many) + " segments", random_lengths(many, quick ? 600 : 5000, 14), 15));
  problems.push_back(make_problem("1M in 3 segments", {(1 << 19) + 1, 5, (1 << 19) - 2}, 16));
  if (!quick) problems.push_back(make_problem("16M in 2 segments", {(1 << 23) + 3, (1 << 23) - 3}, 17));
  return problems;
}

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

// Fills out for a call: NaN (so a skipped element fails the comparison), or a copy of the aliased input.
bool prepare_out(const Problem& p, Buffers& b, int32_t n_models, Alias alias) {
  if (alias == Alias::none) {
    const std::vector<float> nan(p.total, std::numeric_limits<float>::quiet_NaN());
    return b.write(b.out(), nan.data(), p.total);
  }
  const std::vector<float>& src = alias == Alias::base ? p.base : p.models[n_models / 2];
  return b.write(b.out(), src.data(), p.total);
}

void print_row(const Row& r) {
  char models[16] = "-";
  if (r.n_models >= 0) std::snprintf(models, sizeof(models), "%d", r.n_models);
  std::printf("  %-18s %-6s %8s %6lld %9.3f %9.1f %8.2f\n", r.kernel.c_str(), r.device.c_str(), models,
              (long long)r.mb, r.ms, r.gbps, r.fraction);
  std::fflush(stdout);
  g_rows.push_back(r);
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

double best_copy_gbps(int32_t device, int64_t mb) {
  double best = 0;
  for (const Row& r : g_rows) {
    if (r.device == device_name(device) && r.n_models < 0 && (mb < 0 || r.mb == mb)) best = std::max(best, r.gbps);
  }
  return best;
}

}  // namespace mt::harness
