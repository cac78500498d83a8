// K5 on CUDA: interpolation into scratch sets and the α-weighted gradient accumulation, over segment tables.
//
// The host cuts the segments into the blocks of anchor_blocks and uploads one packed table (pointer tables, the α
// or c_k coefficients, the block list); one CUDA block of 256 threads per block of MT_ANCHOR_BLOCK elements. Each
// element is the CPU's operations in the CPU's order with explicit rounding (no FMA), so results are bit-identical
// to the CPU's and, for the scratch, to K4a's. An element's inputs are read before any of its outputs is written
// (by the same thread), which makes the exact aliasing of scratch_interp.h safe. MT_CHECK_FINITE: an element with
// a non-finite result is not stored and its flat index goes into an integer atomicMin; after a stream sync the
// host reads its (intact) inputs back and names the culprit. Without the check the call is asynchronous.
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <vector>

#include "anchor_internal.h"  // anchor_blocks: the same block layout
#include "common.cuh"
#include "error.h"
#include "scratch_interp_internal.h"
#include "staging.cuh"

namespace mt::cuda {

mt_status require_device();  // device.cu

namespace {

constexpr int kThreads = 256;
constexpr int kMaxSets = 64;
constexpr unsigned long long kNoBad = ~0ull;

__device__ __forceinline__ bool fin(float v) { return fabsf(v) <= FLT_MAX; }

struct Params {
  const float* const* base;     // ŵ2, or grad_w
  const float* const* indexed;  // w (one table), or the gradient sets (set-major)
  float* const* out;            // the scratch sets (set-major), or grad_w
  const float* coeffs;          // α_k, or c_k
  const AnchorBlock* blocks;
  unsigned long long* first_bad;
  int64_t n_segments;
  int32_t n;                    // α count, or set count
  int32_t check;
};

__global__ void __launch_bounds__(kThreads) interp_kernel(const Params p) {
  const AnchorBlock b = p.blocks[blockIdx.x];
  const float* x = p.indexed[b.segment] + b.start;
  const float* base = p.base[b.segment] + b.start;
  unsigned long long bad = kNoBad;
  for (int64_t i = threadIdx.x; i < b.len; i += kThreads) {
    const float xv = x[i], bv = base[i];
    const float d = __fsub_rn(xv, bv);
    bool ok = true;
    for (int32_t k = 0; k < p.n; ++k) ok = ok && fin(__fadd_rn(bv, __fmul_rn(p.coeffs[k], d)));
    if (p.check && !ok) {
      bad = min(bad, static_cast<unsigned long long>(b.flat + i));
      continue;
    }
    for (int32_t k = 0; k < p.n; ++k) {
      p.out[k * p.n_segments + b.segment][b.start + i] = __fadd_rn(bv, __fmul_rn(p.coeffs[k], d));
    }
  }
  if (bad != kNoBad) atomicMin(p.first_bad, bad);
}

__global__ void __launch_bounds__(kThreads) accumulate_kernel(const Params p) {
  const AnchorBlock b = p.blocks[blockIdx.x];
  float* gw = p.out[b.segment] + b.start;
  unsigned long long bad = kNoBad;
  for (int64_t i = threadIdx.x; i < b.len; i += kThreads) {
    float acc = gw[i];
    for (int32_t k = 0; k < p.n; ++k) {
      acc = __fadd_rn(acc, __fmul_rn(p.coeffs[k], p.indexed[k * p.n_segments + b.segment][b.start + i]));
    }
    if (p.check && !fin(acc)) {
      bad = min(bad, static_cast<unsigned long long>(b.flat + i));
      continue;
    }
    gw[i] = acc;
  }
  if (bad != kNoBad) atomicMin(p.first_bad, bad);
}

mt_status check_pointer_of(const void* ptr, int32_t input, const char* name, int64_t segment, int device) {
  cudaPointerAttributes attr{};
  const cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
  if (e != cudaSuccess) return fail_cuda(e, "cudaPointerGetAttributes");
  if (attr.type == cudaMemoryTypeManaged || (attr.type == cudaMemoryTypeDevice && attr.device == device)) return MT_OK;
  return fail_at(MT_INVALID_ARGUMENT, input, segment, -1,
                 "%s segment %lld is not memory of the current CUDA device %d (MT_DEVICE_CUDA needs device pointers)",
                 name, (long long)segment, device);
}

// Both calls: upload, launch, and (with the check) the report of the first bad element.
mt_status launch(void* stream_handle, bool accumulate, int64_t n_segments, const int64_t* lengths,
                 const float* const* base, const float* const* indexed, int32_t n_indexed_tables,
                 float* const* out, int32_t n_out_tables, int32_t n, const float* coeffs, int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const std::vector<AnchorBlock> blocks = anchor_blocks(n_segments, lengths);
  if (blocks.empty()) return MT_OK;
  if (blocks.size() > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");
  const size_t S = static_cast<size_t>(n_segments);
  const int64_t first = blocks.front().segment;
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_pointer_of(base[first], MT_INPUT_BASE, accumulate ? "grad_w" : "w2hat", first, device);
  for (int32_t k = 0; k < n_indexed_tables && st == MT_OK; ++k) {
    st = check_pointer_of(indexed[k * S + first], k, accumulate ? "grad_scratch" : "w", first, device);
  }
  for (int32_t k = 0; k < n_out_tables && st == MT_OK; ++k) {
    st = check_pointer_of(out[k * S + first], MT_INPUT_OUTPUT, accumulate ? "grad_w" : "scratch", first, device);
  }
  if (st != MT_OK) return st;

  Table table;
  const size_t at_bad = table.add(&kNoBad, sizeof(kNoBad));
  const size_t at_base = table.add(base, sizeof(float*) * S);
  const size_t at_indexed = table.add(indexed, sizeof(float*) * S * n_indexed_tables);
  const size_t at_out = table.add(out, sizeof(float*) * S * n_out_tables);
  const size_t at_coeffs = table.add(coeffs, sizeof(float) * n);
  const size_t at_blocks = table.add(blocks.data(), sizeof(AnchorBlock) * blocks.size());
  unsigned char* dev = nullptr;
  bool pool = true;
  st = upload_table(stream, table, table.bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }
  Params params{reinterpret_cast<const float* const*>(dev + at_base),
                reinterpret_cast<const float* const*>(dev + at_indexed),
                reinterpret_cast<float* const*>(dev + at_out),
                reinterpret_cast<const float*>(dev + at_coeffs),
                reinterpret_cast<const AnchorBlock*>(dev + at_blocks),
                reinterpret_cast<unsigned long long*>(dev + at_bad),
                n_segments,
                n,
                check ? 1 : 0};
  void* args[] = {&params};
  const void* kernel = accumulate ? reinterpret_cast<const void*>(&accumulate_kernel)
                                  : reinterpret_cast<const void*>(&interp_kernel);
  e = cudaLaunchKernel(kernel, dim3(static_cast<unsigned>(blocks.size())), dim3(kThreads), args, 0, stream);
  if (e != cudaSuccess) {
    free_table(stream, dev, pool);
    return fail_cuda(e, "launching the scratch interpolation kernel");
  }
  if (!check) {
    free_table(stream, dev, pool);
    return MT_OK;
  }
  unsigned long long bad = kNoBad;
  e = cudaMemcpyAsync(&bad, dev + at_bad, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  free_table(stream, dev, pool);
  const cudaError_t synced = cudaStreamSynchronize(stream);
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the scratch interpolation kernel");
  if (bad == kNoBad) return MT_OK;
  const int64_t flat = static_cast<int64_t>(bad);
  const auto it = std::upper_bound(blocks.begin(), blocks.end(), flat,
                                   [](int64_t f, const AnchorBlock& b) { return f < b.flat; });
  const int64_t s = (it - 1)->segment, el = (it - 1)->start + (flat - (it - 1)->flat);
  float bv = 0.0f, v[kMaxSets] = {};
  e = cudaMemcpy(&bv, base[s] + el, sizeof(float), cudaMemcpyDeviceToHost);
  for (int32_t k = 0; k < n_indexed_tables && e == cudaSuccess; ++k) {
    e = cudaMemcpy(&v[k], indexed[k * S + s] + el, sizeof(float), cudaMemcpyDeviceToHost);
  }
  if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
  return report_scratch_non_finite(accumulate, s, el, bv, v, n_indexed_tables);
}

}  // namespace

mt_status scratch_interp_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* w,
                             const float* const* w2hat, int32_t n_alphas, const float* alphas, float* const* scratch,
                             int32_t flags) {
  return launch(stream, false, n_segments, lengths, w2hat, w, 1, scratch, n_alphas, n_alphas, alphas, flags);
}

mt_status scratch_grad_accumulate_f32(void* stream, int64_t n_segments, const int64_t* lengths, float* const* grad_w,
                                      int32_t n_sets, const float* const* grad_scratch, const float* coeffs,
                                      int32_t flags) {
  return launch(stream, true, n_segments, lengths, grad_w, grad_scratch, n_sets, grad_w, 1, n_sets, coeffs, flags);
}

}  // namespace mt::cuda
