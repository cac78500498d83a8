// K4a on CUDA: weighted interpolation / task arithmetic over segment tables, fp32.
//
//     out[s][j] = base[s][j] + Σ_i λ_i·(models[i][s][j] − base[s][j])
//
// As in PyTorch's multi_tensor_apply, the host cuts the segments into chunks (16K elements or more) and
// uploads one packed table (segment pointers, chunk list, lambdas, the non-finite slot); the kernel runs one
// block per chunk. A thread holds 16 elements of base and of the accumulator in registers, adds each model's
// weighted delta in turn with the CPU's operations in the CPU's order (acc = b; acc += λ_i·(m_i − b), each op
// rounded, no FMA contraction), and stores once: (n_models + 2)·4 bytes moved per element, the floor. Segments
// whose pointers are all 16-byte aligned go through float4 accesses, any other segment through the scalar path.
//
// In place (out == base or out == a model) is safe: each element is read and then written by one thread.
//
// MT_CHECK_FINITE: any NaN/Inf input makes the result non-finite (0·Inf and Inf − Inf are NaN), so only results
// are tested. A non-finite result is not stored and its flat index goes into an integer atomicMin; after one
// stream sync the host reads that element's inputs back (intact even in place, as the bad result never
// overwrote them) and names the culprit. Without the flag nothing waits: the call is asynchronous on `stream`.
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common.cuh"
#include "cuda_backend.h"
#include "staging.cuh"
#include "error.h"
#include "interp_report.h"
#include "mergetune/interp.h"

namespace mt::cuda {

mt_status fail_cuda(cudaError_t e, const char* what);  // device.cu
mt_status require_device();                             // device.cu

namespace {

constexpr int kThreads = 256;
constexpr InputNames kNames = {"out", "base", "model"};
constexpr int kPerThread = 16;  // floats per thread per tile
// A chunk (one block's work) is kMinChunk elements, doubled until a call has at most about kMaxChunks of them:
// many blocks for load balance, yet a 7B-parameter call uploads ~2 MB of table rather than ~14 MB. Powers of
// two >= 4 keep every chunk of an aligned segment 16-byte aligned.
constexpr int64_t kMinChunk = int64_t{4} * kThreads * kPerThread;  // 16384
constexpr int64_t kMaxChunks = int64_t{1} << 16;
constexpr unsigned long long kNoBad = ~0ull;

struct Chunk {
  int64_t segment;
  int64_t start;  // first element of the chunk inside its segment
  int64_t flat;   // the same element's index in the concatenation of all segments
  int32_t len;
  int32_t vec;    // every pointer of the segment is 16-byte aligned
};

struct Params {
  float* const* out;
  const float* const* base;
  const float* const* models;  // model-major, as in the API
  const Chunk* chunks;
  const float* lambdas;
  unsigned long long* first_bad;
  int64_t n_segments;
  int32_t n_models;
};

__device__ __forceinline__ bool is_finite(float v) { return fabsf(v) <= FLT_MAX; }

// W consecutive floats at vector index v.
template <int W>
struct Access;
template <>
struct Access<4> {
  static __device__ __forceinline__ void load(const float* p, int64_t v, float* d) {
    const float4 q = reinterpret_cast<const float4*>(p)[v];
    d[0] = q.x, d[1] = q.y, d[2] = q.z, d[3] = q.w;
  }
  static __device__ __forceinline__ void store(float* p, int64_t v, const float* s) {
    reinterpret_cast<float4*>(p)[v] = make_float4(s[0], s[1], s[2], s[3]);
  }
};
template <>
struct Access<1> {
  static __device__ __forceinline__ void load(const float* p, int64_t v, float* d) { d[0] = p[v]; }
  static __device__ __forceinline__ void store(float* p, int64_t v, const float* s) { p[v] = s[0]; }
};

// Elements [first, first + count) of chunk c, W floats per access; count is a multiple of W. No __restrict__
// and no __ldg anywhere: out may alias an input.
template <int W, bool kCheck>
__device__ __forceinline__ void interp_range(const Params& p, const Chunk& c, int64_t first, int64_t count,
                                             unsigned long long& bad) {
  constexpr int kU = kPerThread / W;  // accesses per thread per tile
  const int64_t offset = c.start + first;
  float* out = p.out[c.segment] + offset;
  const float* base = p.base[c.segment] + offset;
  const int64_t nv = count / W;
  for (int64_t t = threadIdx.x; t < nv; t += int64_t{kThreads} * kU) {
    float b[kPerThread], acc[kPerThread];
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int64_t v = t + u * kThreads;
      if (v < nv) {
        Access<W>::load(base, v, &b[u * W]);
      } else {
#pragma unroll
        for (int k = 0; k < W; ++k) b[u * W + k] = 0.f;
      }
    }
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) acc[k] = b[k];
    for (int32_t i = 0; i < p.n_models; ++i) {
      const float* m = p.models[i * p.n_segments + c.segment] + offset;
      const float l = p.lambdas[i];
      float mv[kPerThread];
#pragma unroll
      for (int u = 0; u < kU; ++u) {  // all loads of a model first: kU requests in flight per thread
        const int64_t v = t + u * kThreads;
        if (v < nv) {
          Access<W>::load(m, v, &mv[u * W]);
        } else {
#pragma unroll
          for (int k = 0; k < W; ++k) mv[u * W + k] = 0.f;
        }
      }
#pragma unroll
      for (int k = 0; k < kPerThread; ++k) acc[k] = __fadd_rn(acc[k], __fmul_rn(l, __fsub_rn(mv[k], b[k])));
    }
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int64_t v = t + u * kThreads;
      if (v >= nv) continue;
      const float* a = &acc[u * W];
      bool ok = true;
      if (kCheck) {
#pragma unroll
        for (int k = 0; k < W; ++k) ok = ok && is_finite(a[k]);
      }
      if (ok) {
        Access<W>::store(out, v, a);
        continue;
      }
#pragma unroll
      for (int k = 0; k < W; ++k) {  // store the finite lanes; keep the inputs of the bad ones intact
        if (is_finite(a[k])) {
          out[v * W + k] = a[k];
        } else {
          bad = min(bad, static_cast<unsigned long long>(c.flat + first + v * W + k));
        }
      }
    }
  }
}

template <bool kCheck>
__global__ void __launch_bounds__(kThreads) interp_kernel(const Params p) {
  const Chunk c = p.chunks[blockIdx.x];
  unsigned long long bad = kNoBad;
  if (c.vec) {
    const int64_t body = c.len & ~int64_t{3};
    interp_range<4, kCheck>(p, c, 0, body, bad);
    interp_range<1, kCheck>(p, c, body, c.len - body, bad);  // the last 0-3 elements of the segment
  } else {
    interp_range<1, kCheck>(p, c, 0, c.len, bad);
  }
  if (kCheck && bad != kNoBad) atomicMin(p.first_bad, bad);
}



// Reads the inputs of the first non-finite element back (the kernel has finished) and reports it.
mt_status report_first_bad(cudaStream_t stream, unsigned long long flat, const std::vector<int64_t>& starts,
                           const float* const* base, int32_t n_models, const float* const* models,
                           const float* lambdas) {
  const int64_t n_segments = static_cast<int64_t>(starts.size()) - 1;
  const int64_t f = static_cast<int64_t>(flat);
  const int64_t s = std::upper_bound(starts.begin(), starts.end(), f) - starts.begin() - 1;
  const int64_t e = f - starts[s];
  std::vector<float> v(static_cast<size_t>(n_models) + 1);
  cudaError_t err = cudaMemcpyAsync(&v[0], base[s] + e, sizeof(float), cudaMemcpyDeviceToHost, stream);
  for (int32_t i = 0; i < n_models && err == cudaSuccess; ++i) {
    err = cudaMemcpyAsync(&v[1 + i], models[i * n_segments + s] + e, sizeof(float), cudaMemcpyDeviceToHost, stream);
  }
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  if (err != cudaSuccess) return fail_cuda(err, "reading back the non-finite element");
  float acc = v[0];  // the result the kernel did not store, recomputed the same way
  for (int32_t i = 0; i < n_models; ++i) acc += lambdas[i] * (v[1 + i] - v[0]);
  return report_non_finite(s, e, v[0], v.data() + 1, n_models, acc);
}

}  // namespace

mt_status interp_f32(void* stream_handle, int64_t n_segments, const int64_t* lengths, float* const* out,
                     const float* const* base, int32_t n_models, const float* const* models, const float* lambdas,
                     int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const bool check = (flags & MT_CHECK_FINITE) != 0;

  std::vector<int64_t> starts(n_segments + 1, 0);  // flat offset of each segment
  int64_t first = -1;                              // first non-empty segment
  for (int64_t s = 0; s < n_segments; ++s) {
    starts[s + 1] = starts[s] + lengths[s];
    if (first < 0 && lengths[s] > 0) first = s;
  }
  if (first < 0) return MT_OK;  // nothing to compute: no launch (a grid of 0 blocks is an error)

  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_pointer(out[first], MT_INPUT_OUTPUT, kNames, first, device);
  if (st == MT_OK) st = check_pointer(base[first], MT_INPUT_BASE, kNames, first, device);
  for (int32_t i = 0; i < n_models && st == MT_OK; ++i) {
    st = check_pointer(models[i * n_segments + first], i, kNames, first, device);
  }
  if (st != MT_OK) return st;

  int64_t chunk = kMinChunk;
  while (starts[n_segments] / chunk > kMaxChunks && chunk < (int64_t{1} << 30)) chunk *= 2;
  std::vector<Chunk> chunks;
  chunks.reserve(static_cast<size_t>(starts[n_segments] / chunk + n_segments));
  for (int64_t s = first; s < n_segments; ++s) {
    const int64_t len = lengths[s];
    if (len == 0) continue;
    bool vec = aligned16(out[s]) && aligned16(base[s]);
    for (int32_t i = 0; i < n_models; ++i) vec = vec && aligned16(models[i * n_segments + s]);
    for (int64_t at = 0; at < len; at += chunk) {
      chunks.push_back(Chunk{s, at, starts[s] + at, static_cast<int32_t>(std::min(chunk, len - at)), vec ? 1 : 0});
    }
  }
  if (chunks.size() > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");

  // The packed table: [first_bad | out ptrs | base ptrs | model ptrs | chunks | lambdas], 16-byte aligned parts.
  size_t bytes = 0;
  auto take = [&bytes](size_t n) {
    const size_t at = bytes;
    bytes += (n + 15) & ~size_t{15};
    return at;
  };
  const size_t n_ptr_models = static_cast<size_t>(n_models) * static_cast<size_t>(n_segments);
  const size_t at_bad = take(sizeof(unsigned long long));
  const size_t at_out = take(sizeof(float*) * n_segments);
  const size_t at_base = take(sizeof(float*) * n_segments);
  const size_t at_models = take(sizeof(float*) * n_ptr_models);
  const size_t at_chunks = take(sizeof(Chunk) * chunks.size());
  const size_t at_lambdas = take(sizeof(float) * n_models);

  std::vector<unsigned char> pageable;  // only if no pinned memory could be had
  void* host = thread_staging().acquire(bytes, &e);
  const bool pinned = host != nullptr;
  if (!pinned) {
    cudaGetLastError();
    pageable.resize(bytes);
    host = pageable.data();
  }
  unsigned char* h = static_cast<unsigned char*>(host);
  std::memcpy(h + at_bad, &kNoBad, sizeof(kNoBad));
  std::memcpy(h + at_out, out, sizeof(float*) * n_segments);
  std::memcpy(h + at_base, base, sizeof(float*) * n_segments);
  if (n_models > 0) {
    std::memcpy(h + at_models, models, sizeof(float*) * n_ptr_models);
    std::memcpy(h + at_lambdas, lambdas, sizeof(float) * n_models);
  }
  std::memcpy(h + at_chunks, chunks.data(), sizeof(Chunk) * chunks.size());

  // Stream-ordered device memory; cudaMalloc (and a sync before cudaFree) where pools are not supported.
  unsigned char* dev = nullptr;
  bool pool = true;
  e = cudaMallocAsync(reinterpret_cast<void**>(&dev), bytes, stream);
  if (e == cudaErrorNotSupported) {
    cudaGetLastError();
    pool = false;
    e = cudaMalloc(reinterpret_cast<void**>(&dev), bytes);
  }
  if (e != cudaSuccess) {
    if (pinned) thread_staging().release(stream);
    return fail_cuda(e, "allocating the segment table");
  }
  auto release_dev = [&]() {
    if (pool) {
      cudaFreeAsync(dev, stream);
    } else {
      cudaStreamSynchronize(stream);
      cudaFree(dev);
    }
  };

  e = cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream);
  const cudaError_t staged = pinned ? thread_staging().release(stream) : cudaStreamSynchronize(stream);
  if (e == cudaSuccess && staged != cudaSuccess) {
    cudaStreamSynchronize(stream);  // no event guards the slot: do not return while the copy may still read it
    e = staged;
  }
  if (e != cudaSuccess) {
    release_dev();
    return fail_cuda(e, "uploading the segment table");
  }

  Params params{reinterpret_cast<float* const*>(dev + at_out),
                reinterpret_cast<const float* const*>(dev + at_base),
                reinterpret_cast<const float* const*>(dev + at_models),
                reinterpret_cast<const Chunk*>(dev + at_chunks),
                reinterpret_cast<const float*>(dev + at_lambdas),
                reinterpret_cast<unsigned long long*>(dev + at_bad),
                n_segments,
                n_models};
  void* args[] = {&params};
  const void* kernel = check ? reinterpret_cast<const void*>(&interp_kernel<true>)
                             : reinterpret_cast<const void*>(&interp_kernel<false>);
  // cudaLaunchKernel returns this launch's own error, where cudaGetLastError could also return a stale one.
  e = cudaLaunchKernel(kernel, dim3(static_cast<unsigned>(chunks.size())), dim3(kThreads), args, 0, stream);
  if (e != cudaSuccess) {
    release_dev();
    return fail_cuda(e, "launching the interpolation kernel");
  }
  if (!check) {
    release_dev();
    return MT_OK;
  }

  unsigned long long bad = kNoBad;
  e = cudaMemcpyAsync(&bad, dev + at_bad, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  release_dev();
  const cudaError_t synced = cudaStreamSynchronize(stream);  // also surfaces faults inside the kernel
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the interpolation kernel");
  if (bad == kNoBad) return MT_OK;
  return report_first_bad(stream, bad, starts, base, n_models, models, lambdas);
}

}  // namespace mt::cuda
