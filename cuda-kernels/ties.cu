// K4c on CUDA: TIES magnitude histograms, tie cutoffs, sign census and merge over a chunk table.
//
// Every call cuts its segments into chunks (kChunk elements, so large tensors spread over the GPU), uploads one
// packed table (staging.cuh) and runs one pass; the per-element arithmetic is ties_internal.h's, with explicit
// fp32 roundings, so results equal the CPU's bit for bit. Outputs that feed host decisions (histograms, counts,
// cutoffs, sign sums) are integers: atomics on them are exact, so they do not depend on scheduling.
//
//   histogram level 0: a block accumulates 32768 32-bit bins in shared memory (128 KiB, opt-in) over its chunks,
//                      then adds the non-zero bins to 64-bit global bins; one model at a time.
//   histogram level 1: global 64-bit atomics, only for elements whose top bits equal the model's prefix.
//   tie cutoffs:       per (chunk, model) counts of |δ| == t; the host finds the chunk of the wanted-th, then one
//                      block per query scans that chunk with a block-wide prefix count.
//   census:            per thread Σ sign(score), a block sum, one 64-bit atomic per block into its segment.
//   merge:             one thread per element, models in order.
//
// The first non-finite element (flat index) is found with atomicMin and reported on the host from its values.
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.cuh"
#include "cuda_backend.h"
#include "error.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "staging.cuh"
#include "ties_internal.h"

namespace mt::cuda {

mt_status require_device();  // device.cu

namespace {

constexpr int kThreads = 256;
constexpr int kHistThreads = 1024;  // level 0: one 128 KiB block per SM, so a full SM's worth of threads
constexpr InputNames kNames = {"out", "base", "model"};
constexpr int64_t kChunk = int64_t{1} << 16;
constexpr unsigned long long kNoBad = ~0ull;
constexpr uint32_t kNonFinite = 0x7f800000u;

struct Chunk {
  int64_t segment;
  int64_t start;  // inside the segment
  int64_t flat;
  int64_t len;
};

struct Params {
  float* const* out;
  const float* const* base;    // NULL: the models are deltas
  const float* const* models;  // model-major
  const Chunk* chunks;
  const uint32_t* thresholds;  // [i · S + s]
  const int64_t* cutoffs;
  const float* weights;
  const float* zero_signs;
  const uint32_t* prefixes;
  unsigned long long* hist;    // [i · bins + b]
  unsigned long long* counts;  // tie counts [chunk · T + i], or census sums [segment]
  unsigned long long* first_bad;
  int64_t n_segments;
  int64_t n_chunks;
  int32_t n_models;
  int32_t election;
  int32_t aggregate;
  float lambda;
  int32_t check;
};

__device__ __forceinline__ float delta_at(const Params& p, int32_t i, const Chunk& c, int64_t e) {
  const float m = p.models[i * p.n_segments + c.segment][c.start + e];
  return p.base != nullptr ? __fsub_rn(m, p.base[c.segment][c.start + e]) : m;
}

__device__ __forceinline__ void note_bad(unsigned long long* bad, const Chunk& c, int64_t e) {
  atomicMin(bad, static_cast<unsigned long long>(c.flat + e));
}

__global__ void __launch_bounds__(kHistThreads) histogram0_kernel(const Params p) {
  extern __shared__ uint32_t bins[];  // MT_TIES_LEVEL0_BINS
  for (int32_t i = 0; i < p.n_models; ++i) {
    for (int b = threadIdx.x; b < MT_TIES_LEVEL0_BINS; b += kHistThreads) bins[b] = 0;
    __syncthreads();
    for (int64_t k = blockIdx.x; k < p.n_chunks; k += gridDim.x) {
      const Chunk c = p.chunks[k];
      for (int64_t e = threadIdx.x; e < c.len; e += kHistThreads) {
        const uint32_t a = ties_magnitude_bits(delta_at(p, i, c, e));
        if (p.check && a >= kNonFinite) note_bad(p.first_bad, c, e);
        atomicAdd(&bins[a >> 16], 1u);
      }
    }
    __syncthreads();
    for (int b = threadIdx.x; b < MT_TIES_LEVEL0_BINS; b += kHistThreads) {
      if (bins[b] != 0) atomicAdd(&p.hist[static_cast<int64_t>(i) * MT_TIES_LEVEL0_BINS + b], bins[b]);
    }
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kThreads) histogram1_kernel(const Params p) {
  const Chunk c = p.chunks[blockIdx.x];
  for (int32_t i = 0; i < p.n_models; ++i) {
    const uint32_t prefix = p.prefixes[i];
    if (prefix == MT_TIES_KEEP_NONE) continue;
    for (int64_t e = threadIdx.x; e < c.len; e += kThreads) {
      const uint32_t a = ties_magnitude_bits(delta_at(p, i, c, e));
      if (p.check && a >= kNonFinite) note_bad(p.first_bad, c, e);
      if ((a >> 16) == prefix) atomicAdd(&p.hist[static_cast<int64_t>(i) * MT_TIES_LEVEL1_BINS + (a & 0xffffu)], 1ull);
    }
  }
}

__global__ void __launch_bounds__(kThreads) equal_count_kernel(const Params p) {
  __shared__ unsigned long long total;
  const Chunk c = p.chunks[blockIdx.x];
  for (int32_t i = 0; i < p.n_models; ++i) {
    if (threadIdx.x == 0) total = 0;
    __syncthreads();
    const uint32_t t = p.thresholds[i * p.n_segments + c.segment];
    unsigned long long mine = 0;
    for (int64_t e = threadIdx.x; e < c.len; e += kThreads) {
      const uint32_t a = ties_magnitude_bits(delta_at(p, i, c, e));
      if (p.check && a >= kNonFinite) note_bad(p.first_bad, c, e);
      mine += a == t ? 1 : 0;
    }
    atomicAdd(&total, mine);
    __syncthreads();
    if (threadIdx.x == 0) p.counts[blockIdx.x * static_cast<int64_t>(p.n_models) + i] = total;
    __syncthreads();
  }
}

// One block per query: the position just after the want-th element equal to t in one chunk of one model.
struct Query {
  int64_t chunk;
  int32_t model;
  int32_t pad;
  int64_t want;    // 1-based rank among the chunk's equal elements
  int64_t result;  // segment-relative cutoff
};

__global__ void __launch_bounds__(kThreads) locate_kernel(const Params p, Query* queries) {
  __shared__ int scan[kThreads];
  Query& q = queries[blockIdx.x];
  const Chunk c = p.chunks[q.chunk];
  const uint32_t t = p.thresholds[q.model * p.n_segments + c.segment];
  int64_t before = 0;
  for (int64_t base = 0; base < c.len; base += kThreads) {
    const int64_t e = base + threadIdx.x;
    const int eq = e < c.len && ties_magnitude_bits(delta_at(p, q.model, c, e)) == t ? 1 : 0;
    scan[threadIdx.x] = eq;
    __syncthreads();
    for (int off = 1; off < kThreads; off <<= 1) {  // inclusive prefix sum (Hillis–Steele)
      const int v = threadIdx.x >= off ? scan[threadIdx.x - off] : 0;
      __syncthreads();
      scan[threadIdx.x] += v;
      __syncthreads();
    }
    if (eq && before + scan[threadIdx.x] == q.want) q.result = c.start + e + 1;
    before += scan[kThreads - 1];
    __syncthreads();
    if (before >= q.want) return;
  }
}

__device__ __forceinline__ bool accumulate(const Params& p, const Chunk& c, int64_t e, TiesAcc& acc, float* b) {
  ties_init(acc);
  bool ok = true;
  *b = p.base != nullptr ? p.base[c.segment][c.start + e] : 0.0f;
  for (int32_t i = 0; i < p.n_models; ++i) {
    const size_t q = static_cast<size_t>(i) * p.n_segments + c.segment;
    const float m = p.models[q][c.start + e];
    const float d = p.base != nullptr ? __fsub_rn(m, *b) : m;
    const uint32_t a = ties_magnitude_bits(d);
    ok = ok && a < kNonFinite;
    ties_add(acc, d, ties_kept(a, p.thresholds[q], c.start + e, p.cutoffs[q]), p.weights[i]);
  }
  return ok;
}

__global__ void __launch_bounds__(kThreads) census_kernel(const Params p) {
  __shared__ long long red[kThreads];
  const Chunk c = p.chunks[blockIdx.x];
  long long mine = 0;
  for (int64_t e = threadIdx.x; e < c.len; e += kThreads) {
    TiesAcc acc;
    float b;
    if (!accumulate(p, c, e, acc, &b) && p.check) note_bad(p.first_bad, c, e);
    mine += static_cast<long long>(ties_elect(acc, p.election, 0.0f));
  }
  red[threadIdx.x] = mine;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
    __syncthreads();
  }
  // Two's complement: adding the unsigned image of a negative sum subtracts it.
  if (threadIdx.x == 0 && red[0] != 0) atomicAdd(&p.counts[c.segment], static_cast<unsigned long long>(red[0]));
}

__global__ void __launch_bounds__(kThreads) merge_kernel(const Params p) {
  const Chunk c = p.chunks[blockIdx.x];
  float* out = p.out[c.segment] + c.start;
  const float z = p.zero_signs[c.segment];
  for (int64_t e = threadIdx.x; e < c.len; e += kThreads) {
    TiesAcc acc;
    float b;
    const bool ok = accumulate(p, c, e, acc, &b);
    const float r = ties_result(acc, p.election, z, p.aggregate, p.lambda, p.base != nullptr, b);
    if (p.check && !(ok && fabsf(r) <= FLT_MAX)) {
      note_bad(p.first_bad, c, e);
      continue;  // the inputs of a bad element stay intact
    }
    out[e] = r;
  }
}

// The chunk table and device copies of one call's tables.
struct Call {
  std::vector<int64_t> starts;
  std::vector<Chunk> chunks;
  int64_t first = -1;  // first non-empty segment
};

Call plan(int64_t n_segments, const int64_t* lengths) {
  Call call;
  call.starts.assign(static_cast<size_t>(n_segments) + 1, 0);
  for (int64_t s = 0; s < n_segments; ++s) {
    call.starts[s + 1] = call.starts[s] + lengths[s];
    if (call.first < 0 && lengths[s] > 0) call.first = s;
    for (int64_t at = 0; at < lengths[s]; at += kChunk) {
      call.chunks.push_back(Chunk{s, at, call.starts[s] + at, std::min(kChunk, lengths[s] - at)});
    }
  }
  return call;
}

mt_status check_inputs(float* const* out, const float* const* base, int32_t n_models, const float* const* models,
                       int64_t n_segments, int64_t first) {
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = MT_OK;
  if (out != nullptr) st = check_pointer(out[first], MT_INPUT_OUTPUT, kNames, first, device);
  if (st == MT_OK && base != nullptr) st = check_pointer(base[first], MT_INPUT_BASE, kNames, first, device);
  for (int32_t i = 0; i < n_models && st == MT_OK; ++i) {
    st = check_pointer(models[i * n_segments + first], i, kNames, first, device);
  }
  return st;
}

// Reads element (segment, element) of base and models back and names the culprit (or the recomputed result).
mt_status report(const Call& call, unsigned long long flat, int64_t n_segments, const float* const* base,
                 int32_t n_models, const float* const* models, const uint32_t* thresholds, const int64_t* cutoffs,
                 const float* weights, int32_t election, const float* zero_signs, int32_t aggregate, float lambda) {
  const int64_t f = static_cast<int64_t>(flat);
  const int64_t s = std::upper_bound(call.starts.begin(), call.starts.end(), f) - call.starts.begin() - 1;
  const int64_t j = f - call.starts[s];
  float b = 0.0f;
  std::vector<float> v(static_cast<size_t>(n_models));
  cudaError_t e = base != nullptr ? cudaMemcpy(&b, base[s] + j, sizeof(float), cudaMemcpyDeviceToHost) : cudaSuccess;
  for (int32_t i = 0; i < n_models && e == cudaSuccess; ++i) {
    e = cudaMemcpy(&v[i], models[i * n_segments + s] + j, sizeof(float), cudaMemcpyDeviceToHost);
  }
  if (e != cudaSuccess) return fail_cuda(e, "reading back the non-finite element");
  float result = 0.0f;
  if (zero_signs != nullptr) {  // the merge: recompute what the kernel did not store
    TiesAcc acc;
    ties_init(acc);
    for (int32_t i = 0; i < n_models; ++i) {
      const size_t q = static_cast<size_t>(i) * n_segments + s;
      const float d = base != nullptr ? v[i] - b : v[i];
      ties_add(acc, d, ties_kept(ties_magnitude_bits(d), thresholds[q], j, cutoffs[q]), weights[i]);
    }
    result = ties_result(acc, election, zero_signs[s], aggregate, lambda, base != nullptr, b);
  }
  return report_ties(s, j, base != nullptr, b, v.data(), n_models, result);
}

// Uploads the call's table (with a zeroed result area of result_bytes), runs launch(params, stream, chunks),
// copies the result area into result_host and reports the first bad element, if any.
template <typename Launch>
mt_status run(void* stream_handle, int64_t n_segments, const int64_t* lengths, float* const* out,
              const float* const* base, int32_t n_models, const float* const* models, const uint32_t* thresholds,
              const int64_t* cutoffs, const float* weights, int32_t election, const float* zero_signs,
              int32_t aggregate, float lambda, const uint32_t* prefixes, size_t result_bytes, void* result_host,
              int32_t flags, const char* what, Launch&& launch) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const Call call = plan(n_segments, lengths);
  if (call.first < 0) return MT_OK;
  mt_status st = check_inputs(out, base, n_models, models, n_segments, call.first);
  if (st != MT_OK) return st;
  const size_t S = static_cast<size_t>(n_segments), T = static_cast<size_t>(n_models), C = call.chunks.size();
  if (C > 0x7fffffffu) return fail(MT_INVALID_ARGUMENT, "too many elements for one call");
  const unsigned long long no_bad = kNoBad;
  Table table;
  const size_t at_bad = table.add(&no_bad, sizeof(no_bad));
  const size_t at_out = out != nullptr ? table.add(out, sizeof(float*) * S) : 0;
  const size_t at_base = base != nullptr ? table.add(base, sizeof(float*) * S) : 0;
  const size_t at_models = table.add(models, sizeof(float*) * T * S);
  const size_t at_chunks = table.add(call.chunks.data(), sizeof(Chunk) * C);
  const size_t at_t = thresholds != nullptr ? table.add(thresholds, sizeof(uint32_t) * T * S) : 0;
  const size_t at_c = cutoffs != nullptr ? table.add(cutoffs, sizeof(int64_t) * T * S) : 0;
  const size_t at_w = weights != nullptr ? table.add(weights, sizeof(float) * T) : 0;
  const size_t at_z = zero_signs != nullptr ? table.add(zero_signs, sizeof(float) * S) : 0;
  const size_t at_prefix = prefixes != nullptr ? table.add(prefixes, sizeof(uint32_t) * T) : 0;
  const size_t at_result = table.add(nullptr, result_bytes);  // zeroed by the upload (Table fills with 0)
  unsigned char* dev = nullptr;
  bool pool = true;
  st = upload_table(stream, table, table.bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }
  Params p{out != nullptr ? reinterpret_cast<float* const*>(dev + at_out) : nullptr,
           base != nullptr ? reinterpret_cast<const float* const*>(dev + at_base) : nullptr,
           reinterpret_cast<const float* const*>(dev + at_models),
           reinterpret_cast<const Chunk*>(dev + at_chunks),
           thresholds != nullptr ? reinterpret_cast<const uint32_t*>(dev + at_t) : nullptr,
           cutoffs != nullptr ? reinterpret_cast<const int64_t*>(dev + at_c) : nullptr,
           weights != nullptr ? reinterpret_cast<const float*>(dev + at_w) : nullptr,
           zero_signs != nullptr ? reinterpret_cast<const float*>(dev + at_z) : nullptr,
           prefixes != nullptr ? reinterpret_cast<const uint32_t*>(dev + at_prefix) : nullptr,
           reinterpret_cast<unsigned long long*>(dev + at_result),
           reinterpret_cast<unsigned long long*>(dev + at_result),
           reinterpret_cast<unsigned long long*>(dev + at_bad),
           n_segments,
           static_cast<int64_t>(C),
           n_models,
           election,
           aggregate,
           lambda,
           (flags & MT_CHECK_FINITE) != 0 ? 1 : 0};
  cudaError_t e = launch(p, stream, C);
  unsigned long long bad = kNoBad;
  if (e == cudaSuccess) e = cudaMemcpyAsync(&bad, dev + at_bad, sizeof(bad), cudaMemcpyDeviceToHost, stream);
  if (e == cudaSuccess && result_bytes > 0) {
    e = cudaMemcpyAsync(result_host, dev + at_result, result_bytes, cudaMemcpyDeviceToHost, stream);
  }
  free_table(stream, dev, pool);
  const cudaError_t synced = cudaStreamSynchronize(stream);
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, what);
  if (bad == kNoBad) return MT_OK;
  return report(call, bad, n_segments, base, n_models, models, thresholds, cutoffs, weights, election, zero_signs,
                aggregate, lambda);
}

}  // namespace

mt_status ties_histogram_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* base,
                             int32_t n_models, const float* const* models, int32_t level, const uint32_t* prefixes,
                             int64_t* hist, int32_t flags) {
  const size_t bins = level == 0 ? MT_TIES_LEVEL0_BINS : MT_TIES_LEVEL1_BINS;
  std::vector<unsigned long long> counts(bins * static_cast<size_t>(n_models), 0);
  const mt_status st = run(
      stream, n_segments, lengths, nullptr, base, n_models, models, nullptr, nullptr, nullptr, 0, nullptr, 0, 0.0f,
      level == 1 ? prefixes : nullptr, sizeof(unsigned long long) * counts.size(), counts.data(), flags,
      "the TIES histogram kernel", [&](const Params& p, cudaStream_t s, size_t C) {
        void* args[] = {const_cast<Params*>(&p)};
        if (level == 1) {
          return cudaLaunchKernel(reinterpret_cast<const void*>(&histogram1_kernel), dim3(static_cast<unsigned>(C)),
                                  dim3(kThreads), args, 0, s);
        }
        const int shared = MT_TIES_LEVEL0_BINS * static_cast<int>(sizeof(uint32_t));
        cudaError_t e = cudaFuncSetAttribute(reinterpret_cast<const void*>(&histogram0_kernel),
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, shared);
        int device = 0, sms = 1;
        if (e == cudaSuccess) e = cudaGetDevice(&device);
        if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
        if (e != cudaSuccess) return e;
        const unsigned blocks = static_cast<unsigned>(std::min<size_t>(C, static_cast<size_t>(sms)));
        return cudaLaunchKernel(reinterpret_cast<const void*>(&histogram0_kernel), dim3(blocks), dim3(kHistThreads),
                                args, shared, s);
      });
  if (st != MT_OK) return st;
  for (size_t k = 0; k < counts.size(); ++k) hist[k] += static_cast<int64_t>(counts[k]);
  return MT_OK;
}

mt_status ties_tie_cutoffs_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* wanted, int64_t* tie_counts, int64_t* cutoffs, int32_t flags) {
  const Call call = plan(n_segments, lengths);
  const size_t T = static_cast<size_t>(n_models), S = static_cast<size_t>(n_segments), C = call.chunks.size();
  std::vector<unsigned long long> counts(C * T, 0);
  mt_status st = run(stream, n_segments, lengths, nullptr, base, n_models, models, thresholds, nullptr, nullptr, 0,
                     nullptr, 0, 0.0f, nullptr, sizeof(unsigned long long) * counts.size(), counts.data(), flags,
                     "the TIES tie-count kernel", [&](const Params& p, cudaStream_t s, size_t chunks) {
                       void* args[] = {const_cast<Params*>(&p)};
                       return cudaLaunchKernel(reinterpret_cast<const void*>(&equal_count_kernel),
                                               dim3(static_cast<unsigned>(chunks)), dim3(kThreads), args, 0, s);
                     });
  if (st != MT_OK) return st;
  // Chunks are in segment order, so a segment's chunks are consecutive: totals, then the chunk of the wanted-th.
  std::vector<Query> queries;
  std::vector<size_t> query_pair;
  for (size_t q = 0; q < T * S; ++q) {
    tie_counts[q] = 0;
    cutoffs[q] = 0;
  }
  for (size_t k = 0; k < C; ++k) {
    for (size_t i = 0; i < T; ++i) tie_counts[i * S + call.chunks[k].segment] += static_cast<int64_t>(counts[k * T + i]);
  }
  std::vector<int64_t> seen(T * S, 0);
  for (size_t q = 0; q < T * S; ++q) {
    const int64_t want = wanted[q];
    cutoffs[q] = want == 0 ? 0 : lengths[q % S];
  }
  for (size_t k = 0; k < C; ++k) {
    const int64_t s = call.chunks[k].segment;
    for (size_t i = 0; i < T; ++i) {
      const size_t q = i * S + s;
      const int64_t want = wanted[q], in_chunk = static_cast<int64_t>(counts[k * T + i]);
      if (want > 0 && want < tie_counts[q] && seen[q] < want && seen[q] + in_chunk >= want) {
        queries.push_back(Query{static_cast<int64_t>(k), static_cast<int32_t>(i), 0, want - seen[q], -1});
        query_pair.push_back(q);
      }
      seen[q] += in_chunk;
    }
  }
  if (queries.empty()) return MT_OK;
  // The queries go up in their own small allocation; the locate pass reuses run() for the table and the report.
  std::vector<Query> located(queries.size());
  Query* dev_queries = nullptr;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&dev_queries), sizeof(Query) * queries.size());
  if (e == cudaSuccess) {
    e = cudaMemcpyAsync(dev_queries, queries.data(), sizeof(Query) * queries.size(), cudaMemcpyHostToDevice, s);
  }
  if (e != cudaSuccess) {
    if (dev_queries != nullptr) cudaFree(dev_queries);
    return fail_cuda(e, "uploading the TIES tie queries");
  }
  st = run(stream, n_segments, lengths, nullptr, base, n_models, models, thresholds, nullptr, nullptr, 0, nullptr, 0,
           0.0f, nullptr, 0, nullptr, 0, "the TIES locate kernel", [&](const Params& p, cudaStream_t st2, size_t) {
             void* args[] = {const_cast<Params*>(&p), &dev_queries};
             return cudaLaunchKernel(reinterpret_cast<const void*>(&locate_kernel),
                                     dim3(static_cast<unsigned>(queries.size())), dim3(kThreads), args, 0, st2);
           });
  if (st == MT_OK) {
    e = cudaMemcpy(located.data(), dev_queries, sizeof(Query) * queries.size(), cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) st = fail_cuda(e, "reading back the TIES tie cutoffs");
  }
  cudaFree(dev_queries);
  if (st != MT_OK) return st;
  for (size_t k = 0; k < located.size(); ++k) {
    if (located[k].result < 0) return fail(MT_INTERNAL, "TIES locate kernel did not find a counted element");
    cutoffs[query_pair[k]] = located[k].result;
  }
  return MT_OK;
}

mt_status ties_sign_census_f32(void* stream, int64_t n_segments, const int64_t* lengths, const float* const* base,
                               int32_t n_models, const float* const* models, const uint32_t* thresholds,
                               const int64_t* cutoffs, const float* weights, int32_t election, int64_t* sign_sums,
                               int32_t flags) {
  std::vector<unsigned long long> sums(static_cast<size_t>(n_segments), 0);
  const mt_status st = run(stream, n_segments, lengths, nullptr, base, n_models, models, thresholds, cutoffs, weights,
                           election, nullptr, 0, 0.0f, nullptr, sizeof(unsigned long long) * sums.size(), sums.data(),
                           flags, "the TIES census kernel", [&](const Params& p, cudaStream_t s, size_t C) {
                             void* args[] = {const_cast<Params*>(&p)};
                             return cudaLaunchKernel(reinterpret_cast<const void*>(&census_kernel),
                                                     dim3(static_cast<unsigned>(C)), dim3(kThreads), args, 0, s);
                           });
  if (st != MT_OK) return st;
  for (int64_t s = 0; s < n_segments; ++s) sign_sums[s] = static_cast<int64_t>(sums[s]);
  return MT_OK;
}

mt_status ties_merge_f32(void* stream, int64_t n_segments, const int64_t* lengths, float* const* out,
                         const float* const* base, int32_t n_models, const float* const* models,
                         const uint32_t* thresholds, const int64_t* cutoffs, const float* weights, int32_t election,
                         const float* zero_signs, int32_t aggregate, float lambda, int32_t flags) {
  return run(stream, n_segments, lengths, out, base, n_models, models, thresholds, cutoffs, weights, election,
             zero_signs, aggregate, lambda, nullptr, 0, nullptr, flags, "the TIES merge kernel",
             [&](const Params& p, cudaStream_t s, size_t C) {
               void* args[] = {const_cast<Params*>(&p)};
               return cudaLaunchKernel(reinterpret_cast<const void*>(&merge_kernel), dim3(static_cast<unsigned>(C)),
                                       dim3(kThreads), args, 0, s);
             });
}

}  // namespace mt::cuda
