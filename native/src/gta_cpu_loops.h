// Internal: the tile loops of mt_gta_f32 on the CPU, included by gta_cpu.cpp (portable) and gta_cpu_avx2.cpp
// (compiled with -mavx2) inside their own namespaces, so the two twins are the same source. They compute
// gta_internal.h's expression element by element with the loops over the models outside the loops over a tile's
// elements (model-major: each inner loop vectorises), which changes no operation's order for any one element.
// Per element, the selects `agree ? x + wd : x` give exactly the branches of gta_element.
//
// Keep bits: a model's 32-bit words over the tile are first expanded to one ~0u / 0 word per element (a word
// broadcast, AND with the lane's constant bit, compare: no variable shift), and the element loops read
// `keep ? m − b : +0` from that array, so every loop is a straight vector loop; a model without bits takes the
// same loops without the select (a template, so neither pays for the other).
//
// MT_GTA_TILE_NS must be defined to the namespace name before inclusion.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "gta_internal.h"

namespace mt::cpu::MT_GTA_TILE_NS {

constexpr int64_t kGtaTile = 1024;  // elements per tile, a multiple of 32 (tiles start at multiples of 32)

// keep[k] = bit t + k of bits ? ~0u : 0u for k < n rounded up to 32 (t a multiple of 32).
static inline void gta_expand_bits(const uint32_t* __restrict__ bits, int64_t t, int64_t n,
                                   uint32_t* __restrict__ keep) {
  const uint32_t* __restrict__ w = bits + (t >> 5);
  for (int64_t k0 = 0; k0 < n; k0 += 32) {
    const uint32_t word = w[k0 >> 5];
    for (int q = 0; q < 32; ++q) keep[k0 + q] = (word & (1u << q)) != 0 ? ~0u : 0u;
  }
}

// keep ? m − b : +0 (Masked), or m − b.
template <bool Masked>
static inline float gta_delta(const uint32_t* __restrict__ keep, int64_t k, float m, float b) {
  if constexpr (Masked) {
    return keep[k] != 0 ? m - b : 0.0f;
  } else {
    return m - b;
  }
}

// The three per-model loops of gta_tile (see there).
template <bool Masked>
static inline void gta_sum_model(float* __restrict__ acc, const float* __restrict__ m,
                                 const float* __restrict__ bvals, const uint32_t* __restrict__ keep, float c,
                                 int64_t n) {
  for (int64_t k = 0; k < n; ++k) acc[k] = acc[k] + c * gta_delta<Masked>(keep, k, m[k], bvals[k]);
}

template <bool Masked>
static inline void gta_vote_model(float* __restrict__ total, const float* __restrict__ m,
                                  const float* __restrict__ bvals, const uint32_t* __restrict__ keep, float c,
                                  int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    const float wd = c * gta_delta<Masked>(keep, k, m[k], bvals[k]);
    total[k] = total[k] + static_cast<float>((wd > 0.0f) - (wd < 0.0f));
  }
}

template <bool Masked>
static inline void gta_agree_model(float* __restrict__ mixed, float* __restrict__ den,
                                   const float* __restrict__ total, const float* __restrict__ m,
                                   const float* __restrict__ bvals, const uint32_t* __restrict__ keep, float c,
                                   float w, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    const float wd = c * gta_delta<Masked>(keep, k, m[k], bvals[k]);
    const bool pos = total[k] > 0.0f;  // (pos ? wd > 0 : wd < 0), without the branch
    const bool agree = (pos & (wd > 0.0f)) | (!pos & (wd < 0.0f));
    mixed[k] = agree ? mixed[k] + wd : mixed[k];
    den[k] = agree ? den[k] + w : den[k];
  }
}

// out[t .. t + n) of one call; scratch holds 5·kGtaTile floats. Returns true when every input and result of the
// tile is finite (tested only when `check`).
static bool gta_tile(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                     const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                     int32_t normalize, float divisor, float lambda, bool check, float* scratch) {
  float* __restrict__ mixed = scratch;
  float* __restrict__ total = scratch + kGtaTile;
  float* __restrict__ den = scratch + 2 * kGtaTile;
  float* __restrict__ bvals = scratch + 3 * kGtaTile;
  uint32_t* __restrict__ keep = reinterpret_cast<uint32_t*>(scratch + 4 * kGtaTile);
  if (base != nullptr) {
    std::memcpy(bvals, base + t, static_cast<size_t>(n) * sizeof(float));
  } else {
    for (int64_t k = 0; k < n; ++k) bvals[k] = 0.0f;
  }
  int bad = 0;
  for (int64_t k = 0; k < n; ++k) {
    mixed[k] = 0.0f;
    bad |= !(std::fabs(bvals[k]) <= 3.4028234663852886e38f);
  }
  for (int32_t i = 0; i < n_models; ++i) {
    const float* __restrict__ m = models[i] + t;
    for (int64_t k = 0; k < n; ++k) bad |= !(std::fabs(m[k]) <= 3.4028234663852886e38f);
  }
  if (consensus == MT_GTA_CONSENSUS_NONE) {
    for (int32_t i = 0; i < n_models; ++i) {
      const float* __restrict__ m = models[i] + t;
      const uint32_t* bits = keep_bits == nullptr ? nullptr : keep_bits[i];
      if (bits != nullptr) {
        gta_expand_bits(bits, t, n, keep);
        gta_sum_model<true>(mixed, m, bvals, keep, coefs[i], n);
      } else {
        gta_sum_model<false>(mixed, m, bvals, keep, coefs[i], n);
      }
    }
    for (int64_t k = 0; k < n; ++k) den[k] = divisor;
  } else {
    for (int64_t k = 0; k < n; ++k) total[k] = 0.0f;
    for (int32_t i = 0; i < n_models; ++i) {
      const float* __restrict__ m = models[i] + t;
      const uint32_t* bits = keep_bits == nullptr ? nullptr : keep_bits[i];
      const float c = coefs[i];
      if (bits != nullptr) gta_expand_bits(bits, t, n, keep);
      if (consensus == MT_GTA_CONSENSUS_SUM) {
        if (bits != nullptr) {
          gta_sum_model<true>(total, m, bvals, keep, c, n);
        } else {
          gta_sum_model<false>(total, m, bvals, keep, c, n);
        }
      } else if (bits != nullptr) {  // the vote count, held exactly in a float (|votes| <= 256)
        gta_vote_model<true>(total, m, bvals, keep, c, n);
      } else {
        gta_vote_model<false>(total, m, bvals, keep, c, n);
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      total[k] = total[k] >= 0.0f ? 1.0f : -1.0f;  // the elected sign
      den[k] = 0.0f;
    }
    for (int32_t i = 0; i < n_models; ++i) {
      const float* __restrict__ m = models[i] + t;
      const uint32_t* bits = keep_bits == nullptr ? nullptr : keep_bits[i];
      if (bits != nullptr) {
        gta_expand_bits(bits, t, n, keep);
        gta_agree_model<true>(mixed, den, total, m, bvals, keep, coefs[i], weights[i], n);
      } else {
        gta_agree_model<false>(mixed, den, total, m, bvals, keep, coefs[i], weights[i], n);
      }
    }
    for (int64_t k = 0; k < n; ++k) den[k] = den[k] == 0.0f ? 1.0f : den[k];
  }
  float* __restrict__ o = out + t;
  if (normalize != 0) {
    for (int64_t k = 0; k < n; ++k) mixed[k] = bvals[k] + lambda * (mixed[k] / den[k]);
  } else {
    for (int64_t k = 0; k < n; ++k) mixed[k] = bvals[k] + lambda * mixed[k];
  }
  if (check) {
    for (int64_t k = 0; k < n; ++k) bad |= !(std::fabs(mixed[k]) <= 3.4028234663852886e38f);
    if (bad) return false;
  }
  std::memcpy(o, mixed, static_cast<size_t>(n) * sizeof(float));
  return true;
}

}  // namespace mt::cpu::MT_GTA_TILE_NS
