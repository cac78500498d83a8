// K2 feature-space entry point: validate, then run the CPU or CUDA implementation.
#include <cmath>
#include <limits>

#include "anchor_internal.h"
#include "error.h"
#include "mergetune/device.h"

extern "C" mt_status mt_anchor_feature_f32(int32_t device, void* stream, int64_t n_classes, int64_t dim,
                                           const float* features, const float* targets, float lambda, double* value,
                                           float* grad_features, int32_t flags) {
  using mt::fail;
  mt::clear_error();
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n_classes < 1) return fail(MT_INVALID_ARGUMENT, "n_classes must be >= 1, got %lld", (long long)n_classes);
  if (dim < 1) return fail(MT_INVALID_ARGUMENT, "dim must be >= 1, got %lld", (long long)dim);
  if (n_classes > std::numeric_limits<int64_t>::max() / dim) {
    return fail(MT_INVALID_ARGUMENT, "n_classes * dim overflows int64");
  }
  if (features == nullptr) return fail(MT_INVALID_ARGUMENT, "features is NULL");
  if (targets == nullptr) return fail(MT_INVALID_ARGUMENT, "targets is NULL");
  if (value == nullptr) return fail(MT_INVALID_ARGUMENT, "value is NULL");
  if (!std::isfinite(lambda)) return fail(MT_INVALID_ARGUMENT, "lambda must be finite, got %g", lambda);
  if (grad_features != nullptr && (grad_features == features || grad_features == targets)) {
    return fail(MT_INVALID_ARGUMENT, "grad_features must not be the features or targets memory");
  }
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::anchor_feature_f32(stream, n_classes, dim, features, targets, lambda, value, grad_features, flags);
  }
  return mt::cpu::anchor_feature_f32(n_classes, dim, features, targets, lambda, value, grad_features, flags);
}
