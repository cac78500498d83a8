// Internal: the run-time choice between the portable CPU kernels and their AVX2 twins (*_avx2.cpp).
#pragma once

namespace mt::cpu {

// "avx2" when the CPU has it (and MERGETUNE_CPU_ISA is not "generic"), else "generic". Decided once, unless
// set_isa (mt_set_cpu_isa) overrides it.
const char* isa();
// "generic", "avx2" (only where the CPU has it) or nullptr / "" for the default; false when refused.
bool set_isa(const char* name);

}  // namespace mt::cpu
