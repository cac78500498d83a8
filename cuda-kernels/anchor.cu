// K2 on CUDA: the weight-space anchor (value + gradient, fused SGD and AdamW steps) and the feature-space anchor.
//
// Weight space: the host cuts the segments into the fixed blocks of anchor_blocks (MT_ANCHOR_BLOCK elements from
// each segment's start) and uploads one packed table (pointer tables, block list); one CUDA block of 256 threads
// per anchor block, thread t handling elements t, t + 256, ... of it. Every operation is the CPU's, in the CPU's
// order, with explicit rounding intrinsics (no FMA contraction; each fma of anchor.h is __fmaf_rn), and the double
// (w − w1)² of thread t is lane t of the CPU's lane sums, reduced in the same tree (block_sum): the outputs and the
// value are bit-identical to the CPU's. The block sums go to a device array that the host adds in block order.
//
// MT_CHECK_FINITE: as on the CPU, an element with a non-finite output is not stored and its flat index goes into
// an integer atomicMin; after one stream sync the host reads that element's (intact) inputs back and names the
// culprit with the CPU's report. A call with neither the check nor a value is asynchronous on the stream.
//
// Feature space: one CUDA block per class row, the three double sums (⟨F, z⟩, |F|², |z|²) in the lanes and tree
// of the CPU, then every thread writes its entries of dR/dF; the host reads the row sums back and finishes the
// value in row order, as the CPU does.
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "anchor_internal.h"
#include "common.cuh"
#include "error.h"
#include "staging.cuh"

namespace mt::cuda {

mt_status require_device();  // device.cu

namespace {

constexpr int kThreads = kAnchorLanes;
static_assert(kThreads == 256, "the lanes of the CPU sums are the threads of a block");
constexpr int kPer = static_cast<int>(kAnchorBlock / kThreads);
constexpr unsigned long long kNoBad = ~0ull;

__device__ __forceinline__ bool fin(float v) { return fabsf(v) <= FLT_MAX; }
__device__ __forceinline__ bool fin(double v) { return fabs(v) <= DBL_MAX; }

struct Params {
  AnchorArgs a;  // its tables point to device copies
  const AnchorBlock* blocks;
  double* partials;
  unsigned long long* first_bad;
};

template <AnchorOp kOp, bool kCheck, bool kGrad>
__global__ void __launch_bounds__(kThreads) anchor_kernel(const Params p) {
  __shared__ double red[kThreads];
  const AnchorBlock b = p.blocks[blockIdx.x];
  const AnchorArgs& a = p.a;
  float* w = a.w[b.segment] + b.start;
  const float* w1 = a.w1[b.segment] + b.start;
  float* g = kGrad ? a.grad[b.segment] + b.start : nullptr;
  float* s0 = a.state0 != nullptr ? a.state0[b.segment] + b.start : nullptr;
  float* s1 = a.state1 != nullptr ? a.state1[b.segment] + b.start : nullptr;
  double acc = 0.0;
  unsigned long long bad = kNoBad;
#pragma unroll 4
  for (int k = 0; k < kPer; ++k) {
    const int64_t i = threadIdx.x + int64_t{kThreads} * k;
    if (i >= b.len) break;
    const float wv = w[i], w1v = w1[i];
    const double dd = __dsub_rn(static_cast<double>(wv), static_cast<double>(w1v));
    acc = __dadd_rn(acc, __dmul_rn(dd, dd));
    const float d = __fsub_rn(wv, w1v);
    bool ok = true;
    if (kOp == AnchorOp::kValueGrad) {
      if (kGrad) {
        const float gv = g[i];
        const float gn = __fmaf_rn(d, a.lambda, gv);
        ok = fin(dd) && fin(gn);
        if (!kCheck || ok) g[i] = gn;
      } else {
        ok = fin(dd);
      }
    } else if (kOp == AnchorOp::kSgd) {
      float ge = __fmaf_rn(d, a.lambda, g[i]);
      if (a.use_weight_decay) ge = __fmaf_rn(wv, a.weight_decay, ge);
      float bn = 0.0f;
      if (a.use_momentum) {
        bn = a.first_step ? ge : __fmaf_rn(ge, a.one_minus_dampening, __fmul_rn(s0[i], a.momentum));
        ge = a.nesterov ? __fmaf_rn(bn, a.momentum, ge) : bn;
      }
      const float wn = __fmaf_rn(ge, a.neg_lr, wv);
      ok = !kCheck || (fin(dd) && fin(wn) && (!a.use_momentum || fin(bn)));
      if (ok) {
        w[i] = wn;
        if (a.use_momentum) s0[i] = bn;
      }
    } else {
      const float ge = __fmaf_rn(d, a.lambda, g[i]);
      const float wd = a.use_weight_decay ? __fmul_rn(wv, a.decay) : wv;
      const float mn = __fmaf_rn(ge, a.one_minus_beta1, __fmul_rn(s0[i], a.beta1));
      const float vn = __fadd_rn(__fmul_rn(s1[i], a.beta2), __fmul_rn(__fmul_rn(a.one_minus_beta2, ge), ge));
      const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vn), a.sqrt_bc2), a.eps);
      const float wn = __fadd_rn(wd, __fdiv_rn(__fmul_rn(a.neg_step_size, mn), denom));
      ok = !kCheck || (fin(dd) && fin(wn) && fin(mn) && fin(vn));
      if (ok) {
        w[i] = wn;
        s0[i] = mn;
        s1[i] = vn;
      }
    }
    if (kCheck && !ok) bad = min(bad, static_cast<unsigned long long>(b.flat + i));
  }
  if (kCheck && bad != kNoBad) atomicMin(p.first_bad, bad);
  if (p.partials == nullptr) return;
  const double total = block_sum<kThreads>(acc, red);
  if (threadIdx.x == 0) p.partials[blockIdx.x] = total;
}

template <AnchorOp kOp, bool kGrad>
const void* pick_check(bool check) {
  return check ? reinterpret_cast<const void*>(&anchor_kernel<kOp, true, kGrad>)
               : reinterpret_cast<const void*>(&anchor_kernel<kOp, false, kGrad>);
}

const void* kernel_for(const AnchorArgs& a) {
  const bool c = a.check != 0;
  switch (a.op) {
    case AnchorOp::kSgd: return pick_check<AnchorOp::kSgd, false>(c);
    case AnchorOp::kAdamW: return pick_check<AnchorOp::kAdamW, false>(c);
    default:
      return a.grad != nullptr ? pick_check<AnchorOp::kValueGrad, true>(c) : pick_check<AnchorOp::kValueGrad, false>(c);
  }
}

const char* table_name(AnchorOp op, int k) {
  static const char* const names[] = {"w", "w1", "grad", "momentum_buf", "exp_avg", "exp_avg_sq"};
  if (k == MT_ANCHOR_INPUT_STATE0 && op != AnchorOp::kSgd) return names[4];
  if (k == MT_ANCHOR_INPUT_STATE1) return names[5];
  return names[k];
}

// The guard of common.cuh's check_pointer, with the anchor's input numbering and names.
mt_status check_table(const void* ptr, int32_t input, const char* name, int64_t segment, int device) {
  cudaPointerAttributes attr{};
  const cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
  if (e != cudaSuccess) return fail_cuda(e, "cudaPointerGetAttributes");
  if (attr.type == cudaMemoryTypeManaged || (attr.type == cudaMemoryTypeDevice && attr.device == device)) return MT_OK;
  if (attr.type == cudaMemoryTypeDevice) {
    return fail_at(MT_INVALID_ARGUMENT, input, segment, -1,
                   "%s segment %lld is memory of CUDA device %d, but the current device is %d", name,
                   (long long)segment, attr.device, device);
  }
  return fail_at(MT_INVALID_ARGUMENT, input, segment, -1,
                 "%s segment %lld is host memory, not CUDA device or managed memory (MT_DEVICE_CUDA needs device "
                 "pointers)", name, (long long)segment);
}

}  // namespace

mt_status anchor_f32(void* stream_handle, const AnchorArgs& a, double* value) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const std::vector<AnchorBlock> blocks = anchor_blocks(a.n_segments, a.lengths);
  if (blocks.empty()) {
    if (value != nullptr) *value = 0.0;
    return MT_OK;
  }
  if (blocks.size() > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");
  const size_t S = static_cast<size_t>(a.n_segments), B = blocks.size();
  const int64_t first = blocks.front().segment;
  float* const* tables[5] = {a.w, const_cast<float* const*>(a.w1), a.grad, a.state0, a.state1};

  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  for (int k = 0; k < 5; ++k) {
    if (tables[k] == nullptr) continue;
    const mt_status st = check_table(tables[k][first], k, table_name(a.op, k), first, device);
    if (st != MT_OK) return st;
  }

  // [first_bad | 5 pointer tables | blocks] uploaded, then the device-only block sums.
  Table table;
  const size_t at_bad = table.add(&kNoBad, sizeof(kNoBad));
  size_t at_tables[5] = {};
  for (int k = 0; k < 5; ++k) at_tables[k] = table.add(tables[k], tables[k] != nullptr ? sizeof(float*) * S : 0);
  const size_t at_blocks = table.add(blocks.data(), sizeof(AnchorBlock) * B);
  const bool want_sums = value != nullptr;
  const size_t at_partials = table.bytes;
  const size_t total_bytes = table.bytes + (want_sums ? sizeof(double) * B : 0);
  unsigned char* dev = nullptr;
  bool pool = true;
  mt_status st = upload_table(stream, table, total_bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }
  Params params{a, reinterpret_cast<const AnchorBlock*>(dev + at_blocks),
                want_sums ? reinterpret_cast<double*>(dev + at_partials) : nullptr,
                reinterpret_cast<unsigned long long*>(dev + at_bad)};
  auto dev_table = [&](int k) {
    return tables[k] != nullptr ? reinterpret_cast<float* const*>(dev + at_tables[k]) : nullptr;
  };
  params.a.w = dev_table(0);
  params.a.w1 = dev_table(1);
  params.a.grad = dev_table(2);
  params.a.state0 = dev_table(3);
  params.a.state1 = dev_table(4);
  params.a.lengths = nullptr;  // host memory: not for the kernel
  void* args[] = {&params};
  e = cudaLaunchKernel(kernel_for(a), dim3(static_cast<unsigned>(B)), dim3(kThreads), args, 0, stream);
  if (e != cudaSuccess) {
    free_table(stream, dev, pool);
    return fail_cuda(e, "launching the anchor kernel");
  }
  if (!want_sums && !a.check) {
    free_table(stream, dev, pool);
    return MT_OK;
  }
  std::vector<double> partials(want_sums ? B : 0);
  unsigned long long bad = kNoBad;
  if (want_sums) {
    e = cudaMemcpyAsync(partials.data(), dev + at_partials, sizeof(double) * B, cudaMemcpyDeviceToHost, stream);
  }
  if (e == cudaSuccess && a.check) e = cudaMemcpyAsync(&bad, dev + at_bad, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  free_table(stream, dev, pool);
  const cudaError_t synced = cudaStreamSynchronize(stream);  // also surfaces faults inside the kernel
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the anchor kernel");
  if (bad != kNoBad) {
    const int64_t flat = static_cast<int64_t>(bad);
    const auto it = std::upper_bound(blocks.begin(), blocks.end(), flat,
                                     [](int64_t f, const AnchorBlock& b) { return f < b.flat; });
    const AnchorBlock& b = *(it - 1);
    const int64_t s = b.segment, el = b.start + (flat - b.flat);
    float values[5] = {};
    bool present[5] = {true, true, a.grad != nullptr,
                       a.state0 != nullptr && !(a.op == AnchorOp::kSgd && a.first_step), a.state1 != nullptr};
    for (int k = 0; k < 5 && e == cudaSuccess; ++k) {
      if (present[k]) e = cudaMemcpy(&values[k], tables[k][s] + el, sizeof(float), cudaMemcpyDeviceToHost);
    }
    if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
    return report_anchor_non_finite(a.op, s, el, values, present);
  }
  if (want_sums) {
    double sum = 0.0;
    for (double p : partials) sum += p;
    *value = 0.5 * static_cast<double>(a.lambda) * sum;
  }
  return MT_OK;
}

// ------------------------------------------------------------------------------------------------- feature space

namespace {

__global__ void __launch_bounds__(kThreads) feature_kernel(int64_t dim, const float* F, const float* z, double coef,
                                                           FeatureRow* rows, float* grad, int32_t check,
                                                           unsigned long long* first_bad) {
  __shared__ double red[kThreads];
  const int64_t c = blockIdx.x;
  const float* f = F + c * dim;
  const float* zz = z + c * dim;
  double dot = 0.0, nf = 0.0, nz = 0.0;
  unsigned long long bad = kNoBad;
  for (int64_t j = threadIdx.x; j < dim; j += kThreads) {
    const float fv = f[j], zv = zz[j];
    if (check && !(fin(fv) && fin(zv))) bad = min(bad, static_cast<unsigned long long>(c * dim + j));
    const double fd = fv, zd = zv;
    dot = __dadd_rn(dot, __dmul_rn(fd, zd));
    nf = __dadd_rn(nf, __dmul_rn(fd, fd));
    nz = __dadd_rn(nz, __dmul_rn(zd, zd));
  }
  if (bad != kNoBad) atomicMin(first_bad, bad);
  const double sdot = block_sum<kThreads>(dot, red);
  const double snf = block_sum<kThreads>(nf, red);
  const double snz = block_sum<kThreads>(nz, red);
  if (threadIdx.x == 0) rows[c] = FeatureRow{sdot, snf, snz};
  if (grad == nullptr || snf == 0.0 || snz == 0.0) return;
  const double nfv = __dsqrt_rn(snf), nzv = __dsqrt_rn(snz);
  const double cosv = __ddiv_rn(sdot, __dmul_rn(nfv, nzv));
  const double az = __ddiv_rn(1.0, __dmul_rn(nfv, nzv)), bf = __ddiv_rn(cosv, snf);
  float* g = grad + c * dim;
  for (int64_t j = threadIdx.x; j < dim; j += kThreads) {
    const double t = __dsub_rn(__dmul_rn(static_cast<double>(zz[j]), az), __dmul_rn(static_cast<double>(f[j]), bf));
    g[j] = __double2float_rn(__dmul_rn(coef, t));
  }
}

}  // namespace

mt_status anchor_feature_f32(void* stream_handle, int64_t n_classes, int64_t dim, const float* features,
                             const float* targets, float lambda, double* value, float* grad_features, int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  if (n_classes > 0x7fffffff) return fail(MT_INVALID_ARGUMENT, "too many classes for one call");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_table(features, MT_ANCHOR_INPUT_W, "features", 0, device);
  if (st == MT_OK) st = check_table(targets, MT_ANCHOR_INPUT_STATE0, "targets", 0, device);
  if (st == MT_OK && grad_features != nullptr) st = check_table(grad_features, MT_INPUT_OUTPUT, "grad_features", 0, device);
  if (st != MT_OK) return st;

  Table table;
  const size_t at_bad = table.add(&kNoBad, sizeof(kNoBad));
  const size_t at_rows = table.bytes;
  const size_t C = static_cast<size_t>(n_classes);
  unsigned char* dev = nullptr;
  bool pool = true;
  st = upload_table(stream, table, table.bytes + sizeof(FeatureRow) * C, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const double coef = -static_cast<double>(lambda) / static_cast<double>(n_classes);
  FeatureRow* rows = reinterpret_cast<FeatureRow*>(dev + at_rows);
  unsigned long long* bad_ptr = reinterpret_cast<unsigned long long*>(dev + at_bad);
  feature_kernel<<<static_cast<unsigned>(C), kThreads, 0, stream>>>(dim, features, targets, coef, rows, grad_features,
                                                                  check ? 1 : 0, bad_ptr);
  e = cudaGetLastError();
  std::vector<FeatureRow> host_rows(C);
  unsigned long long bad = kNoBad;
  if (e == cudaSuccess) e = cudaMemcpyAsync(host_rows.data(), rows, sizeof(FeatureRow) * C, cudaMemcpyDeviceToHost, stream);
  if (e == cudaSuccess) e = cudaMemcpyAsync(&bad, bad_ptr, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  free_table(stream, dev, pool);
  const cudaError_t synced = cudaStreamSynchronize(stream);
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the feature anchor kernel");

  int64_t zero_row = -1;
  for (size_t c = 0; c < C && zero_row < 0; ++c) {
    if (host_rows[c].nf2 == 0.0 || host_rows[c].nz2 == 0.0) zero_row = static_cast<int64_t>(c);
  }
  const int64_t bad_row = bad != kNoBad ? static_cast<int64_t>(bad) / dim : -1;
  if (bad_row >= 0 && (zero_row < 0 || bad_row <= zero_row)) {  // as the CPU: the first row with a problem
    const int64_t col = static_cast<int64_t>(bad) % dim;
    float fv = 0.0f, zv = 0.0f;
    e = cudaMemcpy(&fv, features + bad, sizeof(float), cudaMemcpyDeviceToHost);
    if (e == cudaSuccess) e = cudaMemcpy(&zv, targets + bad, sizeof(float), cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
    const bool in_f = !std::isfinite(fv);
    const float v = in_f ? fv : zv;
    return fail_at(MT_NON_FINITE, in_f ? MT_ANCHOR_INPUT_W : MT_ANCHOR_INPUT_STATE0, bad_row, col,
                   "non-finite value %s in %s, row %lld, column %lld", std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"),
                   in_f ? "features" : "targets", (long long)bad_row, (long long)col);
  }
  if (zero_row >= 0) {
    const bool in_f = host_rows[zero_row].nf2 == 0.0;
    return fail_at(MT_INVALID_ARGUMENT, in_f ? MT_ANCHOR_INPUT_W : MT_ANCHOR_INPUT_STATE0, zero_row, -1,
                   "row %lld of %s has zero norm: its cosine is undefined", (long long)zero_row,
                   in_f ? "features" : "targets");
  }
  double sum = 0.0;
  for (const FeatureRow& r : host_rows) sum += feature_cos(r);
  *value = static_cast<double>(lambda) * (1.0 - sum / static_cast<double>(n_classes));
  return MT_OK;
}

}  // namespace mt::cuda
