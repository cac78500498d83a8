// K3 on CUDA: the sign-consistent max merge (unify) and the expert rebuild (decouple), fp32 with double sums.
//
// As in interp.cu, the host cuts the segments into chunks (16K elements or more, powers of two, so every chunk
// starts at a multiple of 32 inside its segment) and uploads one packed table through pinned staging; one block
// per chunk. A warp covers 32 consecutive elements at a time, so each mask word is one __ballot_sync of one warp,
// stored by its lane 0: every word has exactly one writer and no atomics touch the masks.
//
// Unify per element, with the CPU's operations in the CPU's order: δ = input − θ0 (__fsub_rn), the double sum
// over tasks in task order from 0.0 (__dadd_rn), flag = sum > 0, a = δ·flag (exact), M = a > 0, U = max over
// agreeing tasks of a, negated as 0 − max where flag is −1 (so +0 where no task agrees). U and the masks are thus
// bit-identical to the CPU's. For n_tasks <= kMaxFused the deltas stay in registers (one pass over memory); larger
// counts re-read the inputs of an element (from cache) and compute the sums in a second, per-task pass.
//
// The sums: each thread accumulates |δ| and M·|U| per task in double, the block reduces them in a fixed tree
// into one partial per (chunk, task) in a scratch area, and a second small kernel adds the partials of each
// (task, segment) in chunk order. No float or double atomics; the only atomic is the integer atomicMin of the
// first non-finite flat index (MT_CHECK_FINITE), after which the host reads that element's inputs back and names
// the culprit with the CPU's report. A call with sums or with the check synchronises the stream; one with neither
// is asynchronous.
//
// Decouple: out = bit ? θ0 + λ·U : θ0 (__fmul_rn, __fadd_rn). out may alias θ0: each element is read and then
// written by one thread, and with the check a non-finite result is not stored, so the inputs stay readable.
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
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "signmax_internal.h"

namespace mt::cuda {

mt_status fail_cuda(cudaError_t e, const char* what);  // device.cu
mt_status require_device();                             // device.cu

namespace {

constexpr int kThreads = 256;
constexpr InputNames kUnifyNames = {"output", "theta0", "task"};
constexpr InputNames kDecoupleNames = {"output", "theta0", "unified"};  // unified is input 0 of decouple
constexpr InputNames kMaskNames = {"output", "theta0", "mask"};         // the mask is input 1 of decouple
constexpr int kPer = 4;  // elements per thread per step: a step covers kThreads·kPer elements
constexpr int kMaxFused = 8;  // task counts with a fused kernel (deltas in registers)
static_assert(kPer * kMaxFused <= 32, "the agreement bits of a step fit one uint32");
constexpr int64_t kMinChunk = int64_t{16384};
constexpr int64_t kMaxChunks = int64_t{1} << 16;
constexpr unsigned long long kNoBad = ~0ull;
constexpr unsigned kFull = 0xffffffffu;

struct Chunk {
  int64_t segment;
  int64_t start;  // inside the segment: a multiple of kMinChunk, hence of 32
  int64_t flat;
  int64_t len;
};

struct UnifyParams {
  const float* const* theta0;  // NULL: inputs are deltas
  const float* const* inputs;  // task-major
  float* const* unified;
  uint32_t* const* masks;      // task-major
  const Chunk* chunks;
  double* partial_abs;         // [chunk · n_tasks + task], NULL without sums
  double* partial_masked;
  unsigned long long* first_bad;
  int64_t n_segments;
  int32_t n_tasks;
  int32_t check;
};

__device__ __forceinline__ bool finite_f(float v) { return fabsf(v) <= FLT_MAX; }
__device__ __forceinline__ bool finite_d(double v) { return fabs(v) <= DBL_MAX; }

__device__ __forceinline__ float delta_at(const float* x, const float* z, int64_t e) {
  return z != nullptr ? __fsub_rn(x[e], z[e]) : x[e];
}

// The sums of the many-task path: per task, a pass over this thread's own elements of the chunk, re-reading the
// inputs and U.
__device__ void unify_sums_per_task(const UnifyParams& p, const Chunk& c, const float* z, const float* U,
                                    int32_t T, double* red) {
  const int64_t S = p.n_segments;
  for (int32_t i = 0; i < T; ++i) {
    const float* xi = p.inputs[i * S + c.segment] + c.start;
    double a = 0.0, b = 0.0;
    for (int64_t step = 0; step < c.len; step += int64_t{kThreads} * kPer) {
#pragma unroll
      for (int u = 0; u < kPer; ++u) {
        const int64_t e = step + u * kThreads + threadIdx.x;
        if (e >= c.len) continue;
        const float di = delta_at(xi, z, e);
        const float ue = U[e];
        const bool on = ue > 0.0f ? di > 0.0f : ue < 0.0f && di < 0.0f;
        a = __dadd_rn(a, fabs(static_cast<double>(di)));
        b = __dadd_rn(b, on ? fabs(static_cast<double>(ue)) : 0.0);
      }
    }
    a = block_sum<kThreads>(a, red);
    b = block_sum<kThreads>(b, red);
    if (threadIdx.x == 0) {
      p.partial_abs[blockIdx.x * static_cast<int64_t>(T) + i] = a;
      p.partial_masked[blockIdx.x * static_cast<int64_t>(T) + i] = b;
    }
  }
}

// N >= 1: N tasks, deltas in registers. N == 0: p.n_tasks tasks (more than kMaxFused), inputs re-read.
template <int N>
__global__ void __launch_bounds__(kThreads) unify_kernel(const UnifyParams p) {
  __shared__ double red[kThreads];
  constexpr int R = N > 0 ? N : 1;
  const Chunk c = p.chunks[blockIdx.x];
  const int32_t T = N > 0 ? N : p.n_tasks;
  const int64_t S = p.n_segments;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const float* z = p.theta0 != nullptr ? p.theta0[c.segment] + c.start : nullptr;
  float* U = p.unified[c.segment] + c.start;
  const bool sums = p.partial_abs != nullptr;
  const float* x[R];
  double acc_abs[R], acc_masked[R];
#pragma unroll
  for (int i = 0; i < R; ++i) {
    x[i] = N > 0 ? p.inputs[i * S + c.segment] + c.start : nullptr;
    acc_abs[i] = 0.0;
    acc_masked[i] = 0.0;
  }
  unsigned long long bad = kNoBad;

  for (int64_t step = 0; step < c.len; step += int64_t{kThreads} * kPer) {
    float d[kPer][R];
    double sum[kPer];
    bool valid[kPer];
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      const int64_t e = step + u * kThreads + threadIdx.x;
      valid[u] = e < c.len;
      sum[u] = 0.0;
      if (N > 0) {
#pragma unroll
        for (int i = 0; i < R; ++i) d[u][i] = valid[u] ? delta_at(x[i], z, e) : 0.0f;
#pragma unroll
        for (int i = 0; i < R; ++i) sum[u] = __dadd_rn(sum[u], static_cast<double>(d[u][i]));
      } else if (valid[u]) {
        for (int32_t i = 0; i < T; ++i) {
          const float* xi = p.inputs[i * S + c.segment] + c.start;
          sum[u] = __dadd_rn(sum[u], static_cast<double>(delta_at(xi, z, e)));
        }
      }
      if (p.check && valid[u] && !finite_d(sum[u])) bad = min(bad, static_cast<unsigned long long>(c.flat + e));
    }
    float sign[kPer], umax[kPer];
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      sign[u] = sum[u] > 0.0 ? 1.0f : -1.0f;
      umax[u] = 0.0f;
    }
    uint32_t on_bits = 0;  // bit u·N + i: task i agrees at element u (fused only)
#pragma unroll
    for (int32_t i = 0; i < T; ++i) {
      const float* xi = N > 0 ? nullptr : p.inputs[i * S + c.segment] + c.start;
      uint32_t* mw = p.masks[i * S + c.segment] + c.start / 32;
#pragma unroll
      for (int u = 0; u < kPer; ++u) {
        const int64_t e = step + u * kThreads + threadIdx.x;
        float di;
        if (N > 0) {
          di = d[u][N > 0 ? i : 0];
        } else {
          di = valid[u] ? delta_at(xi, z, e) : 0.0f;
        }
        const float a = __fmul_rn(di, sign[u]);
        const bool on = valid[u] && a > 0.0f;
        umax[u] = fmaxf(umax[u], on ? a : 0.0f);
        const unsigned word = __ballot_sync(kFull, on);
        const int64_t first = step + u * kThreads + warp * 32;  // this warp's first element of the step
        if (lane == 0 && first < c.len) mw[first / 32] = word;
        if (N > 0) {
          if (on) on_bits |= 1u << (u * R + i);
          if (sums) acc_abs[N > 0 ? i : 0] = __dadd_rn(acc_abs[N > 0 ? i : 0], fabs(static_cast<double>(di)));
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      const int64_t e = step + u * kThreads + threadIdx.x;
      if (valid[u]) U[e] = sign[u] > 0.0f ? umax[u] : __fsub_rn(0.0f, umax[u]);
      if (N > 0 && sums) {
#pragma unroll
        for (int i = 0; i < R; ++i) {
          const double m = (on_bits >> (u * R + i)) & 1u ? static_cast<double>(umax[u]) : 0.0;
          acc_masked[i] = __dadd_rn(acc_masked[i], m);
        }
      }
    }
  }
  if (bad != kNoBad) atomicMin(p.first_bad, bad);
  if (!sums) return;

  if constexpr (N > 0) {
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const double a = block_sum<kThreads>(acc_abs[i], red);
      const double b = block_sum<kThreads>(acc_masked[i], red);
      if (threadIdx.x == 0) {
        p.partial_abs[blockIdx.x * static_cast<int64_t>(T) + i] = a;
        p.partial_masked[blockIdx.x * static_cast<int64_t>(T) + i] = b;
      }
    }
  } else {
    // Many tasks: a second pass per task over this thread's own elements. U was written by this same thread, and
    // its sign is the flag wherever any task agrees (elsewhere M·|U| is 0 for every task).
    unify_sums_per_task(p, c, z, U, T, red);
  }
}

// One thread per (task, segment): the partials of the segment's chunks, added in chunk order.
__global__ void reduce_sums_kernel(const double* partial_abs, const double* partial_masked, const int64_t* first_chunk,
                                   int64_t n_segments, int32_t n_tasks, double* sum_abs, double* sum_masked) {
  const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (k >= n_segments * n_tasks) return;
  const int64_t i = k / n_segments, s = k % n_segments;
  double a = 0.0, b = 0.0;
  for (int64_t c = first_chunk[s]; c < first_chunk[s + 1]; ++c) {
    a = __dadd_rn(a, partial_abs[c * n_tasks + i]);
    b = __dadd_rn(b, partial_masked[c * n_tasks + i]);
  }
  sum_abs[k] = a;  // k = i·n_segments + s: the API's task-major layout
  sum_masked[k] = b;
}

struct DecoupleParams {
  float* const* out;
  const float* const* theta0;
  const float* const* unified;
  const uint32_t* const* mask;
  const Chunk* chunks;
  unsigned long long* first_bad;
  float lambda;
  int32_t check;
};

__global__ void __launch_bounds__(kThreads) decouple_kernel(const DecoupleParams p) {
  const Chunk c = p.chunks[blockIdx.x];
  float* out = p.out[c.segment] + c.start;
  const float* z = p.theta0[c.segment] + c.start;
  const float* U = p.unified[c.segment] + c.start;
  const uint32_t* m = p.mask[c.segment] + c.start / 32;
  unsigned long long bad = kNoBad;
  for (int64_t step = 0; step < c.len; step += int64_t{kThreads} * kPer) {
    float zv[kPer], uv[kPer];
    uint32_t wv[kPer];
#pragma unroll
    for (int u = 0; u < kPer; ++u) {  // all loads first: kPer requests in flight per thread
      const int64_t e = step + u * kThreads + threadIdx.x;
      const bool valid = e < c.len;
      zv[u] = valid ? z[e] : 0.0f;
      uv[u] = valid ? U[e] : 0.0f;
      wv[u] = valid ? m[e / 32] : 0u;
    }
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      const int64_t e = step + u * kThreads + threadIdx.x;
      if (e >= c.len) continue;
      const bool bit = (wv[u] >> (e % 32)) & 1u;
      const float r = bit ? __fadd_rn(zv[u], __fmul_rn(p.lambda, uv[u])) : zv[u];
      if (p.check && !(finite_f(zv[u]) && finite_f(uv[u]) && finite_f(r))) {
        bad = min(bad, static_cast<unsigned long long>(c.flat + e));
        continue;  // not stored: in place, θ0 stays readable for the report
      }
      out[e] = r;
    }
  }
  if (bad != kNoBad) atomicMin(p.first_bad, bad);
}


// The chunks of a call (every segment cut at multiples of `chunk`); first_chunk[s] is segment s's first chunk.
int64_t make_chunks(int64_t n_segments, const int64_t* lengths, std::vector<Chunk>* chunks,
                    std::vector<int64_t>* first_chunk) {
  int64_t total = 0;
  for (int64_t s = 0; s < n_segments; ++s) total += lengths[s];
  int64_t chunk = kMinChunk;
  while (total / chunk > kMaxChunks && chunk < (int64_t{1} << 30)) chunk *= 2;
  chunks->clear();
  first_chunk->assign(n_segments + 1, 0);
  int64_t flat = 0;
  for (int64_t s = 0; s < n_segments; ++s) {
    (*first_chunk)[s] = static_cast<int64_t>(chunks->size());
    for (int64_t at = 0; at < lengths[s]; at += chunk) {
      chunks->push_back(Chunk{s, at, flat + at, std::min(chunk, lengths[s] - at)});
    }
    flat += lengths[s];
  }
  (*first_chunk)[n_segments] = static_cast<int64_t>(chunks->size());
  return total;
}


const void* unify_kernel_for(int32_t n_tasks) {
  static_assert(kMaxFused == 8, "one case per fused task count");
  switch (n_tasks) {
    case 1: return reinterpret_cast<const void*>(&unify_kernel<1>);
    case 2: return reinterpret_cast<const void*>(&unify_kernel<2>);
    case 3: return reinterpret_cast<const void*>(&unify_kernel<3>);
    case 4: return reinterpret_cast<const void*>(&unify_kernel<4>);
    case 5: return reinterpret_cast<const void*>(&unify_kernel<5>);
    case 6: return reinterpret_cast<const void*>(&unify_kernel<6>);
    case 7: return reinterpret_cast<const void*>(&unify_kernel<7>);
    case 8: return reinterpret_cast<const void*>(&unify_kernel<8>);
    default: return reinterpret_cast<const void*>(&unify_kernel<0>);
  }
}

int64_t segment_of(const std::vector<int64_t>& starts, int64_t flat) {
  return std::upper_bound(starts.begin(), starts.end(), flat) - starts.begin() - 1;
}

}  // namespace

mt_status signmax_unify_f32(void* stream_handle, int64_t n_segments, const int64_t* lengths, const float* const* theta0,
                            int32_t n_tasks, const float* const* inputs, float* const* unified, uint32_t* const* masks,
                            double* sum_abs_delta, double* sum_abs_masked, int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const bool sums = sum_abs_delta != nullptr || sum_abs_masked != nullptr;
  const size_t T = static_cast<size_t>(n_tasks), S = static_cast<size_t>(n_segments);

  int64_t first = -1;
  for (int64_t s = 0; s < n_segments && first < 0; ++s) {
    if (lengths[s] > 0) first = s;
  }
  if (first < 0) {  // nothing to compute: no launch
    for (size_t k = 0; k < T * S; ++k) {
      if (sum_abs_delta != nullptr) sum_abs_delta[k] = 0.0;
      if (sum_abs_masked != nullptr) sum_abs_masked[k] = 0.0;
    }
    return MT_OK;
  }

  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_pointer(unified[first], MT_INPUT_OUTPUT, kUnifyNames, first, device);
  if (st == MT_OK && theta0 != nullptr) st = check_pointer(theta0[first], MT_INPUT_BASE, kUnifyNames, first, device);
  for (int32_t i = 0; i < n_tasks && st == MT_OK; ++i) {
    st = check_pointer(inputs[i * n_segments + first], i, kUnifyNames, first, device);
    if (st == MT_OK) st = check_pointer(masks[i * n_segments + first], MT_INPUT_OUTPUT, kUnifyNames, first, device);
  }
  if (st != MT_OK) return st;

  std::vector<Chunk> chunks;
  std::vector<int64_t> first_chunk;
  make_chunks(n_segments, lengths, &chunks, &first_chunk);
  if (chunks.size() > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");
  const size_t C = chunks.size();

  // [first_bad | theta0 | inputs | unified | masks | chunks | first_chunk] uploaded, then device-only scratch:
  // [partials: abs, masked (C·T each) | sums: abs, masked (T·S each)].
  Table table;
  const size_t at_bad = table.add(&kNoBad, sizeof(kNoBad));
  const size_t at_theta0 = table.add(theta0, theta0 != nullptr ? sizeof(float*) * S : 0);
  const size_t at_inputs = table.add(inputs, sizeof(float*) * T * S);
  const size_t at_unified = table.add(unified, sizeof(float*) * S);
  const size_t at_masks = table.add(masks, sizeof(uint32_t*) * T * S);
  const size_t at_chunks = table.add(chunks.data(), sizeof(Chunk) * C);
  const size_t at_first = table.add(first_chunk.data(), sizeof(int64_t) * (S + 1));
  size_t total_bytes = table.bytes;
  const size_t at_partials = total_bytes;
  const size_t at_sums = at_partials + (sums ? 2 * sizeof(double) * C * T : 0);
  if (sums) total_bytes = at_sums + 2 * sizeof(double) * T * S;

  unsigned char* dev = nullptr;
  bool pool = true;
  st = upload_table(stream, table, total_bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }

  UnifyParams params{theta0 != nullptr ? reinterpret_cast<const float* const*>(dev + at_theta0) : nullptr,
                     reinterpret_cast<const float* const*>(dev + at_inputs),
                     reinterpret_cast<float* const*>(dev + at_unified),
                     reinterpret_cast<uint32_t* const*>(dev + at_masks),
                     reinterpret_cast<const Chunk*>(dev + at_chunks),
                     sums ? reinterpret_cast<double*>(dev + at_partials) : nullptr,
                     sums ? reinterpret_cast<double*>(dev + at_partials) + C * T : nullptr,
                     reinterpret_cast<unsigned long long*>(dev + at_bad),
                     n_segments,
                     n_tasks,
                     check ? 1 : 0};
  void* args[] = {&params};
  e = cudaLaunchKernel(unify_kernel_for(n_tasks), dim3(static_cast<unsigned>(C)), dim3(kThreads), args, 0, stream);
  if (e != cudaSuccess) {
    free_table(stream, dev, pool);
    return fail_cuda(e, "launching the unify kernel");
  }
  std::vector<double> host_sums;
  if (sums) {
    double* d_abs = reinterpret_cast<double*>(dev + at_sums);
    double* d_masked = d_abs + T * S;
    const int64_t n = static_cast<int64_t>(T * S);
    const unsigned blocks = static_cast<unsigned>((n + kThreads - 1) / kThreads);
    reduce_sums_kernel<<<blocks, kThreads, 0, stream>>>(params.partial_abs, params.partial_masked,
                                                         reinterpret_cast<const int64_t*>(dev + at_first), n_segments,
                                                         n_tasks, d_abs, d_masked);
    e = cudaGetLastError();
    if (e != cudaSuccess) {
      free_table(stream, dev, pool);
      return fail_cuda(e, "launching the sum reduction");
    }
    host_sums.resize(2 * T * S);
    e = cudaMemcpyAsync(host_sums.data(), d_abs, sizeof(double) * 2 * T * S, cudaMemcpyDeviceToHost, stream);
  }
  unsigned long long bad = kNoBad;
  if (e == cudaSuccess && check) {
    e = cudaMemcpyAsync(&bad, dev + at_bad, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  }
  free_table(stream, dev, pool);
  if (!sums && !check) {
    return e == cudaSuccess ? MT_OK : fail_cuda(e, "the unify kernel");
  }
  const cudaError_t synced = cudaStreamSynchronize(stream);  // also surfaces faults inside the kernels
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the unify kernel");

  if (bad != kNoBad) {
    std::vector<int64_t> starts(S + 1, 0);
    for (size_t s = 0; s < S; ++s) starts[s + 1] = starts[s] + lengths[s];
    const int64_t s = segment_of(starts, static_cast<int64_t>(bad)), el = static_cast<int64_t>(bad) - starts[s];
    std::vector<float> v(T + 1, 0.0f);
    if (theta0 != nullptr) e = cudaMemcpy(&v[0], theta0[s] + el, sizeof(float), cudaMemcpyDeviceToHost);
    for (int32_t i = 0; i < n_tasks && e == cudaSuccess; ++i) {
      e = cudaMemcpy(&v[1 + i], inputs[i * n_segments + s] + el, sizeof(float), cudaMemcpyDeviceToHost);
    }
    if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
    return report_signmax_unify(s, el, theta0 != nullptr, v[0], v.data() + 1, n_tasks);
  }
  for (size_t k = 0; k < T * S && sums; ++k) {
    if (sum_abs_delta != nullptr) sum_abs_delta[k] = host_sums[k];
    if (sum_abs_masked != nullptr) sum_abs_masked[k] = host_sums[T * S + k];
  }
  return MT_OK;
}

mt_status signmax_decouple_f32(void* stream_handle, int64_t n_segments, const int64_t* lengths, float* const* out,
                               const float* const* theta0, const float* const* unified, const uint32_t* const* mask,
                               float lambda, int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const size_t S = static_cast<size_t>(n_segments);

  int64_t first = -1;
  for (int64_t s = 0; s < n_segments && first < 0; ++s) {
    if (lengths[s] > 0) first = s;
  }
  if (first < 0) return MT_OK;

  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_pointer(out[first], MT_INPUT_OUTPUT, kDecoupleNames, first, device);
  if (st == MT_OK) st = check_pointer(theta0[first], MT_INPUT_BASE, kDecoupleNames, first, device);
  if (st == MT_OK) st = check_pointer(unified[first], 0, kDecoupleNames, first, device);
  if (st == MT_OK) st = check_pointer(mask[first], 1, kMaskNames, first, device);
  if (st != MT_OK) return st;

  std::vector<Chunk> chunks;
  std::vector<int64_t> first_chunk;
  make_chunks(n_segments, lengths, &chunks, &first_chunk);
  if (chunks.size() > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");

  Table table;
  const size_t at_bad = table.add(&kNoBad, sizeof(kNoBad));
  const size_t at_out = table.add(out, sizeof(float*) * S);
  const size_t at_theta0 = table.add(theta0, sizeof(float*) * S);
  const size_t at_unified = table.add(unified, sizeof(float*) * S);
  const size_t at_mask = table.add(mask, sizeof(uint32_t*) * S);
  const size_t at_chunks = table.add(chunks.data(), sizeof(Chunk) * chunks.size());
  unsigned char* dev = nullptr;
  bool pool = true;
  st = upload_table(stream, table, table.bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }
  DecoupleParams params{reinterpret_cast<float* const*>(dev + at_out),
                        reinterpret_cast<const float* const*>(dev + at_theta0),
                        reinterpret_cast<const float* const*>(dev + at_unified),
                        reinterpret_cast<const uint32_t* const*>(dev + at_mask),
                        reinterpret_cast<const Chunk*>(dev + at_chunks),
                        reinterpret_cast<unsigned long long*>(dev + at_bad),
                        lambda,
                        check ? 1 : 0};
  void* args[] = {&params};
  e = cudaLaunchKernel(reinterpret_cast<const void*>(&decouple_kernel), dim3(static_cast<unsigned>(chunks.size())),
                       dim3(kThreads), args, 0, stream);
  if (e != cudaSuccess) {
    free_table(stream, dev, pool);
    return fail_cuda(e, "launching the decouple kernel");
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
  if (e != cudaSuccess) return fail_cuda(e, "the decouple kernel");
  if (bad == kNoBad) return MT_OK;

  std::vector<int64_t> starts(S + 1, 0);
  for (size_t s = 0; s < S; ++s) starts[s + 1] = starts[s] + lengths[s];
  const int64_t s = segment_of(starts, static_cast<int64_t>(bad)), el = static_cast<int64_t>(bad) - starts[s];
  float z = 0.0f, u = 0.0f;
  uint32_t word = 0;
  e = cudaMemcpy(&z, theta0[s] + el, sizeof(float), cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) e = cudaMemcpy(&u, unified[s] + el, sizeof(float), cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) e = cudaMemcpy(&word, mask[s] + el / 32, sizeof(word), cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
  return report_signmax_decouple(s, el, z, u, (word >> (el % 32)) & 1u, lambda);
}

}  // namespace mt::cuda
