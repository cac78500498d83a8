package dev.mergetune.kernels;

import java.util.List;

/** The kernel families libmergetune ships, and whether each can run on CUDA here. */
public final class KernelCatalog {
  /** One family: an id (the catalogue's K-number), what it computes, and whether its CUDA version can run. */
  public record Entry(String id, String description, boolean cudaUsable) {}

  private KernelCatalog() {}

  public static List<Entry> entries() {
    boolean cuda = Devices.builtWithCuda() && Devices.cudaAvailable();
    return List.of(
        new Entry("K4a", "interpolate / task arithmetic / WiSE-FT: base + Σ λ_i (model_i − base)", cuda),
        new Entry("K4b", "DARE + task arithmetic: Philox masks keyed on (seed, model, tensor, element); 1/(1-p) or L1", cuda),
        new Entry("K3", "sign-consistent max (ConDU/EMR): unify into U + bit-packed masks + rescalers; decouple", cuda));
  }
}
