package dev.mergetune.distributed;

import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.global.torch;

/**
 * ProcessGroupNCCL ({@code org.bytedeco.pytorch.nccl}). Its Java classes ship in every build of the preset, its natives
 * ({@code jnitorch_nccl}) only in the GPU one ({@code -Pgpu}); on the CPU build, or without a CUDA device, creating it
 * is an error that says so instead of a link failure.
 */
final class NcclBackend {
  private NcclBackend() {}

  static Backend create(Store store, DistributedConfig c) {
    String flavour = NativeRuntime.torchNativeFlavour();
    if (!"gpu".equals(flavour)) {
      throw new DistributedException("the NCCL backend needs the GPU build of LibTorch (build with -Pgpu, which needs"
          + " CUDA 13 / cuDNN 9 / NCCL 2); this installation has the " + flavour + " build: use --backend gloo");
    }
    if (!torch.cuda_is_available()) {
      throw new DistributedException("the NCCL backend needs a CUDA device, and LibTorch sees none: use --backend"
          + " gloo");
    }
    try {
      org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options o = org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options
          .create();
      o.timeout(new org.bytedeco.javacpp.chrono.Milliseconds(c.timeout().toMillis()));
      return new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(store, c.rank(), c.worldSize(), o);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new DistributedException("the NCCL natives (jnitorch_nccl) could not be loaded: " + e.getMessage()
          + "; the GPU build of the preset and a system NCCL 2 are needed, or use --backend gloo", e);
    }
  }
}
