// K2 weight-space entry points: validate once, round the hyper-parameters as LibTorch does, then run the CPU or
// CUDA implementation. Also the block layout, the lane tree and the non-finite report both devices share.
#include <algorithm>
#include <cmath>
#include <limits>

#include "anchor_internal.h"
#include "error.h"
#include "mergetune/device.h"

namespace mt {

std::vector<AnchorBlock> anchor_blocks(int64_t n_segments, const int64_t* lengths) {
  std::vector<AnchorBlock> blocks;
  int64_t flat = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    for (int64_t at = 0; at < lengths[s]; at += kAnchorBlock) {
      blocks.push_back(AnchorBlock{s, at, flat + at, std::min(kAnchorBlock, lengths[s] - at)});
    }
    flat += lengths[s];
  }
  return blocks;
}

double anchor_tree_sum(double* lanes) {
  for (int s = kAnchorLanes / 2; s > 0; s >>= 1) {
    for (int t = 0; t < s; ++t) lanes[t] += lanes[t + s];
  }
  return lanes[0];
}

namespace {

const char* describe(float v) { return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"); }

const char* input_name(AnchorOp op, int k) {
  switch (k) {
    case MT_ANCHOR_INPUT_W: return "w";
    case MT_ANCHOR_INPUT_W1: return "w1";
    case MT_ANCHOR_INPUT_GRAD: return "grad";
    case MT_ANCHOR_INPUT_STATE0: return op == AnchorOp::kSgd ? "momentum_buf" : "exp_avg";
    default: return "exp_avg_sq";
  }
}

bool finite(double v) { return std::isfinite(v); }

mt_status validate_tables(int32_t device, int64_t n_segments, const int64_t* lengths,
                          const void* const* const* tables, const char* const* names, int n_tables) {
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n_segments < 0) return fail(MT_INVALID_ARGUMENT, "n_segments must be >= 0, got %lld", (long long)n_segments);
  if (n_segments == 0) return MT_OK;
  if (lengths == nullptr) return fail(MT_INVALID_ARGUMENT, "lengths is NULL with n_segments = %lld", (long long)n_segments);
  for (int k = 0; k < n_tables; ++k) {
    if (tables[k] == nullptr) return fail_at(MT_INVALID_ARGUMENT, k, -1, -1, "%s table is NULL", names[k]);
  }
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    const int64_t n = lengths[s];
    if (n < 0) {
      return fail_at(MT_INVALID_ARGUMENT, MT_INPUT_NONE, s, -1, "segment %lld has negative length %lld", (long long)s,
                     (long long)n);
    }
    if (n > std::numeric_limits<int64_t>::max() - total) return fail(MT_INVALID_ARGUMENT, "total length overflows int64");
    total += n;
    if (n == 0) continue;
    for (int k = 0; k < n_tables; ++k) {
      const void* p = tables[k][s];
      if (p == nullptr) {
        return fail_at(MT_INVALID_ARGUMENT, k, s, -1, "%s segment %lld is NULL", names[k], (long long)s);
      }
      for (int j = 0; j < k; ++j) {
        if (tables[j][s] == p) {
          return fail_at(MT_INVALID_ARGUMENT, k, s, -1, "%s and %s segment %lld are the same memory (not allowed)",
                         names[j], names[k], (long long)s);
        }
      }
    }
  }
  return MT_OK;
}

mt_status run(int32_t device, void* stream, const AnchorArgs& a, double* value) {
  if (device == MT_DEVICE_CUDA) return cuda::anchor_f32(stream, a, value);
  return cpu::anchor_f32(a, value);
}

}  // namespace

mt_status report_anchor_non_finite(AnchorOp op, int64_t segment, int64_t element, const float* values,
                                   const bool* present) {
  for (int k = 0; k <= MT_ANCHOR_INPUT_STATE1; ++k) {
    if (present[k] && !std::isfinite(values[k])) {
      return fail_at(MT_NON_FINITE, k, segment, element, "non-finite value %s in %s, segment %lld, element %lld",
                     describe(values[k]), input_name(op, k), (long long)segment, (long long)element);
    }
  }
  return fail_at(MT_NON_FINITE, MT_INPUT_OUTPUT, segment, element,
                 "non-finite result at segment %lld, element %lld from finite inputs (fp32 overflow or 0/0)",
                 (long long)segment, (long long)element);
}

}  // namespace mt

using mt::AnchorArgs;
using mt::AnchorOp;
using mt::fail;

extern "C" mt_status mt_anchor_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                   const float* const* w, const float* const* w1, float* const* grad, float lambda,
                                   double* value, int32_t flags) {
  mt::clear_error();
  const void* const* tables[] = {reinterpret_cast<const void* const*>(w), reinterpret_cast<const void* const*>(w1),
                                 reinterpret_cast<const void* const*>(grad)};
  const char* names[] = {"w", "w1", "grad"};
  mt_status st = mt::validate_tables(device, n_segments, lengths, tables, names, grad != nullptr ? 3 : 2);
  if (st != MT_OK) return st;
  if (!std::isfinite(lambda)) return fail(MT_INVALID_ARGUMENT, "lambda must be finite, got %g", lambda);
  AnchorArgs a;
  a.op = AnchorOp::kValueGrad;
  a.n_segments = n_segments;
  a.lengths = lengths;
  a.w = const_cast<float* const*>(w);  // not written by this op
  a.w1 = w1;
  a.grad = grad;
  a.lambda = lambda;
  a.check = (flags & MT_CHECK_FINITE) != 0;
  return mt::run(device, stream, a, value);
}

extern "C" mt_status mt_anchor_sgd_step_f32(int32_t device, void* stream, int64_t n_segments, const int64_t* lengths,
                                            float* const* w, const float* const* w1, const float* const* grad,
                                            float* const* momentum_buf, float lambda, double lr, double momentum,
                                            double dampening, double weight_decay, int32_t nesterov,
                                            int32_t first_step, double* value, int32_t flags) {
  mt::clear_error();
  const void* const* tables[] = {reinterpret_cast<const void* const*>(w), reinterpret_cast<const void* const*>(w1),
                                 reinterpret_cast<const void* const*>(grad),
                                 reinterpret_cast<const void* const*>(momentum_buf)};
  const char* names[] = {"w", "w1", "grad", "momentum_buf"};
  mt_status st = mt::validate_tables(device, n_segments, lengths, tables, names, momentum != 0 ? 4 : 3);
  if (st != MT_OK) return st;
  if (!std::isfinite(lambda)) return fail(MT_INVALID_ARGUMENT, "lambda must be finite, got %g", lambda);
  // LibTorch's SGDOptions checks
  if (!(lr >= 0) || !mt::finite(lr)) return fail(MT_INVALID_ARGUMENT, "lr must be finite and >= 0, got %g", lr);
  if (!(momentum >= 0) || !mt::finite(momentum)) return fail(MT_INVALID_ARGUMENT, "momentum must be finite and >= 0, got %g", momentum);
  if (!(weight_decay >= 0) || !mt::finite(weight_decay)) return fail(MT_INVALID_ARGUMENT, "weight_decay must be finite and >= 0, got %g", weight_decay);
  if (!mt::finite(dampening)) return fail(MT_INVALID_ARGUMENT, "dampening must be finite, got %g", dampening);
  if (nesterov && (momentum <= 0 || dampening != 0)) {
    return fail(MT_INVALID_ARGUMENT, "nesterov momentum requires a momentum > 0 and zero dampening");
  }
  AnchorArgs a;
  a.op = AnchorOp::kSgd;
  a.n_segments = n_segments;
  a.lengths = lengths;
  a.w = w;
  a.w1 = w1;
  a.grad = const_cast<float* const*>(grad);  // read only in the steps
  a.state0 = momentum != 0 ? momentum_buf : nullptr;
  a.lambda = lambda;
  a.neg_lr = static_cast<float>(-1 * lr);
  a.momentum = static_cast<float>(momentum);
  a.one_minus_dampening = static_cast<float>(1 - dampening);
  a.weight_decay = static_cast<float>(weight_decay);
  a.use_momentum = momentum != 0;
  a.use_weight_decay = weight_decay != 0;
  a.nesterov = nesterov != 0;
  a.first_step = first_step != 0;
  a.check = (flags & MT_CHECK_FINITE) != 0;
  return mt::run(device, stream, a, value);
}

extern "C" mt_status mt_anchor_adamw_step_f32(int32_t device, void* stream, int64_t n_segments,
                                              const int64_t* lengths, float* const* w, const float* const* w1,
                                              const float* const* grad, float* const* exp_avg,
                                              float* const* exp_avg_sq, float lambda, double lr, double beta1,
                                              double beta2, double eps, double weight_decay, int64_t step,
                                              double* value, int32_t flags) {
  mt::clear_error();
  const void* const* tables[] = {reinterpret_cast<const void* const*>(w), reinterpret_cast<const void* const*>(w1),
                                 reinterpret_cast<const void* const*>(grad),
                                 reinterpret_cast<const void* const*>(exp_avg),
                                 reinterpret_cast<const void* const*>(exp_avg_sq)};
  const char* names[] = {"w", "w1", "grad", "exp_avg", "exp_avg_sq"};
  mt_status st = mt::validate_tables(device, n_segments, lengths, tables, names, 5);
  if (st != MT_OK) return st;
  if (!std::isfinite(lambda)) return fail(MT_INVALID_ARGUMENT, "lambda must be finite, got %g", lambda);
  // LibTorch's AdamWOptions checks
  if (!(lr >= 0) || !mt::finite(lr)) return fail(MT_INVALID_ARGUMENT, "lr must be finite and >= 0, got %g", lr);
  if (!(beta1 >= 0 && beta1 < 1)) return fail(MT_INVALID_ARGUMENT, "beta1 must be in [0, 1), got %g", beta1);
  if (!(beta2 >= 0 && beta2 < 1)) return fail(MT_INVALID_ARGUMENT, "beta2 must be in [0, 1), got %g", beta2);
  if (!(eps >= 0) || !mt::finite(eps)) return fail(MT_INVALID_ARGUMENT, "eps must be finite and >= 0, got %g", eps);
  if (!(weight_decay >= 0) || !mt::finite(weight_decay)) return fail(MT_INVALID_ARGUMENT, "weight_decay must be finite and >= 0, got %g", weight_decay);
  if (step < 1) return fail(MT_INVALID_ARGUMENT, "step must be >= 1 (the count after this step), got %lld", (long long)step);
  const double t = static_cast<double>(step);
  const double bc1 = 1 - std::pow(beta1, t), bc2 = 1 - std::pow(beta2, t);
  AnchorArgs a;
  a.op = AnchorOp::kAdamW;
  a.n_segments = n_segments;
  a.lengths = lengths;
  a.w = w;
  a.w1 = w1;
  a.grad = const_cast<float* const*>(grad);
  a.state0 = exp_avg;
  a.state1 = exp_avg_sq;
  a.lambda = lambda;
  a.use_weight_decay = weight_decay != 0;
  a.decay = static_cast<float>(1 - lr * weight_decay);
  a.beta1 = static_cast<float>(beta1);
  a.one_minus_beta1 = static_cast<float>(1 - beta1);
  a.beta2 = static_cast<float>(beta2);
  a.one_minus_beta2 = static_cast<float>(1 - beta2);
  a.sqrt_bc2 = static_cast<float>(std::sqrt(bc2));
  a.eps = static_cast<float>(eps);
  a.neg_step_size = static_cast<float>(-(lr / bc1));
  a.check = (flags & MT_CHECK_FINITE) != 0;
  return mt::run(device, stream, a, value);
}
