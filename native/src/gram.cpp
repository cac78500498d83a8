// mt_gram_f32 (gram.h): validation, the CPU implementation and the device dispatch.
//
// CPU: the range is cut into chunks of kGramChunk elements; each chunk's k(k+1)/2 products are summed in double
// over 8 lanes (element mod 8), the lanes folded in order, and the chunk partials added in chunk order, so the
// result does not depend on how parallel_ranges shares the chunks out.
#include <cmath>
#include <vector>

#include "error.h"
#include "gram_internal.h"
#include "mergetune/device.h"
#include "mergetune/interp.h"  // MT_CHECK_FINITE
#include "parallel.h"

namespace mt::cpu {

mt_status gram_f32(int64_t n, const float* base, int32_t k, const float* const* inputs, double* gram, int32_t flags) {
  const int64_t chunks = (n + kGramChunk - 1) / kGramChunk;
  const int32_t pairs = k * (k + 1) / 2;
  std::vector<double> partial(static_cast<size_t>(chunks) * pairs, 0.0);
  std::vector<int64_t> bad_at(static_cast<size_t>(chunks), -1);
  parallel_ranges(chunks, 1, cpu_threads(), [&](int32_t, int64_t lo, int64_t hi) {
    std::vector<float> d(static_cast<size_t>(k) * kGramChunk);
    for (int64_t c = lo; c < hi; ++c) {
      const int64_t start = c * kGramChunk, len = std::min(kGramChunk, n - start);
      for (int32_t i = 0; i < k; ++i) {
        float* di = d.data() + static_cast<size_t>(i) * kGramChunk;
        const float* x = inputs[i] + start;
        if (base != nullptr) {
          const float* b = base + start;
          for (int64_t e = 0; e < len; ++e) di[e] = x[e] - b[e];
        } else {
          for (int64_t e = 0; e < len; ++e) di[e] = x[e];
        }
        if ((flags & MT_CHECK_FINITE) != 0) {
          for (int64_t e = 0; e < len; ++e) {
            if (!std::isfinite(di[e])) {
              bad_at[c] = start + e;
              break;
            }
          }
        }
      }
      int32_t p = 0;
      for (int32_t i = 0; i < k; ++i) {
        for (int32_t j = i; j < k; ++j, ++p) {
          const float* a = d.data() + static_cast<size_t>(i) * kGramChunk;
          const float* b = d.data() + static_cast<size_t>(j) * kGramChunk;
          double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          int64_t e = 0;
          for (; e + 8 <= len; e += 8) {
            for (int q = 0; q < 8; ++q) lanes[q] += static_cast<double>(a[e + q]) * static_cast<double>(b[e + q]);
          }
          for (; e < len; ++e) lanes[e % 8] += static_cast<double>(a[e]) * static_cast<double>(b[e]);
          double s = 0;
          for (double v : lanes) s += v;
          partial[static_cast<size_t>(c) * pairs + p] = s;
        }
      }
    }
  });
  for (int64_t c = 0; c < chunks; ++c) {
    if (bad_at[c] >= 0) {
      return fail_at(MT_NON_FINITE, MT_INPUT_NONE, 0, bad_at[c], "non-finite input or delta at element %lld",
                     static_cast<long long>(bad_at[c]));
    }
  }
  int32_t p = 0;
  for (int32_t i = 0; i < k; ++i) {
    for (int32_t j = i; j < k; ++j, ++p) {
      double s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += partial[static_cast<size_t>(c) * pairs + p];
      gram[i * k + j] = s;
      gram[j * k + i] = s;
    }
  }
  return MT_OK;
}

}  // namespace mt::cpu

extern "C" mt_status mt_gram_f32(int32_t device, void* stream, int64_t n, const float* base, int32_t k,
                                 const float* const* inputs, double* gram, int32_t flags) {
  mt::clear_error();
  if (device != MT_DEVICE_CPU && device != MT_DEVICE_CUDA) {
    return mt::fail(MT_INVALID_ARGUMENT, "device must be MT_DEVICE_CPU (0) or MT_DEVICE_CUDA (1), got %d", device);
  }
  if (n < 0) return mt::fail(MT_INVALID_ARGUMENT, "n must be >= 0");
  if (k < 1 || k > MT_GRAM_MAX_INPUTS) return mt::fail(MT_INVALID_ARGUMENT, "k must be in [1, %d], got %d", MT_GRAM_MAX_INPUTS, k);
  if (inputs == nullptr || gram == nullptr) return mt::fail(MT_INVALID_ARGUMENT, "inputs and gram must not be NULL");
  for (int32_t i = 0; i < k; ++i) {
    if (n > 0 && inputs[i] == nullptr) return mt::fail_at(MT_INVALID_ARGUMENT, i, 0, -1, "input %d is NULL", i);
  }
  for (int32_t i = 0; i < k * k; ++i) gram[i] = 0.0;
  if (n == 0) return MT_OK;
  if (device == MT_DEVICE_CUDA) return mt::cuda::gram_f32(stream, n, base, k, inputs, gram, flags);
  return mt::cpu::gram_f32(n, base, k, inputs, gram, flags);
}
