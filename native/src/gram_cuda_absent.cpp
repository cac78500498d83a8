// The CUDA half of mt_gram_f32 for a library built without nvcc (MERGETUNE_WITHOUT_CUDA): MT_CUDA_UNAVAILABLE.
#ifdef MERGETUNE_WITHOUT_CUDA
#include "error.h"
#include "gram_internal.h"
#include "mergetune/device.h"

namespace mt::cuda {
mt_status gram_f32(void*, int64_t, const float*, int32_t, const float* const*, double*, int32_t) {
  return fail(MT_CUDA_UNAVAILABLE, "%s", mt_cuda_unavailable_reason());
}
}  // namespace mt::cuda
#endif
