// Library identity, the CPU kernels' instruction set and CPU threading (mt_version, mt_set_cpu_isa,
// mt_set_num_threads).
#include <atomic>
#include <thread>

#include "cpu_isa.h"
#include "error.h"
#include "mergetune/device.h"
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
mt_status mt_set_cpu_isa(const char* isa) {
  if (mt::cpu::set_isa(isa)) {
    mt::clear_error();
    return MT_OK;
  }
  return mt::fail(MT_INVALID_ARGUMENT, "CPU ISA must be \"generic\", \"avx2\" (on a CPU with AVX2) or empty, got \"%s\"",
                  isa);
}
void mt_set_num_threads(int32_t n) { g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }
int32_t mt_get_num_threads(void) { return mt::cpu_threads(); }
}
