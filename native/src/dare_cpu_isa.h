// Internal: the AVX2 twins of K4b's CPU inner loops (dare_cpu_avx2.cpp, the one file compiled with -mavx2;
// dare_cpu.cpp calls them only when isa() is "avx2"). Each gives bit for bit what the portable loop it replaces
// gives.
#pragma once

#include <cstdint>

namespace mt::cpu::avx2 {

// Keep masks (~0u keep, 0 drop) of the 4 elements of each Philox block q0, q0 + 1, ..., q0 + nb − 1 (counter
// (q, c1, c2, c3), key (k0, k1), keep ⟺ (w >> 8) >= threshold), in element order: keep[4·b + w] for word w of
// block q0 + b. Blocks are made 8 at a time, so keep must hold 32·ceil(nb / 8) words. While it computes, it asks
// for the floats [pf[r], pf[r] + pf_n[r]) (r = 0, 1; pf[r] may be nullptr) to be brought into the cache: Philox
// touches no memory, so the hardware prefetchers would otherwise idle until the loop that reads them.
void dare_keep_blocks(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                      uint32_t threshold, uint32_t* keep, const float* const pf[2], const int64_t pf_n[2]);

// acc[k] = keep[k] ? acc[k] ⊕ (c ⊗ (m[k] ⊖ b[k])) : acc[k] for k < n; returns false when some m[k] is not finite.
bool dare_apply_model(float* acc, const float* m, const float* b, const uint32_t* keep, float c, int64_t n);

// la[k % 8] += |m[k] − b[k]| and lk[k % 8] += keep[k] ? |m[k] − b[k]| : 0 in double, k = 0 .. n − 1 in order
// (δ in fp32, then widened).
void dare_stats_model(const float* m, const float* b, const uint32_t* keep, int64_t n, double* la, double* lk);

// dst[k] = src[k] for k < n; with `stream`, the 32-byte-aligned middle of dst with non-temporal stores (then
// store_fence() before another thread may read dst).
void dare_store_tile(float* dst, const float* src, int64_t n, bool stream);

// The twins of generic::dare_pack_keep (keep words 0 or ~0u, as dare_keep_blocks makes them; `at` a multiple of 8)
// and generic::dare_unpack_keep: the same bits, the same words.
void dare_pack_keep(const uint32_t* keep, int64_t n, uint8_t* bits, int64_t at);
void dare_unpack_keep(const uint8_t* bits, int64_t at, int64_t n, uint32_t* keep);

}  // namespace mt::cpu::avx2

// The AVX-512 twins (dare_cpu_avx512.cpp; called only where cpu::use_avx512() holds). Masks travel as bits here: bit e
// of a mask stream is bit e & 7 of byte e >> 3 (uint64 words, little-endian), as in the L1 buffer.
namespace mt::cpu::avx512 {

// The keep bits of the 4 elements of each Philox block q0 .. q0 + nb − 1 (as avx2::dare_keep_blocks decides them):
// bit 4·b + w of the stream is word w of block q0 + b. Blocks are made 16 at a time: writes ceil(nb / 16) whole
// words (bits past the last block are those of the blocks after it). Prefetches as avx2::dare_keep_blocks.
void dare_keep_bits(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                    uint32_t threshold, uint64_t* bits, const float* const pf[2], const int64_t pf_n[2]);

// The Philox words themselves, in element order: words[4·b + w] = word w of block q0 + b; writes 64·ceil(nb / 16)
// words.
void dare_words(uint32_t q0, int64_t nb, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                uint32_t* words);

// The loops of dare_cpu_loops.h with keep[k] read as bit at + k of `bits` (which must be readable 4 bytes past the
// byte of the last bit used).
bool dare_apply_model(float* acc, const float* m, const float* b, const uint8_t* bits, int64_t at, float c,
                      int64_t n);
void dare_stats_model(const float* m, const float* b, const uint8_t* bits, int64_t at, int64_t n, double* la,
                      double* lk);

}  // namespace mt::cpu::avx512
