package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mergetune.kernels.check.CheckResult;
import dev.mergetune.kernels.check.SelfCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CUDA implementation, through libmergetune's own device allocator (so it runs with the CPU LibTorch build
 * on a GPU runner). Skips itself where no CUDA device is usable; the device-free facts are checked everywhere.
 */
class CudaInterpolationTest {
  @Test
  void cudaKernelsMatchTheReferenceWhereADeviceExists() {
    assumeTrue(Devices.cudaAvailable(), () -> "no CUDA device: " + Devices.cudaUnavailableReason());
    List<CheckResult> cuda = SelfCheck.run(true).stream().filter(r -> r.device().equals("cuda")).toList();
    assertFalse(cuda.isEmpty());
    for (CheckResult r : cuda) assertTrue(r.passed(), r.testCase() + ": " + r.detail() + " err " + r.maxError());
  }

  @Test
  void withoutADeviceCudaCallsFailClearly() {
    assumeTrue(!Devices.cudaAvailable());
    assertFalse(Devices.cudaUnavailableReason().isEmpty());
    assertTrue(Devices.cudaDevices().isEmpty());
    KernelException e = assertThrows(KernelException.class, () -> Interpolation.interpolateRaw(DeviceKind.CUDA, 0,
        new long[] {4}, new long[] {64}, new long[] {64}, new long[0][], new float[0], true));
    assertEquals(Status.CUDA_UNAVAILABLE, e.status());
  }
}
