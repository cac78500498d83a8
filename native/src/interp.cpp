// mt_interp_f32: validate once, then run the CPU or CUDA implementation.
#include "mergetune/device.h"
#include "mergetune/interp.h"

#include "cuda_backend.h"
#include "error.h"
#include "interp_cpu.h"
#include "interp_report.h"

extern "C" mt_status mt_interp_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                   float* const* out, const float* const* base, int32_t n_models,
                                   const float* const* models, const float* lambdas, int32_t flags) {
  mt::clear_error();
  const mt_status valid = mt::validate_interp(device, n_segments, lengths, out, base, n_models, models, lambdas);
  if (valid != MT_OK) return valid;
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::interp_f32(stream, n_segments, lengths, out, base, n_models, models, lambdas, flags);
  }
  return mt::cpu::interp_f32(n_segments, lengths, out, base, n_models, models, lambdas, flags);
}
