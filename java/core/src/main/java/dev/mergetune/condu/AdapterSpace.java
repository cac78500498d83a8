package dev.mergetune.condu;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * ConDU over LoRA experts in the adapters' own space, as the released ConDU code unifies them (model_lora.py :15–17,
 * delta_models.py): the deltas are those of each adapter's A and B, taken separately against θ0's <b>own</b> adapters
 * — the reference's θ0 is a CLIP built with LoRA layers whose A and B are random draws (N(0, 0.01²)), not the plain
 * pre-trained model, and its experts start from another draw. U, the masks and the rescalers are over the adapter
 * tensors alone (a LoRA expert leaves every base weight at θ0's, so their deltas are 0 and add nothing to any λ); an
 * expert is decoupled into adapters, θ0's + λ·M⊙U, on top of θ0's base weights.
 *
 * <p>The other space, the default, is the folded one: each LoRA expert is merged into dense weights (W + s·B·A) and
 * unified like an end-to-end expert against the plain θ0.
 *
 * @param rank the adapters' rank
 * @param scaling the factor s of s·B·A
 * @param theta0Seed the seed θ0's adapters were drawn from (recorded; the store keeps the adapters themselves)
 * @param theta0 θ0's adapter tensors by name (written into the store with its first session)
 */
public record AdapterSpace(int rank, double scaling, long theta0Seed, Map<String, Tensor> theta0) {
  /** θ0's adapters inside a store: written once, with the first session, never rewritten. */
  public static final String THETA0_FILE = "theta0-adapters.safetensors";

  /** The two spaces a LoRA expert can be unified in (the {@code --lora-space} values). */
  public static final String FOLDED = "folded";
  public static final String ADAPTERS = "adapters";

  /** Checks a {@code --lora-space} value. */
  public static String checkSpace(String space) {
    if (!FOLDED.equals(space) && !ADAPTERS.equals(space)) {
      throw new IllegalArgumentException("the LoRA space is folded or adapters, not '" + space + "'");
    }
    return space;
  }
}
