// The CUDA half of mt_gta_f32 for a library built without nvcc (MERGETUNE_WITHOUT_CUDA): MT_CUDA_UNAVAILABLE.
#ifdef MERGETUNE_WITHOUT_CUDA
#include "error.h"
#include "gta_internal.h"
#include "mergetune/device.h"

namespace mt::cuda {
mt_status gta_f32(void*, int64_t, float*, const float*, int32_t, const float* const*, const uint32_t* const*,
                  const float*, const float*, int32_t, int32_t, float, float, int32_t) {
  return fail(MT_CUDA_UNAVAILABLE, "%s", mt_cuda_unavailable_reason());
}
}  // namespace mt::cuda
#endif
