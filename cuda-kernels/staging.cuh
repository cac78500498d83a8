// Segment-table uploads of the CUDA kernels (shared by every .cu file): page-locked staging, packed tables, their
// device memory.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "mergetune/status.h"

namespace mt::cuda {

// Page-locked staging for the table upload. cudaMemcpyAsync from pageable memory may return before it has read
// the source, so the table is written into pinned memory that is reused only after the GPU has read it (an
// event recorded behind the upload). Four slots per host thread let a caller queue several calls without
// waiting; a slot grows geometrically and is kept for the life of the thread.
class Staging {
 public:
  Staging() = default;
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() {
    for (Slot& s : slots_) {
      if (s.host != nullptr) cudaFreeHost(s.host);
      if (s.done != nullptr) cudaEventDestroy(s.done);
    }
  }

  // A pinned buffer of at least `bytes` that no queued copy still reads, or nullptr with *err set.
  void* acquire(size_t bytes, cudaError_t* err) {
    Slot& s = slots_[next_];
    *err = cudaSuccess;
    if (s.done != nullptr && (*err = cudaEventSynchronize(s.done)) != cudaSuccess) return nullptr;
    if (s.cap < bytes) {
      const size_t cap = std::max({bytes, 2 * s.cap, size_t{1} << 16});
      if (s.host != nullptr) cudaFreeHost(s.host);
      s.host = nullptr;
      s.cap = 0;
      // Portable: pinned for every device's context, so uploads stay asynchronous after a device switch.
      if ((*err = cudaHostAlloc(&s.host, cap, cudaHostAllocPortable)) != cudaSuccess) {
        s.host = nullptr;
        return nullptr;
      }
      s.cap = cap;
    }
    return s.host;
  }

  // The slot of the last acquire stays busy until the work queued on `stream` so far has run.
  cudaError_t release(cudaStream_t stream) {
    Slot& s = slots_[next_];
    next_ = (next_ + 1) % kSlots;
    int device = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) return e;
    if (s.done != nullptr && s.device != device) {  // an event records only on streams of its own device
      cudaEventDestroy(s.done);
      s.done = nullptr;
    }
    if (s.done == nullptr) {
      if ((e = cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming)) != cudaSuccess) {
        s.done = nullptr;
        return e;
      }
      s.device = device;
    }
    return cudaEventRecord(s.done, stream);
  }

 private:
  static constexpr int kSlots = 4;
  struct Slot {
    void* host = nullptr;
    size_t cap = 0;
    cudaEvent_t done = nullptr;
    int device = -1;
  };
  Slot slots_[kSlots];
  int next_ = 0;
};

// The calling host thread's staging slots (kept for the life of the thread).
inline Staging& thread_staging() {
  thread_local Staging staging;
  return staging;
}

mt_status fail_cuda(cudaError_t e, const char* what);  // device.cu

// A packed table: parts appended 16-byte aligned; the first `upload` bytes go through pinned staging.
struct Table {
  std::vector<unsigned char> host;
  size_t bytes = 0;
  size_t add(const void* src, size_t n) {
    const size_t at = bytes;
    bytes += (n + 15) & ~size_t{15};
    host.resize(bytes);
    if (n > 0 && src != nullptr) std::memcpy(host.data() + at, src, n);
    return at;
  }
};

// Device memory for a table of `total` bytes with its first `upload` bytes copied from `table`; stream-ordered
// where pools are supported. On success *dev / *pool describe how to free it.
inline mt_status upload_table(cudaStream_t stream, const Table& table, size_t total, unsigned char** dev, bool* pool) {
  *dev = nullptr;
  *pool = true;
  cudaError_t e = cudaMallocAsync(reinterpret_cast<void**>(dev), total, stream);
  if (e == cudaErrorNotSupported) {
    cudaGetLastError();
    *pool = false;
    e = cudaMalloc(reinterpret_cast<void**>(dev), total);
  }
  if (e != cudaSuccess) {
    *dev = nullptr;
    return fail_cuda(e, "allocating the segment table");
  }
  void* host = thread_staging().acquire(table.bytes, &e);
  const bool pinned = host != nullptr;
  if (!pinned) {
    cudaGetLastError();
    host = const_cast<unsigned char*>(table.host.data());
  } else {
    std::memcpy(host, table.host.data(), table.bytes);
  }
  e = cudaMemcpyAsync(*dev, host, table.bytes, cudaMemcpyHostToDevice, stream);
  const cudaError_t staged = pinned ? thread_staging().release(stream) : cudaStreamSynchronize(stream);
  if (e == cudaSuccess && staged != cudaSuccess) {
    cudaStreamSynchronize(stream);
    e = staged;
  }
  if (e != cudaSuccess) return fail_cuda(e, "uploading the segment table");
  return MT_OK;
}

inline void free_table(cudaStream_t stream, unsigned char* dev, bool pool) {
  if (dev == nullptr) return;
  if (pool) {
    cudaFreeAsync(dev, stream);
  } else {
    cudaStreamSynchronize(stream);
    cudaFree(dev);
  }
}

}  // namespace mt::cuda
