// K1 on CUDA: the multi-α interpolated loss, forward and backward fused (multialpha.h), fp32, deterministic.
//
// Four kernels on `stream`, all reductions in a fixed order (no float atomics):
//   prepare  (re-normalised mode) one thread per (k, c): r_k[c] = (n0 + 2α·n1 + α²·n2)^(-1/2) in double, kept in
//            fp32 for the logits and in double for the n-gradients; a bad argument gives r = NaN.
//   rows     one block per row, in the pattern of llm.c's fused classifier (the upstream gradient ω_k/B is known
//            before the forward, so the softmax, the loss and dlogits come from one visit of the row): pass 1, per
//            point k, each thread keeps an online max / Σexp over its classes, then fixed-tree block reductions give
//            max_k, Σexp_k and Σq·z; pass 2 visits each class once for all K points and writes dA, dD and, for
//            the n-gradients, H_k[b,c] = G·s·x into scratch [B, K, C]; the row's K losses go to scratch [B, K].
//   losses   one block: L_k = Σ_b ℓ[b,k] / B in double, rows in order; the total.
//   columns  one thread per class: H_k[c] = Σ_b H_k[b,c] in double, rows in order, then dn0, dn1, dn2.
//
// MT_CHECK_FINITE: every offending element's key goes into an integer atomicMin slot (a minimum does not depend on
// the schedule); the keys are ordered as the CPU scans, so both devices report the same first culprit. After one
// stream synchronisation the host decodes the slots and reads the offending value back.
#include <cuda_runtime.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "common.cuh"
#include "cuda_backend.h"
#include "error.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "multialpha_internal.h"
#include "staging.cuh"

namespace mt::cuda {

mt_status fail_cuda(cudaError_t e, const char* what);  // device.cu
mt_status require_device();                             // device.cu

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr unsigned long long kNone = ~0ull;

// Check slots, each the minimum key met: labels (row), n (q·C + c), elements ((b·C + c)·4 + {A, D, P, P < 0}),
// r argument (k·C + c), results (losses k, total K, dA K+1+i, dD K+1+BC+i, dn_q K+1+2BC+q·C+c).
enum Slot { kLabels = 0, kNorms, kElements, kArgument, kResults, kSlots };

struct Params {
  const float *a, *d, *n0, *n1, *n2, *targets;
  const int32_t* labels;
  float *losses, *total, *grad_a, *grad_d, *grad_n[3];
  float* r;            // [K·C] fp32 (NULL in plain mode)
  double* rd;          // [K·C]
  float* row_loss;     // [B·K]
  float* h;            // [B·K·C] or NULL
  unsigned long long* slots;
  int64_t rows, classes;
  int32_t n_points;
  int32_t kl;
  float smoothing, scale;
  float alphas[MT_MULTIALPHA_MAX_POINTS];
  float weights[MT_MULTIALPHA_MAX_POINTS];
};

__device__ __forceinline__ bool finite_f(float v) { return fabsf(v) <= FLT_MAX; }

struct Sum {
  __device__ float operator()(float x, float y) const { return x + y; }
};
struct Max {
  __device__ float operator()(float x, float y) const { return fmaxf(x, y); }
};

// v over the block in a fixed tree (warp shuffles down, then the warp leaders); valid in every thread.
template <class Op>
__device__ float block_reduce(float v, float identity, float* shared, Op op) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < kWarps ? shared[lane] : identity;
#pragma unroll
    for (int o = kWarps / 2; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) shared[kWarps] = v;
  }
  __syncthreads();
  const float out = shared[kWarps];
  __syncthreads();
  return out;
}

template <bool kCheck>
__global__ void prepare_kernel(const Params p) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t C = p.classes;
  if (i >= p.n_points * C) return;
  const int64_t k = i / C, c = i % C;
  double r = 0.0;
  if (!multialpha_r(p.n0[c], p.n1[c], p.n2[c], p.alphas[k], &r)) {
    r = NAN;
    if (kCheck) atomicMin(&p.slots[kArgument], static_cast<unsigned long long>(i));
  }
  p.r[i] = static_cast<float>(r);
  p.rd[i] = r;
  if (kCheck && k == 0) {
    const float n[3] = {p.n0[c], p.n1[c], p.n2[c]};
    for (int q = 0; q < 3; ++q) {
      if (!finite_f(n[q])) atomicMin(&p.slots[kNorms], static_cast<unsigned long long>(q * C + c));
    }
  }
}

template <bool kCheck>
__global__ void __launch_bounds__(kThreads) rows_kernel(const Params p) {
  __shared__ float red[kWarps + 1];
  __shared__ float max_k[MT_MULTIALPHA_MAX_POINTS], scale_k[MT_MULTIALPHA_MAX_POINTS];
  const int64_t b = blockIdx.x, C = p.classes;
  const int32_t K = p.n_points;
  const float* a = p.a + b * C;
  const float* d = p.d + b * C;
  const float* pt = p.kl ? p.targets + b * C : nullptr;
  const float s = p.scale;

  // The target: CE q = ε/C + (1 − ε)·[c = y]; KL q = P (Σq and Σ P log P per row).
  int64_t y = -1;
  float poison = 0.0f;  // NaN for an out-of-range label: NaN loss and gradients, no wild read
  if (!p.kl) {
    const int32_t label = p.labels[b];
    if (label >= 0 && label < C) {
      y = label;
    } else {
      poison = NAN;
      if (kCheck && threadIdx.x == 0) atomicMin(&p.slots[kLabels], static_cast<unsigned long long>(b));
    }
  }
  const float q_off = p.smoothing / static_cast<float>(C), q_label = 1.0f - p.smoothing;
  float qsum = 1.0f, plogp = 0.0f;
  if (p.kl) {
    float sq = 0.0f, sl = 0.0f;
    for (int64_t c = threadIdx.x; c < C; c += kThreads) {
      sq += pt[c];
      sl += pt[c] > 0.0f ? pt[c] * logf(pt[c]) : 0.0f;
    }
    qsum = block_reduce(sq, 0.0f, red, Sum());
    plogp = block_reduce(sl, 0.0f, red, Sum());
  }

  // Pass 1: per point, max, Σexp(z − max) and Σq·z (CE: Σz) over the row.
  for (int32_t k = 0; k < K; ++k) {
    const float al = p.alphas[k];
    const float* rk = p.r != nullptr ? p.r + k * C : nullptr;
    float m = -INFINITY, l = 0.0f, qz = 0.0f;
    for (int64_t c = threadIdx.x; c < C; c += kThreads) {
      const float z = s * (a[c] + al * d[c]) * (rk != nullptr ? rk[c] : 1.0f);
      if (z > m) {
        l = l * expf(m - z) + 1.0f;
        m = z;
      } else {
        l += expf(z - m);
      }
      qz += p.kl ? pt[c] * z : z;
    }
    const float mx = block_reduce(m, -INFINITY, red, Max());
    const float sum = block_reduce(m == -INFINITY ? 0.0f : l * expf(m - mx), 0.0f, red, Sum());
    qz = block_reduce(qz, 0.0f, red, Sum());
    if (threadIdx.x == 0) {
      const float lse = mx + logf(sum);
      float loss;
      if (p.kl) {
        loss = plogp - qz + qsum * lse;
      } else {
        const float zy = y >= 0 ? s * (a[y] + al * d[y]) * (rk != nullptr ? rk[y] : 1.0f) : 0.0f;
        loss = lse - q_off * qz - q_label * zy + poison;
      }
      p.row_loss[b * K + k] = loss;
      max_k[k] = mx;
      scale_k[k] = qsum / sum;  // p·Σq = exp(z − max)·Σq/Σexp
    }
  }
  __syncthreads();

  // Pass 2: every class once, all K points: dA, dD and H.
  unsigned long long bad = kNone, bad_result = kNone;
  const float inv_b = 1.0f / static_cast<float>(p.rows);
  for (int64_t c = threadIdx.x; c < C; c += kThreads) {
    const float av = a[c], dv = d[c], pv = p.kl ? pt[c] : 0.0f;
    if (kCheck) {
      const unsigned long long key = static_cast<unsigned long long>(b * C + c) * 4;
      if (!finite_f(av)) bad = min(bad, key);
      else if (!finite_f(dv)) bad = min(bad, key + 1);
      else if (p.kl && !finite_f(pv)) bad = min(bad, key + 2);
      else if (p.kl && pv < 0.0f) bad = min(bad, key + 3);
    }
    const float q = p.kl ? pv : (c == y ? q_label + q_off : q_off);
    float ga = 0.0f, gd = 0.0f;
    for (int32_t k = 0; k < K; ++k) {
      const float al = p.alphas[k];
      const float rv = p.r != nullptr ? p.r[k * C + c] : 1.0f;
      const float sx = s * (av + al * dv);
      const float z = sx * rv;
      const float g = p.weights[k] * inv_b * (expf(z - max_k[k]) * scale_k[k] - q) + poison;
      ga += g * rv;
      gd += al * g * rv;
      if (p.h != nullptr) p.h[(b * K + k) * C + c] = g * sx;
    }
    ga *= s;
    gd *= s;
    if (p.grad_a != nullptr) p.grad_a[b * C + c] = ga;
    if (p.grad_d != nullptr) p.grad_d[b * C + c] = gd;
    if (kCheck) {
      const unsigned long long base = static_cast<unsigned long long>(K) + 1;
      const unsigned long long bc = static_cast<unsigned long long>(p.rows * C);
      if (p.grad_a != nullptr && !finite_f(ga)) bad_result = min(bad_result, base + b * C + c);
      else if (p.grad_d != nullptr && !finite_f(gd)) bad_result = min(bad_result, base + bc + b * C + c);
    }
  }
  if (kCheck && bad != kNone) atomicMin(&p.slots[kElements], bad);
  if (kCheck && bad_result != kNone) atomicMin(&p.slots[kResults], bad_result);
}

template <bool kCheck>
__global__ void losses_kernel(const Params p) {
  __shared__ double mean[MT_MULTIALPHA_MAX_POINTS];
  const int32_t k = threadIdx.x, K = p.n_points;
  if (k < K) {
    double l = 0.0;
    for (int64_t b = 0; b < p.rows; ++b) l += p.row_loss[b * K + k];
    mean[k] = l / static_cast<double>(p.rows);
    if (p.losses != nullptr) p.losses[k] = static_cast<float>(mean[k]);
    if (kCheck && p.losses != nullptr && !finite_f(static_cast<float>(mean[k]))) {
      atomicMin(&p.slots[kResults], static_cast<unsigned long long>(k));
    }
  }
  __syncthreads();
  if (k == 0) {
    double t = 0.0;
    for (int32_t j = 0; j < K; ++j) t += static_cast<double>(p.weights[j]) * mean[j];
    if (p.total != nullptr) *p.total = static_cast<float>(t);
    if (kCheck && p.total != nullptr && !finite_f(static_cast<float>(t))) {
      atomicMin(&p.slots[kResults], static_cast<unsigned long long>(K));
    }
  }
}

template <bool kCheck>
__global__ void columns_kernel(const Params p) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x, C = p.classes;
  if (c >= C) return;
  const int32_t K = p.n_points;
  double g[3] = {0.0, 0.0, 0.0};
  for (int32_t k = 0; k < K; ++k) {
    double hk = 0.0;
    for (int64_t b = 0; b < p.rows; ++b) hk += p.h[(b * K + k) * C + c];
    const double r = p.rd[k * C + c], al = p.alphas[k];
    const double f = -0.5 * hk * r * r * r;  // ∂r/∂q = −½·r³
    g[0] += f;
    g[1] += 2.0 * al * f;
    g[2] += al * al * f;
  }
  for (int q = 0; q < 3; ++q) {
    if (p.grad_n[q] == nullptr) continue;
    const float v = static_cast<float>(g[q]);
    p.grad_n[q][c] = v;
    if (kCheck && !finite_f(v)) {
      const unsigned long long key = static_cast<unsigned long long>(K) + 1 + 2ull * p.rows * C + q * C + c;
      atomicMin(&p.slots[kResults], key);
    }
  }
}

// One pointer's memory kind: device memory of the current device or managed memory.
mt_status check_device_pointer(const void* ptr, int32_t input, const char* name, int current_device) {
  if (ptr == nullptr) return MT_OK;
  cudaPointerAttributes at{};
  const cudaError_t e = cudaPointerGetAttributes(&at, ptr);
  if (e != cudaSuccess) return fail_cuda(e, "cudaPointerGetAttributes");
  if (at.type == cudaMemoryTypeManaged || (at.type == cudaMemoryTypeDevice && at.device == current_device)) {
    return MT_OK;
  }
  if (at.type == cudaMemoryTypeDevice) {
    return fail_at(MT_INVALID_ARGUMENT, input, -1, -1, "%s is memory of CUDA device %d, but the current device is %d",
                   name, at.device, current_device);
  }
  return fail_at(MT_INVALID_ARGUMENT, input, -1, -1,
                 "%s is host memory, not CUDA device or managed memory (MT_DEVICE_CUDA needs device pointers)", name);
}

float read_float(const float* p) {
  float v = NAN;
  cudaMemcpy(&v, p, sizeof(float), cudaMemcpyDeviceToHost);
  return v;
}

// The first culprit of the slots, in the CPU's order (labels, n, elements, r argument, results).
mt_status report(const MultiAlphaCall& c, const unsigned long long* slots) {
  const int64_t C = c.classes, B = c.rows, K = c.n_points;
  if (slots[kLabels] != kNone) {
    const int64_t b = static_cast<int64_t>(slots[kLabels]);
    int32_t label = 0;
    cudaMemcpy(&label, c.labels + b, sizeof(int32_t), cudaMemcpyDeviceToHost);
    return fail_at(MT_INVALID_ARGUMENT, MT_MA_INPUT_TARGETS, b, -1, "labels[%lld] = %d is not in [0, %lld)",
                   (long long)b, label, (long long)C);
  }
  if (slots[kNorms] != kNone) {
    const int64_t q = static_cast<int64_t>(slots[kNorms]) / C, j = static_cast<int64_t>(slots[kNorms]) % C;
    const float* n[3] = {c.n0, c.n1, c.n2};
    return fail_at(MT_NON_FINITE, MT_MA_INPUT_N0 + static_cast<int32_t>(q), -1, j, "non-finite n%lld[%lld] = %g",
                   (long long)q, (long long)j, static_cast<double>(read_float(n[q] + j)));
  }
  if (slots[kElements] != kNone) {
    const int64_t flat = static_cast<int64_t>(slots[kElements] / 4), which = static_cast<int64_t>(slots[kElements] % 4);
    const int64_t b = flat / C, j = flat % C;
    const float* src = which == 0 ? c.a : which == 1 ? c.d : c.targets;
    const double v = read_float(src + flat);
    if (which == 3) {
      return fail_at(MT_INVALID_ARGUMENT, MT_MA_INPUT_TARGETS, b, j, "targets at row %lld, class %lld is %g < 0",
                     (long long)b, (long long)j, v);
    }
    const char* name = which == 0 ? "a" : which == 1 ? "d" : "targets";
    return fail_at(MT_NON_FINITE, static_cast<int32_t>(which == 2 ? MT_MA_INPUT_TARGETS : which), b, j,
                   "non-finite %s at row %lld, class %lld: %g", name, (long long)b, (long long)j, v);
  }
  if (slots[kArgument] != kNone) {
    const int64_t k = static_cast<int64_t>(slots[kArgument]) / C, j = static_cast<int64_t>(slots[kArgument]) % C;
    const double al = c.alphas[k];
    return fail_at(MT_INVALID_ARGUMENT, MT_MA_INPUT_N0, -1, j,
                   "n0 + 2α·n1 + α²·n2 must be finite and > 0: class %lld, α = %g gives %g + 2·%g·%g + %g²·%g",
                   (long long)j, al, static_cast<double>(read_float(c.n0 + j)), al,
                   static_cast<double>(read_float(c.n1 + j)), al, static_cast<double>(read_float(c.n2 + j)));
  }
  if (slots[kResults] != kNone) {
    const int64_t key = static_cast<int64_t>(slots[kResults]);
    if (key < K) return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, -1, key, "loss of point %lld overflowed", (long long)key);
    if (key == K) return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, -1, -1, "total loss overflowed");
    int64_t i = key - K - 1;
    if (i < 2 * B * C) {
      const char* name = i < B * C ? "grad_a" : "grad_d";
      i %= B * C;
      return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, i / C, i % C, "gradient %s overflowed at row %lld, class %lld",
                     name, (long long)(i / C), (long long)(i % C));
    }
    i -= 2 * B * C;
    return fail_at(MT_NON_FINITE, MT_MA_INPUT_RESULT, -1, i % C, "gradient of n overflowed at class %lld",
                   (long long)(i % C));
  }
  return MT_OK;
}

}  // namespace

mt_status multialpha_f32(void* stream_handle, const MultiAlphaCall& c) {
  const mt_status ready = require_device();
  if (ready != MT_OK) return ready;
  cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  const bool check = (c.flags & MT_CHECK_FINITE) != 0;
  const int64_t B = c.rows, C = c.classes, K = c.n_points;

  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return fail_cuda(e, "cudaGetDevice");
  const struct {
    const void* ptr;
    int32_t input;
    const char* name;
  } pointers[] = {{c.a, MT_MA_INPUT_A, "a"},           {c.d, MT_MA_INPUT_D, "d"},
                  {c.n0, MT_MA_INPUT_N0, "n0"},        {c.n1, MT_MA_INPUT_N1, "n1"},
                  {c.n2, MT_MA_INPUT_N2, "n2"},        {c.kl() ? static_cast<const void*>(c.targets) : c.labels, MT_MA_INPUT_TARGETS, c.kl() ? "targets" : "labels"},
                  {c.losses, MT_MA_INPUT_RESULT, "losses"}, {c.total, MT_MA_INPUT_RESULT, "total"},
                  {c.grad_a, MT_MA_INPUT_RESULT, "grad_a"}, {c.grad_d, MT_MA_INPUT_RESULT, "grad_d"},
                  {c.grad_n0, MT_MA_INPUT_RESULT, "grad_n0"}, {c.grad_n1, MT_MA_INPUT_RESULT, "grad_n1"},
                  {c.grad_n2, MT_MA_INPUT_RESULT, "grad_n2"}};
  for (const auto& q : pointers) {
    const mt_status st = check_device_pointer(q.ptr, q.input, q.name, device);
    if (st != MT_OK) return st;
  }

  // One allocation: [slots | r (fp32) | rd (double) | row losses | H], the slots uploaded as "none".
  const bool want_h = c.want_n();
  unsigned long long none[kSlots];
  for (auto& v : none) v = kNone;
  Table table;
  const size_t at_slots = table.add(none, sizeof(none));
  const size_t at_r = table.bytes;
  const size_t r_bytes = c.renorm() ? ((sizeof(float) * K * C + 15) & ~size_t{15}) : 0;
  const size_t at_rd = at_r + r_bytes;
  const size_t at_loss = at_rd + (c.renorm() ? sizeof(double) * K * C : 0);
  const size_t at_h = at_loss + ((sizeof(float) * B * K + 15) & ~size_t{15});
  const size_t total_bytes = at_h + (want_h ? sizeof(float) * B * K * C : 0);
  unsigned char* dev = nullptr;
  bool pool = true;
  mt_status st = upload_table(stream, table, total_bytes, &dev, &pool);
  if (st != MT_OK) {
    free_table(stream, dev, pool);
    return st;
  }

  Params p{};
  p.a = c.a;
  p.d = c.d;
  p.n0 = c.n0;
  p.n1 = c.n1;
  p.n2 = c.n2;
  p.targets = c.targets;
  p.labels = c.labels;
  p.losses = c.losses;
  p.total = c.total;
  p.grad_a = c.grad_a;
  p.grad_d = c.grad_d;
  p.grad_n[0] = c.grad_n0;
  p.grad_n[1] = c.grad_n1;
  p.grad_n[2] = c.grad_n2;
  p.r = c.renorm() ? reinterpret_cast<float*>(dev + at_r) : nullptr;
  p.rd = c.renorm() ? reinterpret_cast<double*>(dev + at_rd) : nullptr;
  p.row_loss = reinterpret_cast<float*>(dev + at_loss);
  p.h = want_h ? reinterpret_cast<float*>(dev + at_h) : nullptr;
  p.slots = reinterpret_cast<unsigned long long*>(dev + at_slots);
  p.rows = B;
  p.classes = C;
  p.n_points = c.n_points;
  p.kl = c.kl() ? 1 : 0;
  p.smoothing = c.smoothing;
  p.scale = c.scale;
  for (int64_t k = 0; k < K; ++k) {
    p.alphas[k] = c.alphas[k];
    p.weights[k] = c.weights[k];
  }

  void* args[] = {&p};
  auto launch = [&](const void* fn, int64_t blocks, int threads) {
    return cudaLaunchKernel(fn, dim3(static_cast<unsigned>(blocks)), dim3(threads), args, 0, stream);
  };
  const int64_t kc_blocks = (K * C + kThreads - 1) / kThreads, c_blocks = (C + kThreads - 1) / kThreads;
  if (c.renorm()) {
    e = launch(check ? reinterpret_cast<const void*>(&prepare_kernel<true>)
                     : reinterpret_cast<const void*>(&prepare_kernel<false>),
               kc_blocks, kThreads);
  }
  if (e == cudaSuccess) {
    e = launch(check ? reinterpret_cast<const void*>(&rows_kernel<true>) : reinterpret_cast<const void*>(&rows_kernel<false>),
               B, kThreads);
  }
  if (e == cudaSuccess) {
    e = launch(check ? reinterpret_cast<const void*>(&losses_kernel<true>)
                     : reinterpret_cast<const void*>(&losses_kernel<false>),
               1, MT_MULTIALPHA_MAX_POINTS);
  }
  if (e == cudaSuccess && want_h) {
    e = launch(check ? reinterpret_cast<const void*>(&columns_kernel<true>)
                     : reinterpret_cast<const void*>(&columns_kernel<false>),
               c_blocks, kThreads);
  }
  if (e != cudaSuccess) {
    free_table(stream, dev, pool);
    return fail_cuda(e, "launching the multi-alpha kernels");
  }
  if (!check) {
    free_table(stream, dev, pool);
    return MT_OK;
  }
  unsigned long long slots[kSlots];
  e = cudaMemcpyAsync(slots, dev + at_slots, sizeof(slots), cudaMemcpyDeviceToHost, stream);
  free_table(stream, dev, pool);
  const cudaError_t synced = cudaStreamSynchronize(stream);  // also surfaces faults inside the kernels
  if (e == cudaSuccess) e = synced;
  if (e != cudaSuccess) return fail_cuda(e, "the multi-alpha kernels");
  return report(c, slots);
}

}  // namespace mt::cuda
