// mt_multialpha_ce_f32 / mt_multialpha_kl_f32: validate the host-side arguments once, then run the CPU or CUDA
// implementation (multialpha_cpu.cpp, cuda-kernels/multialpha.cu).
#include <cmath>

#include "cuda_backend.h"
#include "error.h"
#include "mergetune/device.h"
#include "multialpha_internal.h"

namespace mt {

mt_status validate_multialpha(int32_t device, const MultiAlphaCall& c) {
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (c.rows < 1 || c.classes < 1) {
    return fail(MT_INVALID_ARGUMENT, "rows and classes must be >= 1, got rows = %lld, classes = %lld",
                (long long)c.rows, (long long)c.classes);
  }
  if (c.rows > (int64_t{1} << 40) / c.classes) {
    return fail(MT_INVALID_ARGUMENT, "rows·classes = %lld·%lld is too large", (long long)c.rows,
                (long long)c.classes);
  }
  if (c.n_points < 1 || c.n_points > MT_MULTIALPHA_MAX_POINTS) {
    return fail(MT_INVALID_ARGUMENT, "n_points must be in [1, %d], got %d", MT_MULTIALPHA_MAX_POINTS, c.n_points);
  }
  if (c.a == nullptr || c.d == nullptr) return fail(MT_INVALID_ARGUMENT, "a and d must not be NULL");
  if (c.kl() ? c.targets == nullptr : c.labels == nullptr) {
    return fail(MT_INVALID_ARGUMENT, "%s must not be NULL", c.kl() ? "targets" : "labels");
  }
  const int given = (c.n0 != nullptr) + (c.n1 != nullptr) + (c.n2 != nullptr);
  if (given != 0 && given != 3) {
    return fail(MT_INVALID_ARGUMENT,
                "n0, n1 and n2 must all be given (re-normalised mode) or all be NULL (plain mode); %d of 3 given",
                given);
  }
  if (given == 0 && (c.grad_n0 != nullptr || c.grad_n1 != nullptr || c.grad_n2 != nullptr)) {
    return fail(MT_INVALID_ARGUMENT, "grad_n0, grad_n1 and grad_n2 must be NULL in plain mode (n0 = n1 = n2 = NULL)");
  }
  if (c.alphas == nullptr || c.weights == nullptr) {
    return fail(MT_INVALID_ARGUMENT, "alphas and weights must not be NULL");
  }
  for (int32_t k = 0; k < c.n_points; ++k) {
    if (!std::isfinite(c.alphas[k]) || !std::isfinite(c.weights[k])) {
      return fail(MT_INVALID_ARGUMENT, "alphas[%d] = %g and weights[%d] = %g must be finite", k,
                  static_cast<double>(c.alphas[k]), k, static_cast<double>(c.weights[k]));
    }
  }
  if (!std::isfinite(c.scale)) {
    return fail(MT_INVALID_ARGUMENT, "scale must be finite, got %g", static_cast<double>(c.scale));
  }
  if (!c.kl() && !(c.smoothing >= 0.0f && c.smoothing < 1.0f)) {  // also rejects NaN
    return fail(MT_INVALID_ARGUMENT, "smoothing must be in [0, 1), got %g", static_cast<double>(c.smoothing));
  }
  return MT_OK;
}

}  // namespace mt

namespace {

mt_status run(int32_t device, void* stream, const mt::MultiAlphaCall& c) {
  mt::clear_error();
  const mt_status valid = mt::validate_multialpha(device, c);
  if (valid != MT_OK) return valid;
  if (device == MT_DEVICE_CUDA) return mt::cuda::multialpha_f32(stream, c);
  return mt::cpu::multialpha_f32(c);
}

}  // namespace

extern "C" mt_status mt_multialpha_ce_f32(int32_t device, void* stream, int64_t rows, int64_t classes, const float* a,
                                          const float* d, const float* n0, const float* n1, const float* n2,
                                          const int32_t* labels, float smoothing, int32_t n_points,
                                          const float* alphas, const float* weights, float scale, float* losses,
                                          float* total, float* grad_a, float* grad_d, float* grad_n0, float* grad_n1,
                                          float* grad_n2, int32_t flags) {
  const mt::MultiAlphaCall c{rows,      classes, a,      d,     n0,    n1,     n2,     labels,  nullptr,
                             smoothing, n_points, alphas, weights, scale, losses, total, grad_a, grad_d,
                             grad_n0,   grad_n1, grad_n2, flags,  false};
  return run(device, stream, c);
}

extern "C" mt_status mt_multialpha_kl_f32(int32_t device, void* stream, int64_t rows, int64_t classes, const float* a,
                                          const float* d, const float* n0, const float* n1, const float* n2,
                                          const float* targets, int32_t n_points, const float* alphas,
                                          const float* weights, float scale, float* losses, float* total,
                                          float* grad_a, float* grad_d, float* grad_n0, float* grad_n1,
                                          float* grad_n2, int32_t flags) {
  const mt::MultiAlphaCall c{rows, classes,  a,      d,       n0,    n1,     n2,    nullptr, targets,
                             0.0f, n_points, alphas, weights, scale, losses, total, grad_a,  grad_d,
                             grad_n0, grad_n1, grad_n2, flags, true};
  return run(device, stream, c);
}
