// mt_gta_f32: validate once, then run the CPU or CUDA implementation (the maths: gta.h, gta_internal.h).
#include <cmath>

#include "error.h"
#include "gta_internal.h"
#include "mergetune/device.h"
#include "mergetune/gta.h"

extern "C" mt_status mt_gta_f32(int32_t device, void* stream, int64_t n, float* out, const float* base,
                                int32_t n_models, const float* const* models, const uint32_t* const* keep_bits,
                                const float* coefs, const float* weights, int32_t consensus, int32_t normalize,
                                float divisor, float lambda, int32_t flags) {
  using mt::fail;
  using mt::fail_at;
  mt::clear_error();
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n < 0) return fail(MT_INVALID_ARGUMENT, "n must be >= 0, got %lld", (long long)n);
  if (n_models < 1 || n_models > MT_GTA_MAX_MODELS) {
    return fail(MT_INVALID_ARGUMENT, "n_models must be in [1, %d], got %d", MT_GTA_MAX_MODELS, n_models);
  }
  if (consensus < MT_GTA_CONSENSUS_NONE || consensus > MT_GTA_CONSENSUS_COUNT) {
    return fail(MT_INVALID_ARGUMENT, "consensus must be MT_GTA_CONSENSUS_NONE, _SUM or _COUNT, got %d", consensus);
  }
  if (!std::isfinite(lambda)) return fail(MT_INVALID_ARGUMENT, "lambda is not finite");
  if (!std::isfinite(divisor) || divisor == 0.0f) return fail(MT_INVALID_ARGUMENT, "divisor must be finite and non-zero");
  if (models == nullptr || coefs == nullptr || weights == nullptr) {
    return fail(MT_INVALID_ARGUMENT, "models, coefs and weights must not be NULL");
  }
  if (n == 0) return MT_OK;
  if (out == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, 0, -1, "out is NULL");
  for (int32_t i = 0; i < n_models; ++i) {
    if (models[i] == nullptr) return fail_at(MT_INVALID_ARGUMENT, i, 0, -1, "model %d is NULL", i);
    if (!std::isfinite(coefs[i]) || !std::isfinite(weights[i])) {
      return fail(MT_INVALID_ARGUMENT, "coefs[%d] or weights[%d] is not finite", i, i);
    }
  }
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::gta_f32(stream, n, out, base, n_models, models, keep_bits, coefs, weights, consensus, normalize,
                             divisor, lambda, flags);
  }
  return mt::cpu::gta_f32(n, out, base, n_models, models, keep_bits, coefs, weights, consensus, normalize, divisor,
                          lambda, flags);
}
