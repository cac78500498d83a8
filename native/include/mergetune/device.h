/*
 * mergetune C ABI: library identity, CPU threading and the CUDA device query.
 *
 * The library is one .so for CPU-only and GPU machines: the CUDA runtime is linked statically, so the library
 * loads where there is no driver and simply reports CUDA as unavailable (with the reason).
 */
#ifndef MERGETUNE_DEVICE_H
#define MERGETUNE_DEVICE_H

#include <stdint.h>
#include "mergetune/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_DEVICE_CPU 0
#define MT_DEVICE_CUDA 1

/* Copy directions for mt_cuda_memcpy. */
#define MT_COPY_HOST_TO_DEVICE 1
#define MT_COPY_DEVICE_TO_HOST 2
#define MT_COPY_DEVICE_TO_DEVICE 3

const char* mt_version(void);
/* 1 when the library was compiled with its CUDA kernels, 0 otherwise. */
int32_t mt_built_with_cuda(void);
/* CUDA architectures compiled in, e.g. "80,90", or "" without CUDA. */
const char* mt_cuda_architectures(void);

/* Instruction set the CPU kernels run with: "avx2" where the CPU has it, else "generic" (SSE2). The environment
 * variable MERGETUNE_CPU_ISA=generic forces the portable path (read once, at the first kernel call). */
const char* mt_cpu_isa(void);
/* Overrides that choice for the whole process: "generic", "avx2" (MT_INVALID_ARGUMENT where the CPU lacks AVX2), or
 * NULL / "" to return to the default. Both paths give bit-identical results; this exists so tests and benchmarks
 * can compare them in one process. Not to be called while a CPU kernel is running. */
mt_status mt_set_cpu_isa(const char* isa);
/* 1 when the DARE and GTA-mask kernels run their AVX-512 twins (AVX-512 F/BW/DQ/VL and BMI2 present, mt_cpu_isa()
 * "avx2", and MERGETUNE_CPU_ISA not "avx2", which keeps them on AVX2), else 0. The twins give the same bits. */
int32_t mt_cpu_avx512(void);
/* 0: the AVX2 (or portable) paths even where AVX-512 is present; 1: back to the default (MT_INVALID_ARGUMENT where
 * the CPU lacks AVX-512). For tests and benchmarks, as mt_set_cpu_isa; not while a CPU kernel runs. */
mt_status mt_set_cpu_avx512(int32_t enable);

/* Threads the CPU kernels use (default: the hardware concurrency). n <= 0 restores the default. */
void mt_set_num_threads(int32_t n);
int32_t mt_get_num_threads(void);

/* Number of usable CUDA devices; 0 when built without CUDA, without a driver, or without a device. */
int32_t mt_cuda_device_count(void);
/* Why mt_cuda_device_count() is 0 ("" when devices are present). */
const char* mt_cuda_unavailable_reason(void);
/* Name (NUL-terminated, truncated to name_capacity), memory and compute capability of one device. */
mt_status mt_cuda_device_info(int32_t device, char* name, int32_t name_capacity, int64_t* total_bytes,
                              int64_t* free_bytes, int32_t* cc_major, int32_t* cc_minor);
/* CUDA runtime and driver versions (e.g. 13000), 0 when unknown. */
mt_status mt_cuda_versions(int32_t* runtime_version, int32_t* driver_version);

/* Device memory for callers without a CUDA tensor library (self-check, harnesses, raw-buffer trainers). */
mt_status mt_cuda_malloc(int64_t bytes, void** ptr);
mt_status mt_cuda_free(void* ptr);
mt_status mt_cuda_memcpy(void* dst, const void* src, int64_t bytes, int32_t direction);
mt_status mt_cuda_synchronize(void);

#ifdef __cplusplus
}
#endif

#endif
