// The CUDA half of the ABI for a library built without nvcc: everything reports MT_CUDA_UNAVAILABLE.
#include "cuda_backend.h"
#include "error.h"
#include "mergetune/device.h"

namespace {
constexpr const char* kReason = "libmergetune was built without CUDA (nvcc not found or MERGETUNE_CUDA=OFF)";
mt_status unavailable() { return mt::fail(MT_CUDA_UNAVAILABLE, "%s", kReason); }
}  // namespace

namespace mt::cuda {
mt_status interp_f32(void*, int64_t, const int64_t*, float* const*, const float* const*, int32_t,
                     const float* const*, const float*, int32_t) {
  return unavailable();
}
mt_status signmax_unify_f32(void*, int64_t, const int64_t*, const float* const*, int32_t, const float* const*,
                            float* const*, uint32_t* const*, double*, double*, int32_t) {
  return unavailable();
}
mt_status signmax_decouple_f32(void*, int64_t, const int64_t*, float* const*, const float* const*,
                               const float* const*, const uint32_t* const*, float, int32_t) {
  return unavailable();
}
mt_status dare_f32(void*, int64_t, const int64_t*, const uint64_t*, float* const*, const float* const*, int32_t,
                   const float* const*, const float*, uint32_t, uint64_t, int32_t, float, int32_t) {
  return unavailable();
}
mt_status ties_histogram_f32(void*, int64_t, const int64_t*, const float* const*, int32_t, const float* const*,
                             int32_t, const uint32_t*, int64_t*, int32_t) {
  return unavailable();
}
mt_status ties_tie_cutoffs_f32(void*, int64_t, const int64_t*, const float* const*, int32_t, const float* const*,
                               const uint32_t*, const int64_t*, int64_t*, int64_t*, int32_t) {
  return unavailable();
}
mt_status ties_sign_census_f32(void*, int64_t, const int64_t*, const float* const*, int32_t, const float* const*,
                               const uint32_t*, const int64_t*, const float*, int32_t, int64_t*, int32_t) {
  return unavailable();
}
mt_status ties_merge_f32(void*, int64_t, const int64_t*, float* const*, const float* const*, int32_t,
                         const float* const*, const uint32_t*, const int64_t*, const float*, int32_t, const float*,
                         int32_t, float, int32_t) {
  return unavailable();
}
// ---- K1 (multialpha.h)
mt_status multialpha_f32(void*, const MultiAlphaCall&) { return unavailable(); }
// ---- end K1
}  // namespace mt::cuda

extern "C" {
int32_t mt_built_with_cuda(void) { return 0; }
const char* mt_cuda_architectures(void) { return ""; }
int32_t mt_cuda_device_count(void) { return 0; }
const char* mt_cuda_unavailable_reason(void) { return kReason; }
mt_status mt_cuda_device_info(int32_t, char*, int32_t, int64_t*, int64_t*, int32_t*, int32_t*) { return unavailable(); }
mt_status mt_cuda_versions(int32_t* runtime_version, int32_t* driver_version) {
  if (runtime_version) *runtime_version = 0;
  if (driver_version) *driver_version = 0;
  return MT_OK;
}
mt_status mt_cuda_malloc(int64_t, void** ptr) {
  if (ptr) *ptr = nullptr;
  return unavailable();
}
mt_status mt_cuda_free(void* ptr) { return ptr == nullptr ? MT_OK : unavailable(); }
mt_status mt_cuda_memcpy(void*, const void*, int64_t, int32_t) { return unavailable(); }
mt_status mt_cuda_synchronize(void) { return unavailable(); }
}
