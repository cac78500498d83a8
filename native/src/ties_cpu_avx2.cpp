// The AVX2 twin of K4c's tile loops: ties_cpu_loops.h compiled with -mavx2 (cmake/CMakeLists.txt). No FMA is
// enabled and contraction is off, so every product and sum is rounded as in the portable twin: the same bits.
#define MT_TIES_LOOPS_NS ties_avx2_loops
#include "ties_cpu_loops.h"

namespace mt::cpu::avx2 {
const TiesLoops ties_loops{ties_avx2_loops::accumulate, ties_avx2_loops::results, ties_avx2_loops::sign_sum,
                           ties_avx2_loops::level0_keys};
}  // namespace mt::cpu::avx2
