package dev.mergetune.kernels;

/**
 * The process-wide settings the native stack benefits from, applied only when the application asks, through
 * {@link NativeRuntime#configure(RuntimeSettings)} — the library itself never changes them. Each field is "leave as
 * it is" when 0 (or false).
 *
 * <ul>
 *   <li>{@code openBlasThreads}: OpenBLAS's own thread pool. Beside LibTorch's OpenMP it oversubscribes the cores
 *       (a training step measured 18× slower on 2 cores with both pools); {@link #recommended()} pins it to 1 unless
 *       {@code OPENBLAS_NUM_THREADS} is set, the user's explicit choice.</li>
 *   <li>{@code torchThreads}: LibTorch's intra-op threads ({@code at::set_num_threads}), for every LibTorch op in the
 *       process. LibTorch's default is one per core.</li>
 *   <li>{@code kernelThreads}: the threads of libmergetune's CPU kernels (merges, unify, anchor); default all
 *       hardware threads.</li>
 *   <li>{@code headlessAwt}: sets {@code java.awt.headless=true} (report plots render with no display) unless the
 *       application already chose a value. On Linux the JDK is headless by itself when {@code DISPLAY} is unset.</li>
 * </ul>
 */
public record RuntimeSettings(int openBlasThreads, int torchThreads, int kernelThreads, boolean headlessAwt) {
  public RuntimeSettings {
    if (openBlasThreads < 0 || torchThreads < 0 || kernelThreads < 0) {
      throw new IllegalArgumentException("thread counts must be >= 0 (0 leaves a setting as it is): openBlas "
          + openBlasThreads + ", torch " + torchThreads + ", kernels " + kernelThreads);
    }
  }

  /** Leaves everything as it is. */
  public static RuntimeSettings unchanged() {
    return new RuntimeSettings(0, 0, 0, false);
  }

  /**
   * What the CLI applies: OpenBLAS single-threaded (unless {@code OPENBLAS_NUM_THREADS} is set), headless AWT
   * (unless {@code java.awt.headless} is set); LibTorch's and the kernels' threads left at their defaults.
   */
  public static RuntimeSettings recommended() {
    return new RuntimeSettings(System.getenv("OPENBLAS_NUM_THREADS") == null ? 1 : 0, 0, 0, true);
  }

  public RuntimeSettings withOpenBlasThreads(int n) {
    return new RuntimeSettings(n, torchThreads, kernelThreads, headlessAwt);
  }

  public RuntimeSettings withTorchThreads(int n) {
    return new RuntimeSettings(openBlasThreads, n, kernelThreads, headlessAwt);
  }

  public RuntimeSettings withKernelThreads(int n) {
    return new RuntimeSettings(openBlasThreads, torchThreads, n, headlessAwt);
  }

  public RuntimeSettings withHeadlessAwt(boolean headless) {
    return new RuntimeSettings(openBlasThreads, torchThreads, kernelThreads, headless);
  }
}
