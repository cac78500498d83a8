// mt_gram_f32 on CUDA (gram.h): one block per chunk of kGramChunk elements; each thread sums its strided
// elements' products in double, a fixed-tree block reduction (block_sum, common.cuh) gives the chunk's partial,
// and the host adds the partials in chunk order after one stream sync: deterministic, no atomics. d = x − b is
// formed with __fsub_rn as on the CPU. MT_CHECK_FINITE: a non-finite d sets a flag (its element is then found
// on the host from the intact inputs).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "common.cuh"
#include "cuda_backend.h"
#include "error.h"
#include "gram_internal.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE

namespace mt::cuda {

mt_status require_device();  // device.cu

namespace {

constexpr int kThreads = 256;

struct Inputs {
  const float* x[MT_GRAM_MAX_INPUTS];
};

__global__ void gram_kernel(int64_t n, const float* base, int32_t k, Inputs in, double* partial, int* bad) {
  __shared__ double red[kThreads];
  const int64_t start = blockIdx.x * kGramChunk, end = min(n, start + kGramChunk);
  int p = 0;
  for (int32_t i = 0; i < k; ++i) {
    for (int32_t j = i; j < k; ++j, ++p) {
      double s = 0;
      for (int64_t e = start + threadIdx.x; e < end; e += kThreads) {
        const float b = base == nullptr ? 0.0f : base[e];
        const float di = __fsub_rn(in.x[i][e], b), dj = __fsub_rn(in.x[j][e], b);
        if (!isfinite(di) || !isfinite(dj)) *bad = 1;
        s += static_cast<double>(di) * static_cast<double>(dj);
      }
      const double total = block_sum<kThreads>(s, red);
      if (threadIdx.x == 0) partial[blockIdx.x * (k * (k + 1) / 2) + p] = total;
      __syncthreads();
    }
  }
}

}  // namespace

mt_status gram_f32(void* stream_handle, int64_t n, const float* base, int32_t k, const float* const* inputs,
                   double* gram, int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const int64_t chunks = (n + kGramChunk - 1) / kGramChunk;
  const int32_t pairs = k * (k + 1) / 2;
  Inputs in{};
  for (int32_t i = 0; i < k; ++i) in.x[i] = inputs[i];
  double* partial = nullptr;
  const size_t bytes = static_cast<size_t>(chunks) * pairs * sizeof(double) + sizeof(int);
  cudaError_t e = cudaMallocAsync(reinterpret_cast<void**>(&partial), bytes, stream);
  if (e != cudaSuccess) return fail_cuda(e, "cudaMallocAsync");
  int* bad = reinterpret_cast<int*>(partial + static_cast<size_t>(chunks) * pairs);
  e = cudaMemsetAsync(bad, 0, sizeof(int), stream);
  if (e == cudaSuccess) {
    gram_kernel<<<static_cast<unsigned>(chunks), kThreads, 0, stream>>>(n, base, k, in, partial, bad);
    e = cudaGetLastError();
  }
  std::vector<double> host(static_cast<size_t>(chunks) * pairs);
  int bad_host = 0;
  if (e == cudaSuccess) e = cudaMemcpyAsync(host.data(), partial, host.size() * sizeof(double), cudaMemcpyDeviceToHost, stream);
  if (e == cudaSuccess) e = cudaMemcpyAsync(&bad_host, bad, sizeof(int), cudaMemcpyDeviceToHost, stream);
  const cudaError_t freed = cudaFreeAsync(partial, stream);
  if (e == cudaSuccess) e = freed;
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) return fail_cuda(e, "gram kernel");
  if (bad_host != 0 && (flags & MT_CHECK_FINITE) != 0) {
    return fail(MT_NON_FINITE, "non-finite input or delta (device %s)", "memory");
  }
  int32_t p = 0;
  for (int32_t i = 0; i < k; ++i) {
    for (int32_t j = i; j < k; ++j, ++p) {
      double s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += host[static_cast<size_t>(c) * pairs + p];
      gram[i * k + j] = s;
      gram[j * k + i] = s;
    }
  }
  return MT_OK;
}

}  // namespace mt::cuda
