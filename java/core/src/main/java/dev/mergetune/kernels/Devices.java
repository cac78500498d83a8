package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** What libmergetune can run here: its version, CPU threads, whether its CUDA kernels are built and usable. */
public final class Devices {
  private Devices() {}

  public static String libraryVersion() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_version();
  }

  /** True when libmergetune was compiled with its CUDA kernels (whatever this machine has). */
  public static boolean builtWithCuda() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_built_with_cuda() != 0;
  }

  /** e.g. "80,90"; empty without CUDA. */
  public static String cudaArchitectures() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_cuda_architectures();
  }

  /** True when the CUDA kernels can run: built with CUDA, a driver and at least one device. */
  public static boolean cudaAvailable() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_cuda_device_count() > 0;
  }

  /** Why {@link #cudaAvailable()} is false; empty when it is true. */
  public static String cudaUnavailableReason() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_cuda_unavailable_reason();
  }

  public static List<CudaDevice> cudaDevices() {
    NativeRuntime.ensureLoaded();
    int n = MergetuneNative.mt_cuda_device_count();
    List<CudaDevice> devices = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] name = new byte[256];
      long[] total = new long[1];
      long[] free = new long[1];
      int[] major = new int[1];
      int[] minor = new int[1];
      Status.check(
          MergetuneNative.mt_cuda_device_info(i, name, name.length, total, free, major, minor),
          "querying CUDA device " + i);
      int len = 0;
      while (len < name.length && name[len] != 0) len++;
      devices.add(
          new CudaDevice(i, new String(name, 0, len, StandardCharsets.UTF_8), total[0], free[0], major[0], minor[0]));
    }
    return devices;
  }

  /** CUDA runtime and driver versions as reported by CUDA (e.g. 13000), 0 when unknown. */
  public static int[] cudaVersions() {
    NativeRuntime.ensureLoaded();
    int[] runtime = new int[1];
    int[] driver = new int[1];
    Status.check(MergetuneNative.mt_cuda_versions(runtime, driver), "querying CUDA versions");
    return new int[] {runtime[0], driver[0]};
  }

  /** "avx2" or "generic": the instruction set the CPU kernels run with here. */
  public static String cpuIsa() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_cpu_isa();
  }

  /** Threads the CPU kernels use. */
  public static int cpuThreads() {
    NativeRuntime.ensureLoaded();
    return MergetuneNative.mt_get_num_threads();
  }

  /** Sets the threads the CPU kernels use; {@code n <= 0} restores the default (all hardware threads). */
  public static void setCpuThreads(int n) {
    NativeRuntime.ensureLoaded();
    MergetuneNative.mt_set_num_threads(n);
  }
}
