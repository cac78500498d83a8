/**
 * The kernels (K1–K5, DARE, TIES, sign-consistent max) behind one C ABI, on CPU and CUDA, over {@link
 * dev.mergetune.kernels.SegmentTable}s or raw addresses; native loading ({@link dev.mergetune.kernels.NativeRuntime})
 * and the process-wide settings an application may choose ({@link dev.mergetune.kernels.RuntimeSettings}).
 *
 * <p>Threads: the kernel classes are stateless; calls from several threads at once are safe on distinct output
 * buffers (each call forks and joins its own worker threads, and the native error state is per thread). The kernel
 * thread count ({@code Devices.setCpuThreads}, {@code RuntimeSettings.kernelThreads}) is process-wide.
 *
 * <p>Ownership: nothing here frees memory it did not allocate. Tables over tensors keep those tensors reachable; raw
 * addresses stay the caller's. {@link dev.mergetune.kernels.TaskMasks} owns native memory until {@code close()}.
 */
package dev.mergetune.kernels;
