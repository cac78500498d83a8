package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Status;
import dev.mergetune.kernels.binding.MergetuneNative;
import org.bytedeco.javacpp.FloatPointer;

/** A float buffer in host memory (JavaCPP) or CUDA device memory (libmergetune's allocator), for checks. */
abstract class DeviceBuffer implements AutoCloseable {
  final long length;

  private DeviceBuffer(long length) {
    this.length = length;
  }

  static DeviceBuffer allocate(DeviceKind device, long length) {
    return device == DeviceKind.CPU ? new Host(length) : new Cuda(length);
  }

  abstract long address();

  abstract void upload(float[] values);

  abstract float[] download();

  @Override
  public abstract void close();

  private static final class Host extends DeviceBuffer {
    private final FloatPointer pointer;

    Host(long length) {
      super(length);
      pointer = new FloatPointer(Math.max(1, length));
    }

    @Override
    long address() {
      return pointer.address();
    }

    @Override
    void upload(float[] values) {
      pointer.put(values, 0, values.length);
    }

    @Override
    float[] download() {
      float[] values = new float[(int) length];
      pointer.get(values, 0, values.length);
      return values;
    }

    @Override
    public void close() {
      pointer.close();
    }
  }

  private static final class Cuda extends DeviceBuffer {
    private final long address;

    Cuda(long length) {
      super(length);
      long[] ptr = new long[1];
      Status.check(MergetuneNative.mt_cuda_malloc(Math.max(1, length) * 4, ptr), "cudaMalloc of " + length + " floats");
      address = ptr[0];
    }

    @Override
    long address() {
      return address;
    }

    @Override
    void upload(float[] values) {
      try (FloatPointer staging = new FloatPointer(values)) {
        Status.check(MergetuneNative.mt_cuda_memcpy(address, staging.address(), values.length * 4L,
            MergetuneNative.MT_COPY_HOST_TO_DEVICE), "copy to device");
      }
    }

    @Override
    float[] download() {
      float[] values = new float[(int) length];
      try (FloatPointer staging = new FloatPointer(Math.max(1, length))) {
        Status.check(MergetuneNative.mt_cuda_memcpy(staging.address(), address, length * 4L,
            MergetuneNative.MT_COPY_DEVICE_TO_HOST), "copy to host");
        staging.get(values, 0, values.length);
      }
      return values;
    }

    @Override
    public void close() {
      MergetuneNative.mt_cuda_free(address);
    }
  }
}
