// Helpers shared by the CUDA kernel files: the pointer guard on a call's tables, alignment, and the fixed-order
// block reduction used wherever sums must not depend on scheduling (no float atomics).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>

#include "error.h"
#include "mergetune/status.h"

namespace mt::cuda {

mt_status fail_cuda(cudaError_t e, const char* what);  // device.cu

// What a call calls its inputs in error messages: the output, the base (MT_INPUT_BASE), and the indexed inputs.
struct InputNames {
  const char* output;
  const char* base;
  const char* indexed;
};

inline const char* input_name(int32_t input, const InputNames& names, char* buf, size_t n) {
  if (input == MT_INPUT_OUTPUT) return names.output;
  if (input == MT_INPUT_BASE) return names.base;
  std::snprintf(buf, n, "%s %d", names.indexed, input);
  return buf;
}

// One cudaPointerGetAttributes per input (its first non-empty segment), not per segment: a cheap guard against the
// commonest mistake, host memory (or another device's) passed with MT_DEVICE_CUDA.
inline mt_status check_pointer(const void* ptr, int32_t input, const InputNames& names, int64_t segment,
                               int current_device) {
  cudaPointerAttributes a{};
  const cudaError_t e = cudaPointerGetAttributes(&a, ptr);
  if (e != cudaSuccess) return fail_cuda(e, "cudaPointerGetAttributes");
  if (a.type == cudaMemoryTypeManaged || (a.type == cudaMemoryTypeDevice && a.device == current_device)) {
    return MT_OK;
  }
  char buf[48];
  const char* name = input_name(input, names, buf, sizeof(buf));
  if (a.type == cudaMemoryTypeDevice) {
    return fail_at(MT_INVALID_ARGUMENT, input, segment, -1,
                   "%s segment %lld is memory of CUDA device %d, but the current device is %d", name,
                   (long long)segment, a.device, current_device);
  }
  return fail_at(MT_INVALID_ARGUMENT, input, segment, -1,
                 "%s segment %lld is host memory, not CUDA device or managed memory (MT_DEVICE_CUDA needs device "
                 "pointers)",
                 name, (long long)segment);
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Sum of v over a block of kThreads threads, in a fixed tree; `red` has kThreads entries. Valid in every thread.
template <int kThreads>
__device__ __forceinline__ double block_sum(double v, double* red) {
  red[threadIdx.x] = v;
  __syncthreads();
#pragma unroll
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) red[threadIdx.x] = __dadd_rn(red[threadIdx.x], red[threadIdx.x + s]);
    __syncthreads();
  }
  const double total = red[0];
  __syncthreads();
  return total;
}

}  // namespace mt::cuda
