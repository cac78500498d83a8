// Internal: the Philox4x32-10 block function (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC'11), shared by the CPU kernels (C++) and the CUDA kernels (__host__ __device__ under nvcc).
//
// One round maps the counter (c0, c1, c2, c3) under the round key (k0, k1) to
//     (hi(M1·c2) ^ c1 ^ k0,  lo(M1·c2),  hi(M0·c0) ^ c3 ^ k1,  lo(M0·c0))
// with M0 = 0xD2511F53, M1 = 0xCD9E8D57 (32×32 → 64-bit products); the key is bumped by the Weyl constants
// W0 = 0x9E3779B9, W1 = 0xBB67AE85 (mod 2^32) between rounds. Ten rounds; the result is the final counter.
// tests/test_dare.cpp checks it against the Random123 known-answer vectors.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define MT_PHILOX_FN __host__ __device__ __forceinline__
#else
#define MT_PHILOX_FN inline
#endif

namespace mt {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

// One round, in place on the four counter words.
MT_PHILOX_FN void philox4x32_round(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0,
                                   uint32_t k1) {
  const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c0;
  const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c2;
  const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
  const uint32_t n1 = static_cast<uint32_t>(p1);
  const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
  const uint32_t n3 = static_cast<uint32_t>(p0);
  c0 = n0;
  c1 = n1;
  c2 = n2;
  c3 = n3;
}

// Philox4x32-10 of the counter (c0..c3) under the key (k0, k1), in place: on return c0..c3 hold the block.
MT_PHILOX_FN void philox4x32_10(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0, uint32_t k1) {
#ifdef __CUDACC__
#pragma unroll
#endif
  for (int r = 0; r < 10; ++r) {
    philox4x32_round(c0, c1, c2, c3, k0, k1);
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

}  // namespace mt
