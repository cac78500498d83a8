// Internal: the tile loops of mt_gta_f32 on the CPU, included by gta_cpu.cpp (portable) and gta_cpu_avx2.cpp
// (compiled with -mavx2) inside their own namespaces, so the two twins are the same source. They compute
// gta_internal.h's expression element by element with the loops over the models outside the loops over a tile's
// elements (model-major: each inner loop vectorises), which changes no operation's order for any one element.
// Per element, the selects `agree ? x + wd : x` give exactly the branches of gta_element.
//
// MT_GTA_TILE_NS must be defined to the namespace name before inclusion.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "gta_internal.h"

namespace mt::cpu::MT_GTA_TILE_NS {

constexpr int64_t kGtaTile = 1024;  // elements per tile, a multiple of 32 (tiles start at multiples of 32)

// The keep flag of element j of the tile starting at t (t a multiple of 32).
static inline float gta_masked_delta(const uint32_t* bits, int64_t t, int64_t k, float m, float b) {
  const bool keep = bits == nullptr || ((bits[(t + k) >> 5] >> ((t + k) & 31)) & 1u) != 0;
  return keep ? m - b : 0.0f;
}

// out[t .. t + n) of one call; scratch holds 4·kGtaTile floats. Returns true when every input and result of the
// tile is finite (tested only when `check`).
static bool gta_tile(int64_t t, int64_t n, float* out, const float* base, int32_t n_models, const float* const* models,
                     const uint32_t* const* keep_bits, const float* coefs, const float* weights, int32_t consensus,
                     int32_t normalize, float divisor, float lambda, bool check, float* scratch) {
  float* __restrict__ mixed = scratch;
  float* __restrict__ total = scratch + kGtaTile;
  float* __restrict__ den = scratch + 2 * kGtaTile;
  float* __restrict__ bvals = scratch + 3 * kGtaTile;
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
      const float c = coefs[i];
      for (int64_t k = 0; k < n; ++k) mixed[k] = mixed[k] + c * gta_masked_delta(bits, t, k, m[k], bvals[k]);
    }
    for (int64_t k = 0; k < n; ++k) den[k] = divisor;
  } else {
    for (int64_t k = 0; k < n; ++k) total[k] = 0.0f;
    for (int32_t i = 0; i < n_models; ++i) {
      const float* __restrict__ m = models[i] + t;
      const uint32_t* bits = keep_bits == nullptr ? nullptr : keep_bits[i];
      const float c = coefs[i];
      if (consensus == MT_GTA_CONSENSUS_SUM) {
        for (int64_t k = 0; k < n; ++k) total[k] = total[k] + c * gta_masked_delta(bits, t, k, m[k], bvals[k]);
      } else {  // the vote count, held exactly in a float (|votes| <= 256)
        for (int64_t k = 0; k < n; ++k) {
          const float wd = c * gta_masked_delta(bits, t, k, m[k], bvals[k]);
          total[k] = total[k] + static_cast<float>((wd > 0.0f) - (wd < 0.0f));
        }
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      total[k] = total[k] >= 0.0f ? 1.0f : -1.0f;  // the elected sign
      den[k] = 0.0f;
    }
    for (int32_t i = 0; i < n_models; ++i) {
      const float* __restrict__ m = models[i] + t;
      const uint32_t* bits = keep_bits == nullptr ? nullptr : keep_bits[i];
      const float c = coefs[i], w = weights[i];
      for (int64_t k = 0; k < n; ++k) {
        const float wd = c * gta_masked_delta(bits, t, k, m[k], bvals[k]);
        const bool agree = (total[k] > 0.0f) ? (wd > 0.0f) : (wd < 0.0f);
        mixed[k] = agree ? mixed[k] + wd : mixed[k];
        den[k] = agree ? den[k] + w : den[k];
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
