package dev.mergetune.kernels;

/** One CUDA device as libmergetune sees it. */
public record CudaDevice(
    int index, String name, long totalBytes, long freeBytes, int computeMajor, int computeMinor) {

  public String computeCapability() {
    return computeMajor + "." + computeMinor;
  }
}
