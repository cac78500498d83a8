// mt_signmax_unify_f32 / mt_signmax_decouple_f32: validate once, then run the CPU or CUDA implementation; plus
// the argument checks and the non-finite reports both devices share.
#include <cmath>
#include <limits>

#include "cuda_backend.h"
#include "error.h"
#include "mergetune/device.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "mergetune/signmax.h"
#include "signmax_internal.h"

namespace mt {

namespace {
const char* describe(float v) { return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"); }

mt_status check_counts(int32_t device, int64_t n_segments) {
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n_segments < 0) return fail(MT_INVALID_ARGUMENT, "n_segments must be >= 0, got %lld", (long long)n_segments);
  return MT_OK;
}

mt_status check_length(int64_t s, int64_t n, int64_t* total) {
  if (n < 0) {
    return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1, "segment %lld has negative length %lld", (long long)s,
                   (long long)n);
  }
  if (n > std::numeric_limits<int64_t>::max() - *total) return fail(MT_INVALID_ARGUMENT, "total length overflows int64");
  *total += n;
  return MT_OK;
}
}  // namespace

mt_status validate_signmax_unify(int32_t device, int64_t n_segments, const int64_t* lengths,
                                 const float* const* theta0, int32_t n_tasks, const float* const* inputs,
                                 float* const* unified, uint32_t* const* masks) {
  mt_status st = check_counts(device, n_segments);
  if (st != MT_OK) return st;
  if (n_tasks < 1) return fail(MT_INVALID_ARGUMENT, "n_tasks must be >= 1, got %d", n_tasks);
  if (n_segments == 0) return MT_OK;
  if (lengths == nullptr) return fail(MT_INVALID_ARGUMENT, "lengths is NULL with n_segments = %lld", (long long)n_segments);
  if (inputs == nullptr) return fail(MT_INVALID_ARGUMENT, "inputs table is NULL with n_tasks = %d", n_tasks);
  if (unified == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, -1, -1, "unified table is NULL");
  if (masks == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, -1, -1, "masks table is NULL");
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    if ((st = check_length(s, n, &total)) != MT_OK) return st;
    if (n == 0) continue;
    const float* u = unified[s];
    if (u == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "unified segment %lld is NULL", (long long)s);
    if (theta0 != nullptr && theta0[s] == nullptr) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, s, -1, "theta0 segment %lld is NULL", (long long)s);
    }
    if (theta0 != nullptr && theta0[s] == u) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1,
                     "unified segment %lld is theta0's segment: unified may not alias an input", (long long)s);
    }
    for (int32_t i = 0; i < n_tasks; ++i) {
      const float* x = inputs[i * n_segments + s];
      if (x == nullptr) return fail_at(MT_INVALID_ARGUMENT, i, s, -1, "task %d segment %lld is NULL", i, (long long)s);
      if (x == u) {
        return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1,
                       "unified segment %lld is task %d's segment: unified may not alias an input", (long long)s, i);
      }
      if (masks[i * n_segments + s] == nullptr) {
        return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "masks of task %d, segment %lld is NULL", i,
                       (long long)s);
      }
    }
  }
  return MT_OK;
}

mt_status validate_signmax_decouple(int32_t device, int64_t n_segments, const int64_t* lengths, float* const* out,
                                    const float* const* theta0, const float* const* unified,
                                    const uint32_t* const* mask, float lambda) {
  mt_status st = check_counts(device, n_segments);
  if (st != MT_OK) return st;
  if (!std::isfinite(lambda)) return fail(MT_INVALID_ARGUMENT, "lambda is not finite");
  if (n_segments == 0) return MT_OK;
  if (lengths == nullptr) return fail(MT_INVALID_ARGUMENT, "lengths is NULL with n_segments = %lld", (long long)n_segments);
  if (out == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, -1, -1, "out table is NULL");
  if (theta0 == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, -1, -1, "theta0 table is NULL");
  if (unified == nullptr) return fail_at(MT_INVALID_ARGUMENT, 0, -1, -1, "unified table is NULL");
  if (mask == nullptr) return fail_at(MT_INVALID_ARGUMENT, 1, -1, -1, "mask table is NULL");
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    if ((st = check_length(s, n, &total)) != MT_OK) return st;
    if (n == 0) continue;
    if (out[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_OUTPUT, s, -1, "out segment %lld is NULL", (long long)s);
    if (theta0[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_BASE, s, -1, "theta0 segment %lld is NULL", (long long)s);
    if (unified[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, 0, s, -1, "unified segment %lld is NULL", (long long)s);
    if (mask[s] == nullptr) return fail_at(MT_INVALID_ARGUMENT, 1, s, -1, "mask segment %lld is NULL", (long long)s);
  }
  return MT_OK;
}

mt_status report_signmax_unify(int64_t segment, int64_t element, bool has_theta0, float theta0_value,
                               const float* inputs, int32_t n_tasks) {
  const long long s = segment, e = element;
  if (has_theta0 && !std::isfinite(theta0_value)) {
    return fail_at(MT_NON_FINITE, MT_INPUT_BASE, segment, element,
                   "non-finite value %s in theta0, segment %lld, element %lld", describe(theta0_value), s, e);
  }
  for (int32_t i = 0; i < n_tasks; ++i) {
    if (!std::isfinite(inputs[i])) {
      return fail_at(MT_NON_FINITE, i, segment, element, "non-finite value %s in %s %d, segment %lld, element %lld",
                     describe(inputs[i]), has_theta0 ? "model" : "delta", i, s, e);
    }
  }
  for (int32_t i = 0; i < n_tasks; ++i) {
    const float d = inputs[i] - theta0_value;
    if (!std::isfinite(d)) {
      return fail_at(MT_NON_FINITE, i, segment, element,
                     "delta of task %d (model - theta0) overflows fp32 to %s at segment %lld, element %lld", i,
                     describe(d), s, e);
    }
  }
  return fail(MT_INTERNAL, "unify reported a non-finite element at segment %lld, element %lld with finite deltas", s, e);
}

mt_status report_signmax_decouple(int64_t segment, int64_t element, float theta0_value, float unified_value,
                                  bool bit, float lambda) {
  const long long s = segment, e = element;
  if (!std::isfinite(theta0_value)) {
    return fail_at(MT_NON_FINITE, MT_INPUT_BASE, segment, element,
                   "non-finite value %s in theta0, segment %lld, element %lld", describe(theta0_value), s, e);
  }
  if (!std::isfinite(unified_value)) {
    return fail_at(MT_NON_FINITE, 0, segment, element, "non-finite value %s in unified, segment %lld, element %lld",
                   describe(unified_value), s, e);
  }
  const float r = signmax_decouple_one(theta0_value, unified_value, bit, lambda);
  return fail_at(MT_NON_FINITE, MT_INPUT_OUTPUT, segment, element,
                 "result %s at segment %lld, element %lld from finite inputs (fp32 overflow)", describe(r), s, e);
}

}  // namespace mt

extern "C" mt_status mt_signmax_unify_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                          const float* const* theta0, int32_t n_tasks, const float* const* inputs,
                                          float* const* unified, uint32_t* const* masks, double* sum_abs_delta,
                                          double* sum_abs_masked, int32_t flags) {
  mt::clear_error();
  const mt_status valid =
      mt::validate_signmax_unify(device, n_segments, lengths, theta0, n_tasks, inputs, unified, masks);
  if (valid != MT_OK) return valid;
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::signmax_unify_f32(stream, n_segments, lengths, theta0, n_tasks, inputs, unified, masks,
                                       sum_abs_delta, sum_abs_masked, flags);
  }
  return mt::cpu::signmax_unify_f32(n_segments, lengths, theta0, n_tasks, inputs, unified, masks, sum_abs_delta,
                                    sum_abs_masked, flags);
}

extern "C" mt_status mt_signmax_decouple_f32(int32_t device, void* stream, int64_t n_segments,
                                             const int64_t* lengths, float* const* out, const float* const* theta0,
                                             const float* const* unified, const uint32_t* const* mask, float lambda,
                                             int32_t flags) {
  mt::clear_error();
  const mt_status valid = mt::validate_signmax_decouple(device, n_segments, lengths, out, theta0, unified, mask, lambda);
  if (valid != MT_OK) return valid;
  if (device == MT_DEVICE_CUDA) {
    return mt::cuda::signmax_decouple_f32(stream, n_segments, lengths, out, theta0, unified, mask, lambda, flags);
  }
  return mt::cpu::signmax_decouple_f32(n_segments, lengths, out, theta0, unified, mask, lambda, flags);
}
