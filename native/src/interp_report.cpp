// Argument validation and non-finite reporting for mt_interp_f32, shared by the CPU and CUDA paths.
#include "interp_report.h"

#include <cmath>
#include <limits>

#include "error.h"
#include "mergetune/device.h"

namespace mt {

namespace {
const char* describe(float v) { return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"); }
}  // namespace

mt_status report_non_finite(int64_t segment, int64_t element, float base_value, const float* model_values,
                            int32_t n_models, float out_value) {
  if (!std::isfinite(base_value)) {
    return fail_at(MT_NON_FINITE, MT_INPUT_BASE, segment, element,
                   "non-finite value %s in base, segment %lld, element %lld", describe(base_value),
                   static_cast<long long>(segment), static_cast<long long>(element));
  }
  for (int32_t i = 0; i < n_models; ++i) {
    if (!std::isfinite(model_values[i])) {
      return fail_at(MT_NON_FINITE, i, segment, element, "non-finite value %s in model %d, segment %lld, element %lld",
                     describe(model_values[i]), i, static_cast<long long>(segment),
                     static_cast<long long>(element));
    }
  }
  return fail_at(MT_NON_FINITE, MT_INPUT_OUTPUT, segment, element,
                 "result %s at segment %lld, element %lld from finite inputs (fp32 overflow)", describe(out_value),
                 static_cast<long long>(segment), static_cast<long long>(element));
}

mt_status validate_interp(int32_t device, int64_t n_segments, const int64_t* lengths, float* const* out,
                          const float* const* base, int32_t n_models, const float* const* models,
                          const float* lambdas) {
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n_segments < 0) return fail(MT_INVALID_ARGUMENT, "n_segments must be >= 0, got %lld", (long long)n_segments);
  if (n_models < 0) return fail(MT_INVALID_ARGUMENT, "n_models must be >= 0, got %d", n_models);
  if (n_segments == 0) return MT_OK;
  if (lengths == nullptr) return fail(MT_INVALID_ARGUMENT, "lengths is NULL with n_segments = %lld", (long long)n_segments);
  if (out == nullptr) return fail(MT_INVALID_ARGUMENT, "out table is NULL");
  if (base == nullptr) return fail(MT_INVALID_ARGUMENT, "base table is NULL");
  if (n_models > 0 && models == nullptr) return fail(MT_INVALID_ARGUMENT, "models table is NULL with n_models = %d", n_models);
  if (n_models > 0 && lambdas == nullptr) return fail(MT_INVALID_ARGUMENT, "lambdas is NULL with n_models = %d", n_models);
  for (int32_t i = 0; i < n_models; ++i) {
    if (!std::isfinite(lambdas[i])) {
      return fail_at(MT_INVALID_ARGUMENT, i, -1, -1, "lambda of model %d is not finite", i);
    }
  }
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    if (n < 0) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1, "segment %lld has negative length %lld", (long long)s, (long long)n);
    if (n > std::numeric_limits<int64_t>::max() - total) return fail(MT_INVALID_ARGUMENT, "total length overflows int64");
    total += n;
    if (n == 0) continue;
    if (out[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "out segment %lld is NULL", (long long)s);
    if (base[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, s, -1, "base segment %lld is NULL", (long long)s);
    for (int32_t i = 0; i < n_models; ++i) {
      if (models[i * n_segments + s] == nullptr) {
        return fail_at(MT_INVALID_ARGUMENT, i, s, -1, "model %d segment %lld is NULL", i, (long long)s);
      }
    }
  }
  return MT_OK;
}

}  // namespace mt
