// The CUDA half of K2 and K5 for a library built without nvcc (MERGETUNE_WITHOUT_CUDA, set in
// cmake/CMakeLists.txt): every call reports MT_CUDA_UNAVAILABLE, as cuda_absent.cpp does for the other kernels.
#ifdef MERGETUNE_WITHOUT_CUDA
#include "anchor_internal.h"
#include "error.h"
#include "mergetune/device.h"
#include "scratch_interp_internal.h"

namespace {
mt_status unavailable() { return mt::fail(MT_CUDA_UNAVAILABLE, "%s", mt_cuda_unavailable_reason()); }
}  // namespace

namespace mt::cuda {
mt_status anchor_f32(void*, const AnchorArgs&, double*) { return unavailable(); }
mt_status anchor_feature_f32(void*, int64_t, int64_t, const float*, const float*, float, double*, float*, int32_t) {
  return unavailable();
}
mt_status scratch_interp_f32(void*, int64_t, const int64_t*, const float* const*, const float* const*, int32_t,
                             const float*, float* const*, int32_t) {
  return unavailable();
}
mt_status scratch_grad_accumulate_f32(void*, int64_t, const int64_t*, float* const*, int32_t, const float* const*,
                                      const float*, int32_t) {
  return unavailable();
}
}  // namespace mt::cuda
#endif
