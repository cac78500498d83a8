// The CUDA half of the device ABI: the availability probe, device info, versions, memory and copies.
//
// The runtime is linked statically, so this code also runs where there is no driver: cudaGetDeviceCount then
// fails (cudaErrorInsufficientDriver, or cudaErrorNoDevice with a driver but no GPU) and every entry point
// answers MT_CUDA_UNAVAILABLE with the reason, without printing anything. The probe runs once per process.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "error.h"
#include "mergetune/device.h"

#ifndef MERGETUNE_CUDA_ARCHS
#define MERGETUNE_CUDA_ARCHS ""
#endif

namespace mt::cuda {

// Shared with interp.cu (declared there): maps a failed runtime call to a status and a message naming it.
mt_status fail_cuda(cudaError_t e, const char* what) {
  cudaGetLastError();  // clear the non-sticky error so it is not blamed on a later launch
  mt_status status = MT_CUDA_ERROR;
  if (e == cudaErrorMemoryAllocation) status = MT_OUT_OF_MEMORY;
  if (e == cudaErrorInvalidValue || e == cudaErrorInvalidDevicePointer || e == cudaErrorInvalidDevice) {
    status = MT_INVALID_ARGUMENT;
  }
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) status = MT_CUDA_UNAVAILABLE;
  return fail(status, "%s failed (%s: %s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

}  // namespace mt::cuda

namespace {

struct Probe {
  int32_t count = 0;
  char reason[512] = "";
};

// Lowest numeric architecture in MERGETUNE_CUDA_ARCHS ("80,90" -> 80, "90a" -> 90), or 0 when there is none
// ("native", "all"): then no device is ruled out here and an unsupported one fails at its first launch.
int lowest_built_arch() {
  int lowest = 0;
  const char* p = MERGETUNE_CUDA_ARCHS;
  while (*p != '\0') {
    char* end = nullptr;
    const long v = std::strtol(p, &end, 10);
    if (end != p && v > 0 && (lowest == 0 || v < lowest)) lowest = static_cast<int>(v);
    p = std::strpbrk(p, ",;");
    if (p == nullptr) break;
    ++p;
  }
  return lowest;
}

void run_probe(Probe& p) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    char what[128] = "CUDA initialisation failed";
    if (e == cudaErrorNoDevice) std::snprintf(what, sizeof(what), "no CUDA device");
    if (e == cudaErrorInsufficientDriver) {
      int driver = 0, runtime = 0;
      cudaDriverGetVersion(&driver);  // 0 when no driver is installed
      cudaRuntimeGetVersion(&runtime);
      if (driver == 0) {
        std::snprintf(what, sizeof(what), "no CUDA driver");
      } else {
        std::snprintf(what, sizeof(what), "CUDA driver %d.%d is older than the library's CUDA runtime %d.%d",
                      driver / 1000, driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10);
      }
    }
    std::snprintf(p.reason, sizeof(p.reason), "%s (%s: %s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
    return;
  }
  if (n <= 0) {
    std::snprintf(p.reason, sizeof(p.reason), "no CUDA device");
    return;
  }
  // A machine whose every GPU predates the oldest architecture compiled in (e.g. a T4, sm_75, for "80;90") has
  // no usable device: no SASS and no PTX it could JIT.
  const int lowest = lowest_built_arch();
  int too_old = 0;
  cudaDeviceProp prop{};
  for (int d = 0; d < n && lowest > 0; ++d) {
    if (cudaGetDeviceProperties(&prop, d) == cudaSuccess && prop.major * 10 + prop.minor < lowest) ++too_old;
  }
  if (too_old == n) {
    std::snprintf(p.reason, sizeof(p.reason),
                  "no CUDA device this build can run: %s is sm_%d%d, kernels are built for sm %s", prop.name,
                  prop.major, prop.minor, MERGETUNE_CUDA_ARCHS);
    return;
  }
  p.count = n;
}

const Probe& probe() {
  static Probe p;
  static std::once_flag once;
  std::call_once(once, [] { run_probe(p); });
  return p;
}

mt_status unavailable() { return mt::fail(MT_CUDA_UNAVAILABLE, "CUDA is not available: %s", probe().reason); }

}  // namespace

namespace mt::cuda {
// Shared with interp.cu: MT_OK when a device is usable, else MT_CUDA_UNAVAILABLE with the reason.
mt_status require_device() { return probe().count > 0 ? MT_OK : unavailable(); }
}  // namespace mt::cuda

extern "C" {

int32_t mt_built_with_cuda(void) { return 1; }
const char* mt_cuda_architectures(void) { return MERGETUNE_CUDA_ARCHS; }
int32_t mt_cuda_device_count(void) { return probe().count; }
const char* mt_cuda_unavailable_reason(void) { return probe().reason; }

// Every output pointer is optional. free_bytes needs the device's primary context, so asking for it initialises
// that context (the current device is restored afterwards).
mt_status mt_cuda_device_info(int32_t device, char* name, int32_t name_capacity, int64_t* total_bytes,
                              int64_t* free_bytes, int32_t* cc_major, int32_t* cc_minor) {
  mt::clear_error();
  if (name != nullptr && name_capacity > 0) name[0] = '\0';
  if (probe().count <= 0) return unavailable();
  if (device < 0 || device >= probe().count) {
    return mt::fail(MT_INVALID_ARGUMENT, "CUDA device %d does not exist (%d devices)", device, probe().count);
  }
  cudaDeviceProp prop{};
  cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) return mt::cuda::fail_cuda(e, "cudaGetDeviceProperties");
  if (name != nullptr && name_capacity > 0) std::snprintf(name, static_cast<size_t>(name_capacity), "%s", prop.name);
  if (total_bytes != nullptr) *total_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  if (cc_major != nullptr) *cc_major = prop.major;
  if (cc_minor != nullptr) *cc_minor = prop.minor;
  if (free_bytes != nullptr) {
    *free_bytes = 0;
    int previous = 0;
    e = cudaGetDevice(&previous);
    if (e != cudaSuccess) return mt::cuda::fail_cuda(e, "cudaGetDevice");
    size_t free_b = 0, total_b = 0;
    e = previous == device ? cudaSuccess : cudaSetDevice(device);
    if (e == cudaSuccess) e = cudaMemGetInfo(&free_b, &total_b);
    if (previous != device) cudaSetDevice(previous);
    if (e != cudaSuccess) return mt::cuda::fail_cuda(e, "cudaMemGetInfo");
    *free_bytes = static_cast<int64_t>(free_b);
  }
  return MT_OK;
}

mt_status mt_cuda_versions(int32_t* runtime_version, int32_t* driver_version) {
  int runtime = 0, driver = 0;
  if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) runtime = 0;
  if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;  // 0 without a driver
  cudaGetLastError();
  if (runtime_version != nullptr) *runtime_version = runtime;
  if (driver_version != nullptr) *driver_version = driver;
  return MT_OK;
}

mt_status mt_cuda_malloc(int64_t bytes, void** ptr) {
  mt::clear_error();
  if (ptr == nullptr) return mt::fail(MT_INVALID_ARGUMENT, "mt_cuda_malloc: ptr is NULL");
  *ptr = nullptr;
  if (bytes < 0) return mt::fail(MT_INVALID_ARGUMENT, "mt_cuda_malloc: negative size %lld", (long long)bytes);
  if (probe().count <= 0) return unavailable();
  if (bytes == 0) return MT_OK;  // NULL, which mt_cuda_free accepts
  const cudaError_t e = cudaMalloc(ptr, static_cast<size_t>(bytes));
  if (e != cudaSuccess) {
    *ptr = nullptr;
    char what[96];
    std::snprintf(what, sizeof(what), "cudaMalloc of %lld bytes", (long long)bytes);
    return mt::cuda::fail_cuda(e, what);
  }
  return MT_OK;
}

mt_status mt_cuda_free(void* ptr) {
  mt::clear_error();
  if (ptr == nullptr) return MT_OK;
  if (probe().count <= 0) return unavailable();
  const cudaError_t e = cudaFree(ptr);
  return e == cudaSuccess ? MT_OK : mt::cuda::fail_cuda(e, "cudaFree");
}

// Host<->device copies are complete on return; a device-to-device copy may still be running (it is ordered on
// the legacy default stream): mt_cuda_synchronize waits for it.
mt_status mt_cuda_memcpy(void* dst, const void* src, int64_t bytes, int32_t direction) {
  mt::clear_error();
  cudaMemcpyKind kind;
  switch (direction) {
    case MT_COPY_HOST_TO_DEVICE: kind = cudaMemcpyHostToDevice; break;
    case MT_COPY_DEVICE_TO_HOST: kind = cudaMemcpyDeviceToHost; break;
    case MT_COPY_DEVICE_TO_DEVICE: kind = cudaMemcpyDeviceToDevice; break;
    default: return mt::fail(MT_INVALID_ARGUMENT, "mt_cuda_memcpy: unknown direction %d", direction);
  }
  if (bytes < 0) return mt::fail(MT_INVALID_ARGUMENT, "mt_cuda_memcpy: negative size %lld", (long long)bytes);
  if (probe().count <= 0) return unavailable();
  if (bytes == 0) return MT_OK;
  if (dst == nullptr || src == nullptr) return mt::fail(MT_INVALID_ARGUMENT, "mt_cuda_memcpy: NULL pointer");
  const cudaError_t e = cudaMemcpy(dst, src, static_cast<size_t>(bytes), kind);
  return e == cudaSuccess ? MT_OK : mt::cuda::fail_cuda(e, "cudaMemcpy");
}

// Waits for all work on the current device; errors of earlier asynchronous launches surface here.
mt_status mt_cuda_synchronize(void) {
  mt::clear_error();
  if (probe().count <= 0) return unavailable();
  const cudaError_t e = cudaDeviceSynchronize();
  return e == cudaSuccess ? MT_OK : mt::cuda::fail_cuda(e, "cudaDeviceSynchronize");
}

}  // extern "C"
