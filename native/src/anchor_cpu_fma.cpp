// The K2 weight-space loops with FMA instructions (-mavx2 -mfma -ffp-contract=off, set in cmake/CMakeLists.txt):
// std::fma becomes one instruction and the loops vectorise; chosen at run time on CPUs with AVX2 and FMA.
#define MT_ANCHOR_LOOPS_NS fma
#include "anchor_cpu_loops.h"
