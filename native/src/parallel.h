// Internal: fork-join over a flat index range for the CPU kernels.
//
// std::thread rather than OpenMP: LibTorch brings its own OpenMP runtime into the same process, and a second one
// from us would fight it for the cores. Work is split only when each thread gets at least `min_per_thread`
// elements, so small calls stay on the caller's thread with no spawn cost.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace mt {

int32_t cpu_threads();

// Calls body(part, begin, end) over a partition of [0, total) into at most max_parts ordered parts (part 0 on the
// calling thread) and returns the number of parts used.
inline int32_t parallel_ranges(int64_t total, int64_t min_per_thread, int32_t max_parts,
                               const std::function<void(int32_t, int64_t, int64_t)>& body) {
  int64_t parts = std::max<int64_t>(1, std::min<int64_t>(max_parts, total / std::max<int64_t>(1, min_per_thread)));
  if (parts == 1) {
    body(0, 0, total);
    return 1;
  }
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  const int64_t step = (total + parts - 1) / parts;
  for (int64_t p = 1; p < parts; ++p) {
    const int64_t begin = std::min(total, p * step), end = std::min(total, begin + step);
    workers.emplace_back(body, static_cast<int32_t>(p), begin, end);
  }
  body(0, 0, std::min(total, step));
  for (auto& w : workers) w.join();
  return static_cast<int32_t>(parts);
}

}  // namespace mt
