// The run-time switch for the AVX-512 twins of the DARE / GTA-mask kernels (cpu_isa.h): on only where the CPU has
// every extension those files are compiled for (cmake: -mavx512f -mavx512bw -mavx512dq -mavx512vl -mbmi2), and
// only on top of the AVX2 choice, so MERGETUNE_CPU_ISA=generic / mt_set_cpu_isa("generic") turn it off as well.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "cpu_isa.h"
#include "error.h"
#include "mergetune/device.h"

namespace mt::cpu {

namespace {
std::atomic<bool> g_avx512_off{false};

bool cpu_has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("bmi2");
  return yes;
}

bool env_allows() {
  static const bool yes = [] {
    const char* forced = std::getenv("MERGETUNE_CPU_ISA");
    return forced == nullptr || std::strcmp(forced, "avx2") != 0;
  }();
  return yes;
}
}  // namespace

bool use_avx512() {
  return !g_avx512_off.load(std::memory_order_relaxed) && cpu_has_avx512() && env_allows() &&
         std::strcmp(isa(), "avx2") == 0;
}

bool set_avx512(bool enable) {
  if (enable && !cpu_has_avx512()) return false;
  g_avx512_off.store(!enable, std::memory_order_relaxed);
  return true;
}

}  // namespace mt::cpu

extern "C" int32_t mt_cpu_avx512(void) { return mt::cpu::use_avx512() ? 1 : 0; }

extern "C" mt_status mt_set_cpu_avx512(int32_t enable) {
  mt::clear_error();
  if (enable != 0 && enable != 1) return mt::fail(MT_INVALID_ARGUMENT, "enable must be 0 or 1, got %d", enable);
  if (!mt::cpu::set_avx512(enable == 1)) {
    return mt::fail(MT_INVALID_ARGUMENT, "this CPU lacks AVX-512 F/BW/DQ/VL or BMI2: cannot enable the AVX-512 paths");
  }
  return MT_OK;
}
