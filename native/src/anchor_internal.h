// Internal: what the K2 entry points (anchor.cpp), the CPU loops (anchor_cpu*.cpp) and the CUDA kernels
// (cuda-kernels/anchor.cu) share: the call's arguments with the hyper-parameters already rounded to float as
// LibTorch rounds them, the fixed block layout of the deterministic sums, validation and the non-finite report.
#pragma once

#include <cstdint>
#include <vector>

#include "mergetune/anchor.h"

namespace mt {

enum class AnchorOp : int32_t { kValueGrad = 0, kSgd = 1, kAdamW = 2 };

constexpr int kAnchorLanes = 256;  // lanes of a block sum (= CUDA threads per block)
constexpr int64_t kAnchorBlock = MT_ANCHOR_BLOCK;

struct AnchorArgs {
  AnchorOp op = AnchorOp::kValueGrad;
  int64_t n_segments = 0;
  const int64_t* lengths = nullptr;
  float* const* w = nullptr;           // written by the steps only
  const float* const* w1 = nullptr;
  float* const* grad = nullptr;        // kValueGrad: accumulated into (or NULL); the steps: read only
  float* const* state0 = nullptr;      // SGD momentum buffer (NULL without momentum), AdamW exp_avg
  float* const* state1 = nullptr;      // AdamW exp_avg_sq
  float lambda = 0;
  // SGD, as ATen sees the Scalars
  float neg_lr = 0, momentum = 0, one_minus_dampening = 1, weight_decay = 0;
  int32_t use_momentum = 0, use_weight_decay = 0, nesterov = 0, first_step = 0;
  // AdamW
  float decay = 1, beta1 = 0, one_minus_beta1 = 1, beta2 = 0, one_minus_beta2 = 1, sqrt_bc2 = 1, eps = 0,
        neg_step_size = 0;
  int32_t check = 0;
};

// One block of a segment: the unit of the deterministic sum (one CUDA block, one CPU work item).
struct AnchorBlock {
  int64_t segment;
  int64_t start;  // inside the segment, a multiple of kAnchorBlock
  int64_t flat;   // the same element's index in the concatenation of the segments
  int64_t len;
};
std::vector<AnchorBlock> anchor_blocks(int64_t n_segments, const int64_t* lengths);

// The sum of the lanes in the fixed tree (lane t += lane t + s, s = 128 .. 1); `lanes` is overwritten.
double anchor_tree_sum(double* lanes);

// Names the first non-finite input of (segment, element) among those the call read (present[k], in the order of
// MT_ANCHOR_INPUT_*), or the result; sets the error and returns MT_NON_FINITE.
mt_status report_anchor_non_finite(AnchorOp op, int64_t segment, int64_t element, const float* values,
                                   const bool* present);

namespace cpu {
// Arguments validated; *value (may be NULL) gets R.
mt_status anchor_f32(const AnchorArgs& a, double* value);
mt_status anchor_feature_f32(int64_t n_classes, int64_t dim, const float* features, const float* targets,
                             float lambda, double* value, float* grad_features, int32_t flags);
// The loops over one block, compiled twice (anchor_cpu_loops.h): portable, and with FMA instructions.
namespace generic {
double anchor_block(const AnchorArgs& a, const AnchorBlock& b, int64_t* first_bad);
}
namespace fma {
double anchor_block(const AnchorArgs& a, const AnchorBlock& b, int64_t* first_bad);
}
}  // namespace cpu

namespace cuda {
mt_status anchor_f32(void* stream, const AnchorArgs& a, double* value);
mt_status anchor_feature_f32(void* stream, int64_t n_classes, int64_t dim, const float* features,
                             const float* targets, float lambda, double* value, float* grad_features, int32_t flags);
}  // namespace cuda

// Feature space, per row c, shared by the CPU and CUDA paths (the host finishes both the same way).
struct FeatureRow {
  double dot, nf2, nz2;  // ⟨F, z⟩, |F|², |z|²
};
// cos_c of a row, or a NaN when a norm is zero (the caller reports it).
inline double feature_cos(const FeatureRow& r) {
  const double nf = __builtin_sqrt(r.nf2), nz = __builtin_sqrt(r.nz2);
  return r.dot / (nf * nz);
}

}  // namespace mt
