// The AVX-512 twin of K4c's tile loops: ties_cpu_loops.h compiled with -mavx512f/bw/dq/vl and 512-bit vectors
// preferred (cmake/CMakeLists.txt); called only where cpu::use_avx512() holds. No FMA is enabled and contraction
// is off, so every product and sum is rounded as in the portable twin: the same bits.
#define MT_TIES_LOOPS_NS ties_avx512_loops
#include "ties_cpu_loops.h"

namespace mt::cpu::avx512 {
const TiesLoops ties_loops{ties_avx512_loops::accumulate, ties_avx512_loops::results, ties_avx512_loops::sign_sum,
                           ties_avx512_loops::level0_keys};
}  // namespace mt::cpu::avx512
