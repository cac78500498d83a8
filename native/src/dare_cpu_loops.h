// Internal: K4b's portable inner loops over one tile and one model (dare_cpu.cpp), in a header so the tests can
// hold them against their AVX2 twins (dare_cpu_isa.h) directly: the L1 lane sums never leave the library.
// Not to be included by an *_avx2.cpp file (see interp_cpu_avx2.cpp on inline functions there).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

namespace mt::cpu::generic {

// acc[k] = keep[k] ? acc[k] ⊕ (c ⊗ (m[k] ⊖ b[k])) : acc[k] for k < n; returns false when some m[k] is not finite.
inline bool dare_apply_model(float* __restrict__ acc, const float* __restrict__ m, const float* __restrict__ b,
                             const uint32_t* __restrict__ keep, float c, int64_t n) {
  int bad = 0;
  for (int64_t k = 0; k < n; ++k) {
    const float v = acc[k] + c * (m[k] - b[k]);
    acc[k] = keep[k] != 0 ? v : acc[k];
    bad |= !(std::fabs(m[k]) <= FLT_MAX);
  }
  return bad == 0;
}

// la[k % 8] += |m[k] − b[k]| and lk[k % 8] += keep[k] ? |m[k] − b[k]| : 0 in double, k = 0 .. n − 1 in order
// (δ in fp32, then widened).
inline void dare_stats_model(const float* __restrict__ m, const float* __restrict__ b,
                             const uint32_t* __restrict__ keep, int64_t n, double* lanes_abs, double* lanes_kept) {
  constexpr int kLanes = 8;
  double la[kLanes], lk[kLanes];
  for (int q = 0; q < kLanes; ++q) {
    la[q] = lanes_abs[q];
    lk[q] = lanes_kept[q];
  }
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    for (int q = 0; q < kLanes; ++q) {
      const double a = std::fabs(static_cast<double>(m[k + q] - b[k + q]));
      la[q] += a;
      lk[q] += keep[k + q] != 0 ? a : 0.0;
    }
  }
  for (; k < n; ++k) {
    const double a = std::fabs(static_cast<double>(m[k] - b[k]));
    la[k % kLanes] += a;
    lk[k % kLanes] += keep[k] != 0 ? a : 0.0;
  }
  for (int q = 0; q < kLanes; ++q) {
    lanes_abs[q] = la[q];
    lanes_kept[q] = lk[q];
  }
}

// L1's kept masks between its two passes, one bit per element (bit b of the buffer is bit b & 7 of byte b >> 3).
// Packs keep[0 .. n) (non-zero: kept) into bits [at, at + n); `at` is a multiple of 8 and the bytes are written
// whole (the last one's unused high bits zero).
inline void dare_pack_keep(const uint32_t* __restrict__ keep, int64_t n, uint8_t* __restrict__ bits, int64_t at) {
  uint8_t* __restrict__ p = bits + (at >> 3);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    unsigned byte = 0;
    for (int q = 0; q < 8; ++q) byte |= (keep[k + q] != 0 ? 1u : 0u) << q;
    *p++ = static_cast<uint8_t>(byte);
  }
  if (k < n) {
    unsigned byte = 0;
    for (int q = 0; k + q < n; ++q) byte |= (keep[k + q] != 0 ? 1u : 0u) << q;
    *p = static_cast<uint8_t>(byte);
  }
}

// keep[k] = bit at + k ? ~0u : 0u for k < n (any `at`).
inline void dare_unpack_keep(const uint8_t* __restrict__ bits, int64_t at, int64_t n, uint32_t* __restrict__ keep) {
  int64_t k = 0;
  for (; k < n && ((at + k) & 7) != 0; ++k) keep[k] = 0u - ((bits[(at + k) >> 3] >> ((at + k) & 7)) & 1u);
  const uint8_t* __restrict__ p = bits + ((at + k) >> 3);
  for (; k + 8 <= n; k += 8) {
    const unsigned byte = *p++;
    for (int q = 0; q < 8; ++q) keep[k + q] = 0u - ((byte >> q) & 1u);
  }
  for (; k < n; ++k) keep[k] = 0u - ((bits[(at + k) >> 3] >> ((at + k) & 7)) & 1u);
}

}  // namespace mt::cpu::generic
