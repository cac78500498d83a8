// Library identity and CPU threading (mt_version, mt_set_num_threads).
#include <atomic>
#include <thread>

#include "mergetune/device.h"
#include "interp_cpu_isa.h"
#include "parallel.h"

#ifndef MERGETUNE_VERSION
#define MERGETUNE_VERSION "unknown"
#endif

namespace {
std::atomic<int32_t> g_threads{0};

int32_t default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int32_t>(n);
}
}  // namespace

namespace mt {
int32_t cpu_threads() {
  const int32_t n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : default_threads();
}
}  // namespace mt

extern "C" {
const char* mt_version(void) { return MERGETUNE_VERSION; }
const char* mt_cpu_isa(void) { return mt::cpu::isa(); }
void mt_set_num_threads(int32_t n) { g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }
int32_t mt_get_num_threads(void) { return mt::cpu_threads(); }
}
