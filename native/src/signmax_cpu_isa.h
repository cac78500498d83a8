// Internal: the tile of K3's CPU unify pass and its AVX2 twin (signmax_cpu_avx2.cpp, the one file compiled with
// -mavx2; signmax_cpu.cpp calls it only when isa() is "avx2").
#pragma once

#include <cstdint>

namespace mt::cpu {

constexpr int64_t kSignmaxTile = 1024;  // elements per unify tile (a multiple of 32)
constexpr int kSignmaxLanes = 8;        // double lanes per rescaler sum (lane = element mod 8)

namespace avx2 {
// One unify tile of n <= kSignmaxTile elements that starts at a multiple of 32 in its segment, bit for bit what
// signmax_cpu.cpp's portable UnifyTile::run computes: x[i] / z (nullptr without θ0) point at the tile's first
// element, u and m[i] at its U and first mask word. lanes_abs / lanes_masked (n_tasks · kSignmaxLanes each, or
// both nullptr for no sums) are added to in the same order. Scratch: sign and umax (kSignmaxTile floats), words
// (n_tasks · kSignmaxTile / 32). With `stream`, the 32-byte-aligned part of U is written with non-temporal stores
// (store_fence() before the thread is joined). Returns the first element whose delta sum is non-finite (with
// `check`) before anything of the tile is written, else -1.
int64_t signmax_unify_tile(int32_t n_tasks, const float* const* x, const float* z, float* u, uint32_t* const* m,
                           int64_t n, bool check, bool stream, double* lanes_abs, double* lanes_masked, float* sign,
                           float* umax, uint32_t* words);
}  // namespace avx2

}  // namespace mt::cpu
