package dev.mergetune.cli;

import dev.mergetune.kernels.CudaDevice;
import dev.mergetune.kernels.Devices;
import dev.mergetune.kernels.KernelCatalog;
import dev.mergetune.kernels.NativeRuntime;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mergetune info}: what this installation can run, said honestly. */
@Command(name = "info", description = "Version, native library, CPU/CUDA kernels available, threads, LibTorch.")
final class InfoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    NativeRuntime.ensureTorch();
    row(out, "mergetune", VersionProvider.version() + " (libmergetune " + Devices.libraryVersion() + ")");
    row(out, "native library", NativeRuntime.mergetuneLibraryPath());
    row(out, "native cache", NativeRuntime.cacheDirectory());
    row(out, "CUDA build", Devices.builtWithCuda() ? "yes, sm " + Devices.cudaArchitectures().replace(",", ", sm ")
        : "no (CPU kernels only)");
    List<CudaDevice> devices = Devices.cudaDevices();
    if (devices.isEmpty()) {
      row(out, "CUDA devices", "none: " + Devices.cudaUnavailableReason());
    } else {
      int[] v = Devices.cudaVersions();
      row(out, "CUDA runtime/driver", v[0] + " / " + v[1]);
      for (CudaDevice d : devices) {
        row(out, "CUDA device " + d.index(), String.format("%s, compute %s, %.1f GiB (%.1f GiB free)", d.name(),
            d.computeCapability(), d.totalBytes() / 1073741824.0, d.freeBytes() / 1073741824.0));
      }
    }
    for (KernelCatalog.Entry k : KernelCatalog.entries()) {
      row(out, "kernel " + k.id(), k.description() + " | CPU: yes | CUDA: " + (k.cudaUsable() ? "yes" : "no"));
    }
    row(out, "CPU kernels", Devices.cpuIsa() + " (MERGETUNE_CPU_ISA=generic forces the portable path)");
    row(out, "CPU threads", "kernels " + Devices.cpuThreads() + ", LibTorch intra-op "
        + org.bytedeco.pytorch.global.torch.get_num_threads() + ", hardware " + Runtime.getRuntime().availableProcessors()
        + ", OPENBLAS_NUM_THREADS=" + env("OPENBLAS_NUM_THREADS", "unset (pinned to 1 at start-up)"));
    row(out, "LibTorch", NativeRuntime.torchPresetVersion() + " (" + NativeRuntime.torchNativeFlavour()
        + " natives; LibTorch sees CUDA: " + org.bytedeco.pytorch.global.torch.cuda_is_available() + ")");
    row(out, "JVM", System.getProperty("java.vm.name") + " " + Runtime.version() + ", max heap "
        + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
    row(out, "platform", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    out.flush();
    return 0;
  }

  private static void row(PrintWriter out, String key, String value) {
    out.printf("%-22s %s%n", key, value);
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v != null ? v : fallback;
  }
}
