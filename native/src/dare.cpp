// mt_dare_f32: validate once, then run the CPU or CUDA implementation; plus mt_philox4x32_10 and the argument
// checks. The float expression both devices compute is described in dare_internal.h.
#include <cmath>

#include "cuda_backend.h"
#include "dare_internal.h"
#include "error.h"
#include "interp_report.h"
#include "mergetune/dare.h"
#include "mergetune/device.h"
#include "philox.h"

namespace mt {

mt_status validate_dare(int32_t device, int64_t n_segments, const int64_t* lengths, const uint64_t* tensor_keys,
                        float* const* out, const float* const* base, int32_t n_models, const float* const* models,
                        const float* lambdas, float drop_rate, int32_t rescale) {
  // The tables, counts and lambdas are K4a's: the same checks and messages.
  const mt_status tables = validate_interp(device, n_segments, lengths, out, base, n_models, models, lambdas);
  if (tables != MT_OK) return tables;
  if (!(drop_rate >= 0.0f && drop_rate < 1.0f)) {  // also rejects NaN
    return fail(MT_INVALID_ARGUMENT, "drop_rate must be finite and in [0, 1), got %g", static_cast<double>(drop_rate));
  }
  if (rescale != MT_DARE_RESCALE_NONE && rescale != MT_DARE_RESCALE_INVERSE && rescale != MT_DARE_RESCALE_L1) {
    return fail(MT_INVALID_ARGUMENT,
                "rescale must be MT_DARE_RESCALE_NONE (0), MT_DARE_RESCALE_INVERSE (1) or MT_DARE_RESCALE_L1 (2), "
                "got %d",
                rescale);
  }
  if (n_segments == 0) return MT_OK;
  if (tensor_keys == nullptr) {
    return fail(MT_INVALID_ARGUMENT, "tensor_keys is NULL with n_segments = %lld", (long long)n_segments);
  }
  for (int64_t s = 0; s < n_segments; ++s) {
    if (lengths[s] > kDareMaxSegment) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1,
                     "segment %lld has %lld elements: DARE masks allow at most 2^34 per segment (32-bit block counter)",
                     (long long)s, (long long)lengths[s]);
    }
  }
  return MT_OK;
}

}  // namespace mt

extern "C" mt_status mt_dare_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                 const uint64_t* tensor_keys, float* const* out, const float* const* base,
                                 int32_t n_models, const float* const* models, const float* lambdas, float drop_rate,
                                 uint64_t seed, int32_t rescale, int32_t flags) {
  mt::clear_error();
  const mt_status valid = mt::validate_dare(device, n_segments, lengths, tensor_keys, out, base, n_models, models,
                                            lambdas, drop_rate, rescale);
  if (valid != MT_OK) return valid;
  const uint32_t threshold = mt::dare_keep_threshold(drop_rate);
  const float scale = mt::dare_uniform_rescale(rescale, drop_rate);  // computed once, here, for both devices
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::dare_f32(stream, n_segments, lengths, tensor_keys, out, base, n_models, models, lambdas,
                              threshold, seed, rescale, scale, flags);
  }
  return mt::cpu::dare_f32(n_segments, lengths, tensor_keys, out, base, n_models, models, lambdas, threshold, seed,
                           rescale, scale, flags);
}

extern "C" void mt_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  mt::philox4x32_10(c0, c1, c2, c3, key[0], key[1]);
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}
