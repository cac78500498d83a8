package dev.mergetune.kernels;

import java.lang.reflect.Method;
import org.bytedeco.javacpp.Pointer;

/**
 * LibTorch's current CUDA stream, so our kernels queue behind the work LibTorch already issued. Reached only for
 * CUDA tensors, which exist only with the GPU LibTorch build; reflection keeps the CUDA preset classes (the return
 * type of {@code CUDAStream.stream()}) off the compile class path of the CPU build.
 */
final class CudaStreams {
  private CudaStreams() {}

  static long current(int deviceIndex) {
    try {
      Object stream = org.bytedeco.pytorch.global.torch_cuda.getCurrentCUDAStream((byte) deviceIndex);
      Method handle = stream.getClass().getMethod("stream");
      Pointer p = (Pointer) handle.invoke(stream);
      return p == null ? 0L : p.address();
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new KernelException(Status.CUDA_UNAVAILABLE,
          "cannot read LibTorch's current CUDA stream for cuda:" + deviceIndex + " (is the GPU LibTorch build on the"
              + " class path? build with -Pgpu): " + e);
    }
  }
}
