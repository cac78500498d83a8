// Internal: the run-time choice between the portable CPU kernels and their AVX2 twins (*_avx2.cpp).
#pragma once

#include <cstdint>

namespace mt::cpu {

// Outputs at least this large are written with non-temporal stores by the AVX2 paths: they would only evict the
// inputs from cache, and streaming skips the read-for-ownership of every output line (measured ~20% faster at
// 64 MB for K4a).
constexpr int64_t kStreamBytes = int64_t{8} << 20;

// "avx2" when the CPU has it (and MERGETUNE_CPU_ISA is not "generic"), else "generic". Decided once, unless
// set_isa (mt_set_cpu_isa) overrides it.
const char* isa();
// "generic", "avx2" (only where the CPU has it) or nullptr / "" for the default; false when refused.
bool set_isa(const char* name);

// True when the DARE / GTA-mask kernels may run their AVX-512 twins (*_avx512.cpp): isa() is "avx2", the CPU has
// AVX-512 F, BW, DQ, VL and BMI2, MERGETUNE_CPU_ISA is not "avx2" (read once) and set_avx512(false) was not called.
bool use_avx512();
// false: AVX2 / portable paths only; true: the default. False when refused (no AVX-512 on this CPU).
bool set_avx512(bool enable);

namespace avx2 {
// sfence: non-temporal stores are weakly ordered, so a thread that streamed calls this before it is joined.
void store_fence();
}  // namespace avx2

}  // namespace mt::cpu
