package dev.mergetune.tune;

import dev.mergetune.kernels.Dare;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.Ties;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * TIES and DARE of (ŵ1, ŵ2) in a prompt's own parameter space: ŵ1 is the context the baseline started from (the word
 * embeddings of its initial text), ŵ2 its learned context, and the single task vector ŵ2 − ŵ1 is merged back into ŵ1
 * with the same kernels as checkpoint merges (TIES {@code paper} preset, λ 1; DARE with the inverse rescale).
 */
public final class PromptMerges {
  private PromptMerges() {}

  /** TIES of the one task vector: keep the top {@code density} of |ŵ2 − ŵ1| (sign election is trivial), add back. */
  public static Tensor ties(Tensor initial, Tensor learned, double density) {
    Tensor out = initial.clone().contiguous();
    Ties.merge(table(out), table(initial), List.of(table(learned)), new float[] {1f},
        Ties.Options.paper().withDensity(density));
    return out;
  }

  /** DARE of the one task vector: keep each element with probability {@code keep}, rescale by 1/keep, add back. */
  public static Tensor dare(Tensor initial, Tensor learned, float keep, long seed) {
    Tensor out = initial.clone().contiguous();
    Dare.merge(table(out), table(initial), List.of(table(learned)), new float[] {1f},
        Dare.Options.keepDensity(keep, seed, Dare.Rescale.INVERSE));
    return out;
  }

  private static SegmentTable table(Tensor ctx) {
    return SegmentTable.ofTensors(Map.of("ctx", ctx));
  }
}
