// K4b on CUDA: DARE (drop and rescale) fused with task arithmetic over segment tables, fp32, double L1 sums.
//
//     c_i,s = λ_i ⊗ r_i,s;   acc = base;   acc = keep ? acc ⊕ (c_i,s ⊗ (m_i − base)) : acc   (i in order)
//
// with __fmul_rn / __fadd_rn / __fsub_rn (no FMA contraction): the CPU's expression (dare_internal.h), so NONE
// and INVERSE results are bit-identical to the CPU's, and the masks are everywhere (same Philox, philox.h).
//
// As in signmax.cu, the host cuts the segments into chunks (16K elements or more, powers of two, so every chunk
// starts at a multiple of 4 inside its segment) and uploads one packed table through pinned staging; one block
// per chunk. A thread takes groups of 4 consecutive elements j .. j + 3 (j a multiple of 4): one Philox block
// (counter j / 4) gives the 4 keep bits of a model, and segments whose pointers are all 16-byte aligned load and
// store the group as float4.
//
// The coefficients c_i,s live in the table: computed on the host for NONE and INVERSE (r from the entry point);
// for L1 a stats kernel writes per-(chunk, model) partials of Σ|δ| and Σ|keep·δ| (per-thread double sums, a
// fixed-tree block reduction, no atomics), and a second small kernel adds the partials of each (model, segment)
// in chunk order and writes c = λ ⊗ dare_l1_rescale(...). So L1 needs no synchronisation either: the call is
// asynchronous on `stream` unless MT_CHECK_FINITE is set.
//
// MT_CHECK_FINITE: an element with a non-finite input (even a dropped one) or result is not stored, and its flat
// index goes into an integer atomicMin; in L1 mode the stats kernel records its own first non-finite input or δ
// in a second slot, which takes precedence (a NaN there poisons the segment's r). After one stream sync the host
// reads that element's inputs back (intact even in place) and names the culprit with the CPU's report.
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common.cuh"
#include "cuda_backend.h"
#include "dare_internal.h"
#include "error.h"
#include "interp_report.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "philox.h"
#include "staging.cuh"

namespace mt::cuda {

mt_status fail_cuda(cudaError_t e, const char* what);  // device.cu
mt_status require_device();                             // device.cu

namespace {

constexpr int kThreads = 256;
constexpr InputNames kNames = {"out", "base", "model"};
constexpr int kGroups = 4;  // groups of 4 elements per thread per step: a step covers kThreads·16 elements
constexpr int64_t kMinChunk = int64_t{16384};
constexpr int64_t kMaxChunks = int64_t{1} << 16;
constexpr unsigned long long kNoBad = ~0ull;

struct Chunk {
  int64_t segment;
  int64_t start;  // inside the segment: a multiple of kMinChunk, hence of 4
  int64_t flat;
  int64_t len;
  uint64_t key;   // the segment's tensor key
  int32_t vec;    // every pointer of the segment is 16-byte aligned
  int32_t pad;
};

struct Params {
  float* const* out;
  const float* const* base;
  const float* const* models;  // model-major
  const Chunk* chunks;
  float* coef;                 // [i · n_segments + s]
  const float* lambdas;
  double* partial_abs;         // [chunk · n_models + i], L1 only
  double* partial_kept;
  const int64_t* first_chunk;  // n_segments + 1
  unsigned long long* first_bad;   // apply pass
  unsigned long long* stats_bad;   // L1 stats pass
  int64_t n_segments;
  int64_t n_chunks;
  int32_t n_models;
  uint32_t threshold;
  uint32_t k0, k1;
  int32_t check;
};

__device__ __forceinline__ bool finite_f(float v) { return fabsf(v) <= FLT_MAX; }

// The 4 keep bits of model i for the group starting at segment element j (a multiple of 4): bit q = element j + q.
__device__ __forceinline__ unsigned keep_bits(const Params& p, int32_t i, uint64_t key, int64_t j) {
  uint32_t x0 = static_cast<uint32_t>(j >> 2), x1 = static_cast<uint32_t>(i), x2 = static_cast<uint32_t>(key),
           x3 = static_cast<uint32_t>(key >> 32);
  philox4x32_10(x0, x1, x2, x3, p.k0, p.k1);
  return (dare_keep(x0, p.threshold) ? 1u : 0u) | (dare_keep(x1, p.threshold) ? 2u : 0u) |
         (dare_keep(x2, p.threshold) ? 4u : 0u) | (dare_keep(x3, p.threshold) ? 8u : 0u);
}

// Elements [e, e + 4) ∩ [0, n) of a chunk-relative array into v (0 past the end).
__device__ __forceinline__ void load4(const float* ptr, int64_t e, int64_t n, bool vec, float v[4]) {
  if (vec && e + 4 <= n) {
    const float4 q = *reinterpret_cast<const float4*>(ptr + e);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
    return;
  }
#pragma unroll
  for (int q = 0; q < 4; ++q) v[q] = e + q < n ? ptr[e + q] : 0.0f;
}

// L1 stats: per model, this block's Σ|δ| and Σ|keep·δ| into the partials of its chunk. No __restrict__ anywhere:
// out may alias an input (the apply kernel runs after this one in stream order).
template <bool kCheck>
__global__ void __launch_bounds__(kThreads) stats_kernel(const Params p) {
  __shared__ double red[kThreads];
  const Chunk c = p.chunks[blockIdx.x];
  const float* b = p.base[c.segment] + c.start;
  const bool vec = c.vec != 0;
  const int64_t groups = (c.len + 3) / 4;
  unsigned long long bad = kNoBad;
  for (int32_t i = 0; i < p.n_models; ++i) {
    const float* m = p.models[i * p.n_segments + c.segment] + c.start;
    double sa = 0.0, sk = 0.0;
    for (int64_t g = threadIdx.x; g < groups; g += kThreads) {
      const int64_t e = 4 * g;
      float bv[4], mv[4];
      load4(b, e, c.len, vec, bv);
      load4(m, e, c.len, vec, mv);
      const unsigned keep = keep_bits(p, i, c.key, c.start + e);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float d = __fsub_rn(mv[q], bv[q]);
        const double a = fabs(static_cast<double>(d));
        sa = __dadd_rn(sa, a);  // past the end d = 0: adds nothing
        sk = __dadd_rn(sk, (keep >> q) & 1u ? a : 0.0);
        if (kCheck && e + q < c.len && !(finite_f(bv[q]) && finite_f(mv[q]) && finite_f(d))) {
          bad = min(bad, static_cast<unsigned long long>(c.flat + e + q));
        }
      }
    }
    sa = block_sum<kThreads>(sa, red);
    sk = block_sum<kThreads>(sk, red);
    if (threadIdx.x == 0) {
      p.partial_abs[blockIdx.x * static_cast<int64_t>(p.n_models) + i] = sa;
      p.partial_kept[blockIdx.x * static_cast<int64_t>(p.n_models) + i] = sk;
    }
  }
  if (kCheck && bad != kNoBad) atomicMin(p.stats_bad, bad);
}

// One thread per (model, segment): the partials of the segment's chunks in chunk order, then c = λ ⊗ r.
__global__ void coef_kernel(const Params p) {
  const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (k >= p.n_segments * p.n_models) return;
  const int64_t i = k / p.n_segments, s = k % p.n_segments;
  double a = 0.0, b = 0.0;
  for (int64_t c = p.first_chunk[s]; c < p.first_chunk[s + 1]; ++c) {
    a = __dadd_rn(a, p.partial_abs[c * p.n_models + i]);
    b = __dadd_rn(b, p.partial_kept[c * p.n_models + i]);
  }
  p.coef[k] = __fmul_rn(p.lambdas[i], dare_l1_rescale(a, b));  // k = i·n_segments + s
}

template <bool kCheck>
__global__ void __launch_bounds__(kThreads) apply_kernel(const Params p) {
  const Chunk c = p.chunks[blockIdx.x];
  float* out = p.out[c.segment] + c.start;
  const float* b = p.base[c.segment] + c.start;
  const bool vec = c.vec != 0;
  const int64_t groups = (c.len + 3) / 4;
  unsigned long long bad = kNoBad;
  for (int64_t g0 = threadIdx.x; g0 < groups; g0 += int64_t{kThreads} * kGroups) {
    float bv[kGroups][4], acc[kGroups][4];
    bool ok[kGroups][4];
#pragma unroll
    for (int u = 0; u < kGroups; ++u) {
      const int64_t e = 4 * (g0 + u * kThreads);
      load4(b, e, c.len, vec, bv[u]);
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        acc[u][q] = bv[u][q];
        ok[u][q] = !kCheck || finite_f(bv[u][q]);
      }
    }
    for (int32_t i = 0; i < p.n_models; ++i) {
      const float* m = p.models[i * p.n_segments + c.segment] + c.start;
      const float ci = p.coef[i * p.n_segments + c.segment];
      float mv[kGroups][4];
#pragma unroll
      for (int u = 0; u < kGroups; ++u) load4(m, 4 * (g0 + u * kThreads), c.len, vec, mv[u]);  // loads in flight
#pragma unroll
      for (int u = 0; u < kGroups; ++u) {
        const int64_t e = 4 * (g0 + u * kThreads);
        if (e >= c.len) continue;
        const unsigned keep = keep_bits(p, i, c.key, c.start + e);
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          const float v = __fadd_rn(acc[u][q], __fmul_rn(ci, __fsub_rn(mv[u][q], bv[u][q])));
          acc[u][q] = (keep >> q) & 1u ? v : acc[u][q];
          if (kCheck) ok[u][q] = ok[u][q] && finite_f(mv[u][q]);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kGroups; ++u) {
      const int64_t e = 4 * (g0 + u * kThreads);
      if (e >= c.len) continue;
      bool all = true;
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        if (kCheck) ok[u][q] = ok[u][q] && finite_f(acc[u][q]);
        all = all && ok[u][q];
      }
      if (vec && e + 4 <= c.len && all) {
        *reinterpret_cast<float4*>(out + e) = make_float4(acc[u][0], acc[u][1], acc[u][2], acc[u][3]);
        continue;
      }
#pragma unroll
      for (int q = 0; q < 4; ++q) {  // store the good lanes; keep the inputs of the bad ones intact
        if (e + q >= c.len) continue;
        if (ok[u][q]) {
          out[e + q] = acc[u][q];
        } else {
          bad = min(bad, static_cast<unsigned long long>(c.flat + e + q));
        }
      }
    }
  }
  if (kCheck && bad != kNoBad) atomicMin(p.first_bad, bad);
}



}  // namespace

mt_status dare_f32(void* stream_handle, int64_t n_segments, const int64_t* lengths, const uint64_t* tensor_keys,
                   float* const* out, const float* const* base, int32_t n_models, const float* const* models,
                   const float* lambdas, uint32_t threshold, uint64_t seed, int32_t rescale, float scale,
                   int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const bool check = (flags & MT_CHECK_FINITE) != 0;
  const bool l1 = rescale == MT_DARE_RESCALE_L1 && n_models > 0;
  const size_t N = static_cast<size_t>(n_models), S = static_cast<size_t>(n_segments);

  std::vector<int64_t> starts(S + 1, 0);
  int64_t first = -1;
  for (size_t s = 0; s < S; ++s) {
    starts[s + 1] = starts[s] + lengths[s];
    if (first < 0 && lengths[s] > 0) first = static_cast<int64_t>(s);
  }
  if (first < 0) return MT_OK;  // nothing to compute: no launch

  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_pointer(out[first], MT_INPUT_OUTPUT, kNames, first, device);
  if (st == MT_OK) st = check_pointer(base[first], MT_INPUT_BASE, kNames, first, device);
  for (int32_t i = 0; i < n_models && st == MT_OK; ++i) st = check_pointer(models[i * n_segments + first], i, kNames, first, device);
  if (st != MT_OK) return st;

  int64_t chunk = kMinChunk;
  while (starts[S] / chunk > kMaxChunks && chunk < (int64_t{1} << 30)) chunk *= 2;
  std::vector<Chunk> chunks;
  std::vector<int64_t> first_chunk(S + 1, 0);
  for (size_t s = 0; s < S; ++s) {
    first_chunk[s] = static_cast<int64_t>(chunks.size());
    const int64_t len = lengths[s];
    if (len == 0) continue;
    bool vec = aligned16(out[s]) && aligned16(base[s]);
    for (int32_t i = 0; i < n_models; ++i) vec = vec && aligned16(models[i * n_segments + s]);
    for (int64_t at = 0; at < len; at += chunk) {
      chunks.push_back(Chunk{static_cast<int64_t>(s), at, starts[s] + at, std::min(chunk, len - at), tensor_keys[s],
                             vec ? 1 : 0, 0});
    }
  }
  first_chunk[S] = static_cast<int64_t>(chunks.size());
  if (chunks.size() > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");
  const size_t C = chunks.size();

  std::vector<float> coef(N * S, 0.0f);
  if (!l1) {
    for (size_t i = 0; i < N; ++i) {
      const float ci = lambdas[i] * scale;
      for (size_t s = 0; s < S; ++s) coef[i * S + s] = ci;
    }
  }
  // [first_bad, stats_bad | out | base | models | chunks | first_chunk | lambdas | coef] uploaded, then for L1
  // device-only scratch [partials: abs, kept (C·N each)].
  const unsigned long long no_bad[2] = {kNoBad, kNoBad};
  Table table;
  const size_t at_bad = table.add(no_bad, sizeof(no_bad));
  const size_t at_out = table.add(out, sizeof(float*) * S);
  const size_t at_base = table.add(base, sizeof(float*) * S);
  const size_t at_models = table.add(models, sizeof(float*) * N * S);
  const size_t at_chunks = table.add(chunks.data(), sizeof(Chunk) * C);
  const size_t at_first = table.add(first_chunk.data(), sizeof(int64_t) * (S + 1));
  const size_t at_lambdas = table.add(lambdas, sizeof(float) * N);
  const size_t at_coef = table.add(coef.data(), sizeof(float) * N * S);
  const size_t at_partials = table.bytes;
  const size_t total_bytes = at_partials + (l1 ? 2 * sizeof(double) * C * N : 0);

  unsigned char* dev = nullptr;
  bool pool = true;
  st = upload_table(stream, table, total_bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }
  double* partials = reinterpret_cast<double*>(dev + at_partials);
  Params params{reinterpret_cast<float* const*>(dev + at_out),
                reinterpret_cast<const float* const*>(dev + at_base),
                reinterpret_cast<const float* const*>(dev + at_models),
                reinterpret_cast<const Chunk*>(dev + at_chunks),
                reinterpret_cast<float*>(dev + at_coef),
                reinterpret_cast<const float*>(dev + at_lambdas),
                l1 ? partials : nullptr,
                l1 ? partials + C * N : nullptr,
                reinterpret_cast<const int64_t*>(dev + at_first),
                reinterpret_cast<unsigned long long*>(dev + at_bad),
                reinterpret_cast<unsigned long long*>(dev + at_bad) + 1,
                n_segments,
                static_cast<int64_t>(C),
                n_models,
                threshold,
                static_cast<uint32_t>(seed),
                static_cast<uint32_t>(seed >> 32),
                check ? 1 : 0};
  void* args[] = {&params};
  if (l1) {
    const void* stats = check ? reinterpret_cast<const void*>(&stats_kernel<true>)
                              : reinterpret_cast<const void*>(&stats_kernel<false>);
    e = cudaLaunchKernel(stats, dim3(static_cast<unsigned>(C)), dim3(kThreads), args, 0, stream);
    if (e == cudaSuccess) {
      const int64_t n = static_cast<int64_t>(N * S);
      e = cudaLaunchKernel(reinterpret_cast<const void*>(&coef_kernel),
                           dim3(static_cast<unsigned>((n + kThreads - 1) / kThreads)), dim3(kThreads), args, 0, stream);
    }
    if (e != cudaSuccess) {
      free_table(stream, dev, pool);
      return fail_cuda(e, "launching the DARE L1 stats kernels");
    }
  }
  const void* apply = check ? reinterpret_cast<const void*>(&apply_kernel<true>)
                            : reinterpret_cast<const void*>(&apply_kernel<false>);
  e = cudaLaunchKernel(apply, dim3(static_cast<unsigned>(C)), dim3(kThreads), args, 0, stream);
  if (e != cudaSuccess) {
    free_table(stream, dev, pool);
    return fail_cuda(e, "launching the DARE kernel");
  }
  if (!check) {
    free_table(stream, dev, pool);
    return MT_OK;
  }

  unsigned long long bad[2] = {kNoBad, kNoBad};
  e = cudaMemcpyAsync(bad, dev + at_bad, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  // All coefficients come back (N·S floats): the report needs those of the bad element's segment.
  if (e == cudaSuccess) e = cudaMemcpyAsync(coef.data(), dev + at_coef, sizeof(float) * N * S, cudaMemcpyDeviceToHost, stream);
  free_table(stream, dev, pool);
  const cudaError_t synced = cudaStreamSynchronize(stream);  // also surfaces faults inside the kernels
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the DARE kernel");
  const bool from_stats = bad[1] != kNoBad;
  const unsigned long long flat = from_stats ? bad[1] : bad[0];
  if (flat == kNoBad) return MT_OK;

  const int64_t f = static_cast<int64_t>(flat);
  const int64_t s = std::upper_bound(starts.begin(), starts.end(), f) - starts.begin() - 1;
  const int64_t el = f - starts[s];
  std::vector<float> v(N + 1);
  e = cudaMemcpy(&v[0], base[s] + el, sizeof(float), cudaMemcpyDeviceToHost);
  for (int32_t i = 0; i < n_models && e == cudaSuccess; ++i) {
    e = cudaMemcpy(&v[1 + i], models[i * n_segments + s] + el, sizeof(float), cudaMemcpyDeviceToHost);
  }
  if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
  // The value the kernel did not store, recomputed the same way (or, from the stats pass, the overflowing δ).
  float result = v[0];
  const uint64_t key = tensor_keys[s];
  for (int32_t i = 0; i < n_models; ++i) {
    const float d = v[1 + i] - v[0];
    if (from_stats) {
      if (!std::isfinite(d) && std::isfinite(result)) result = d;
      continue;
    }
    uint32_t x0 = static_cast<uint32_t>(el >> 2), x1 = static_cast<uint32_t>(i), x2 = static_cast<uint32_t>(key),
             x3 = static_cast<uint32_t>(key >> 32);
    philox4x32_10(x0, x1, x2, x3, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    const uint32_t w[4] = {x0, x1, x2, x3};
    if (dare_keep(w[el & 3], threshold)) result = result + coef[static_cast<size_t>(i) * S + s] * d;
  }
  return report_non_finite(s, el, v[0], v.data() + 1, n_models, result);
}

}  // namespace mt::cuda
