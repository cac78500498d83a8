// mt_gta_f32 on CUDA (the maths: gta.h). One thread per element computes gta_internal.h's expression with
// __fmul_rn / __fadd_rn / __fsub_rn / __fdiv_rn (no FMA contraction, IEEE division), so the result equals the
// CPU kernel's bit for bit. The call's table (model and mask pointers, coefficients, weights) is uploaded into
// stream-ordered device memory; the call then synchronises its stream (the table is freed, and with
// MT_CHECK_FINITE the first bad element, an atomicMin over flat indices, is read back and named by the CPU's
// report from the intact inputs).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.cuh"
#include "cuda_backend.h"
#include "error.h"
#include "gta_internal.h"
#include "interp_report.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE

namespace mt::cuda {

mt_status require_device();  // device.cu

namespace {

constexpr int kThreads = 256;
constexpr InputNames kNames = {"out", "base", "model"};

struct Table {
  const float* models[MT_GTA_MAX_MODELS];
  const uint32_t* bits[MT_GTA_MAX_MODELS];
  float coefs[MT_GTA_MAX_MODELS];
  float weights[MT_GTA_MAX_MODELS];
};

__device__ __forceinline__ float masked_delta(const Table& t, int32_t i, int64_t j, float b) {
  const uint32_t* bits = t.bits[i];
  const bool keep = bits == nullptr || ((bits[j >> 5] >> (j & 31)) & 1u) != 0;
  return keep ? __fsub_rn(t.models[i][j], b) : 0.0f;
}

__global__ void gta_kernel(int64_t n, float* out, const float* base, int32_t n_models, const Table* table,
                           int32_t consensus, int32_t normalize, float divisor, float lambda, int32_t check,
                           unsigned long long* first_bad) {
  const Table& t = *table;
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < n; j += int64_t{gridDim.x} * blockDim.x) {
    const float b = base == nullptr ? 0.0f : base[j];
    bool bad = !isfinite(b);
    float mixed = 0.0f, d = divisor;
    if (consensus == MT_GTA_CONSENSUS_NONE) {
      for (int32_t i = 0; i < n_models; ++i) {
        bad |= !isfinite(t.models[i][j]);
        mixed = __fadd_rn(mixed, __fmul_rn(t.coefs[i], masked_delta(t, i, j, b)));
      }
    } else {
      float total = 0.0f;
      for (int32_t i = 0; i < n_models; ++i) {
        bad |= !isfinite(t.models[i][j]);
        const float wd = __fmul_rn(t.coefs[i], masked_delta(t, i, j, b));
        total = consensus == MT_GTA_CONSENSUS_SUM ? __fadd_rn(total, wd)
                                                   : __fadd_rn(total, static_cast<float>(gta_sign(wd)));
      }
      const int s = total >= 0.0f ? 1 : -1;
      d = 0.0f;
      for (int32_t i = 0; i < n_models; ++i) {
        const float wd = __fmul_rn(t.coefs[i], masked_delta(t, i, j, b));
        if (gta_sign(wd) == s) {
          mixed = __fadd_rn(mixed, wd);
          d = __fadd_rn(d, t.weights[i]);
        }
      }
      if (d == 0.0f) d = 1.0f;
    }
    const float r = __fadd_rn(b, __fmul_rn(lambda, normalize != 0 ? __fdiv_rn(mixed, d) : mixed));
    if (check && (bad || !isfinite(r))) {
      atomicMin(first_bad, static_cast<unsigned long long>(j));
      continue;
    }
    out[j] = r;
  }
}

}  // namespace

mt_status gta_f32(void* stream_handle, int64_t n, float* out, const float* base, int32_t n_models,
                  const float* const* models, const uint32_t* const* keep_bits, const float* coefs,
                  const float* weights, int32_t consensus, int32_t normalize, float divisor, float lambda,
                  int32_t flags) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  if (n == 0) return MT_OK;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  mt_status st = check_pointer(out, MT_INPUT_OUTPUT, kNames, 0, device);
  if (st == MT_OK && base != nullptr) st = check_pointer(base, MT_INPUT_BASE, kNames, 0, device);
  for (int32_t i = 0; i < n_models && st == MT_OK; ++i) st = check_pointer(models[i], i, kNames, 0, device);
  if (st != MT_OK) return st;

  std::vector<unsigned char> host(sizeof(Table) + sizeof(unsigned long long));
  Table* table = reinterpret_cast<Table*>(host.data());
  for (int32_t i = 0; i < n_models; ++i) {
    table->models[i] = models[i];
    table->bits[i] = keep_bits == nullptr ? nullptr : keep_bits[i];
    table->coefs[i] = coefs[i];
    table->weights[i] = weights[i];
  }
  const unsigned long long none = ~0ull;
  std::memcpy(host.data() + sizeof(Table), &none, sizeof(none));
  unsigned char* dev = nullptr;
  e = cudaMallocAsync(reinterpret_cast<void**>(&dev), host.size(), stream);
  if (e != cudaSuccess) return fail_cuda(e, "cudaMallocAsync");
  e = cudaMemcpyAsync(dev, host.data(), host.size(), cudaMemcpyHostToDevice, stream);
  unsigned long long bad = none;
  if (e == cudaSuccess) {
    const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, 65535 * 8);
    gta_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        n, out, base, n_models, reinterpret_cast<const Table*>(dev), consensus, normalize, divisor, lambda,
        (flags & MT_CHECK_FINITE) != 0 ? 1 : 0, reinterpret_cast<unsigned long long*>(dev + sizeof(Table)));
    e = cudaGetLastError();
  }
  if (e == cudaSuccess) e = cudaMemcpyAsync(&bad, dev + sizeof(Table), sizeof(bad), cudaMemcpyDeviceToHost, stream);
  const cudaError_t freed = cudaFreeAsync(dev, stream);
  if (e == cudaSuccess) e = freed;
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) return fail_cuda(e, "gta kernel");
  if (bad == none) return MT_OK;
  const int64_t k = static_cast<int64_t>(bad);
  std::vector<float> mv(n_models);
  float b = 0.0f;
  if (base != nullptr) cudaMemcpy(&b, base + k, sizeof(float), cudaMemcpyDeviceToHost);
  for (int32_t i = 0; i < n_models; ++i) cudaMemcpy(&mv[i], models[i] + k, sizeof(float), cudaMemcpyDeviceToHost);
  return report_non_finite(0, k, b, mv.data(), n_models, NAN);
}

}  // namespace mt::cuda
