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
        new Entry("K4c", "TIES: exact top-k by magnitude (global or per tensor), sign election, disjoint mean/sum", cuda),
        new Entry("K3", "sign-consistent max (ConDU/EMR): unify into U + bit-packed masks + rescalers; decouple", cuda),
        new Entry("K1", "MergeTune multi-alpha loss: all N_alpha interpolated classifiers' CE/KL and gradients in one pass",
            cuda),
        new Entry("K2", "zero-shot anchor (lambda/2)|w - w1|^2: value + gradient, folded into fused SGD / AdamW steps",
            cuda),
        new Entry("K5", "weight-space interpolation w2 + alpha(w - w2) and alpha-weighted gradient accumulation", cuda));
  }
}
