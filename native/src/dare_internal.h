// Internal: K4b (mt_dare_f32) pieces shared by the public entry point, the CPU kernels and the CUDA kernels.
//
// The one float expression of K4b, identical on both devices (each operation rounded, no FMA):
//
//     c_i,s = λ_i ⊗ r_i,s                           (once per model and segment, on the host or in one thread)
//     acc   = base
//     acc   = keep_i,s(j) ? acc ⊕ (c_i,s ⊗ (m_i − base)) : acc        for i = 0, 1, ... in order
//
// so a dropped element contributes nothing (not even a signed zero), and with drop_rate 0 and r = 1 the result
// is K4a's acc ⊕ (λ_i ⊗ (m_i − base)) bit for bit. keep is (w >> 8) >= ceil(drop_rate·2^24), the integer form of
// (w >> 8)·2^-24 >= drop_rate (exact: w >> 8 is an integer, drop_rate·2^24 is exact in double).
//
// L1 sums: both devices cut every segment into chunks that start at multiples of 4 elements inside the segment
// (so one Philox block never straddles two chunks) and add per-chunk partials in chunk order, so the sums do not
// depend on the CPU thread count; CPU and CUDA chunk differently, so their sums agree to rounding only.
#pragma once

#include <cmath>
#include <cstdint>
#include "mergetune/dare.h"

#ifdef __CUDACC__
#define MT_DARE_FN __host__ __device__ __forceinline__
#else
#define MT_DARE_FN inline
#endif

namespace mt {

// ceil(drop_rate·2^24), in [0, 2^24) for drop_rate in [0, 1).
inline uint32_t dare_keep_threshold(float drop_rate) {
  return static_cast<uint32_t>(std::ceil(static_cast<double>(drop_rate) * 16777216.0));
}

MT_DARE_FN bool dare_keep(uint32_t word, uint32_t threshold) { return (word >> 8) >= threshold; }

// r of MT_DARE_RESCALE_L1 from the segment's Σ|δ| and Σ|keep·δ| (double, correctly rounded division, then one
// rounding to float); 0 when nothing is kept.
MT_DARE_FN float dare_l1_rescale(double sum_abs, double sum_kept) {
  return sum_kept == 0.0 ? 0.0f : static_cast<float>(sum_abs / sum_kept);
}

// The r of NONE and INVERSE (one float for the whole call), and 1 for L1 (unused there).
inline float dare_uniform_rescale(int32_t rescale, float drop_rate) {
  return rescale == MT_DARE_RESCALE_INVERSE ? 1.0f / (1.0f - drop_rate) : 1.0f;
}

// Segments longer than this would wrap the 32-bit block counter j / 4 and repeat masks.
constexpr int64_t kDareMaxSegment = int64_t{1} << 34;

// Checks the arguments of mt_dare_f32 that do not depend on the device.
mt_status validate_dare(int32_t device, int64_t n_segments, const int64_t* lengths, const uint64_t* tensor_keys,
                        float* const* out, const float* const* base, int32_t n_models, const float* const* models,
                        const float* lambdas, float drop_rate, int32_t rescale);

namespace cpu {
// `scale` is dare_uniform_rescale(rescale, drop_rate); `threshold` dare_keep_threshold(drop_rate).
mt_status dare_f32(int64_t n_segments, const int64_t* lengths, const uint64_t* tensor_keys, float* const* out,
                   const float* const* base, int32_t n_models, const float* const* models, const float* lambdas,
                   uint32_t threshold, uint64_t seed, int32_t rescale, float scale, int32_t flags);
// DARE's keep bits of elements 0 .. n − 1 of one segment and model (counter (j / 4, model, key lo, key hi), key
// the seed; keep ⟺ (w >> 8) >= threshold) into bits (bit j of word j >> 5, ceil(n / 32) words, the last one's
// bits past n zero), on every thread, with the fastest Philox twin the CPU has: the masks of mt_dare_f32.
// DARE's Philox words of elements j0 .. j0 + n − 1 (j0 a multiple of 4) in element order: words[k] is the word of
// element j0 + k. words must hold 64·ceil(ceil(n / 4) / 16) words (whole sets of 16 blocks are written).
void dare_words(uint32_t model, uint64_t key, uint64_t seed, int64_t j0, int64_t n, uint32_t* words);
void dare_mask_bits(uint32_t model, uint64_t key, uint64_t seed, uint32_t threshold, int64_t n, uint32_t* bits);
}  // namespace cpu

}  // namespace mt
