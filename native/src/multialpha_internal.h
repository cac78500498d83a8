// Internal: K1 (multialpha.h) pieces shared by the entry points, the CPU kernel and the CUDA kernel.
#pragma once

#include <cmath>
#include <cstdint>
#include "mergetune/multialpha.h"

#ifdef __CUDACC__
#define MT_MA_FN __host__ __device__ __forceinline__
#else
#define MT_MA_FN inline
#endif

namespace mt {

// One call's arguments; n0 == NULL is plain mode.
struct MultiAlphaCall {
  int64_t rows, classes;
  const float *a, *d, *n0, *n1, *n2;
  const int32_t* labels;
  const float* targets;
  float smoothing;
  int32_t n_points;
  const float* alphas;   // host
  const float* weights;  // host
  float scale;
  float *losses, *total, *grad_a, *grad_d, *grad_n0, *grad_n1, *grad_n2;
  int32_t flags;
  bool kl_loss;  // mt_multialpha_kl_f32 (targets), else mt_multialpha_ce_f32 (labels)

  bool renorm() const { return n0 != nullptr; }
  bool kl() const { return kl_loss; }
  bool want_n() const { return renorm() && (grad_n0 != nullptr || grad_n1 != nullptr || grad_n2 != nullptr); }
};

// r = (n0 + 2α·n1 + α²·n2)^(-1/2) in double; false when the argument is not finite and positive.
MT_MA_FN bool multialpha_r(double n0, double n1, double n2, double alpha, double* r) {
  const double q = n0 + 2.0 * alpha * n1 + alpha * alpha * n2;
  if (!(q > 0.0 && q <= 1.7976931348623157e308)) return false;
  *r = 1.0 / sqrt(q);
  return true;
}

// The device-independent checks of multialpha.h (host-side data only).
mt_status validate_multialpha(int32_t device, const MultiAlphaCall& c);

namespace cpu {
mt_status multialpha_f32(const MultiAlphaCall& c);
}  // namespace cpu

}  // namespace mt
