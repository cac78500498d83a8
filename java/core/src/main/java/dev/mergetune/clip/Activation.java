package dev.mergetune.clip;

import java.util.Locale;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The MLP activation of a CLIP tower. OpenAI's CLIP (and open_clip's {@code -quickgelu} configs, and Hugging Face
 * {@code hidden_act: quick_gelu}) use QuickGELU; open_clip's plain configs (LAION, DataComp, …) and
 * {@code hidden_act: gelu} use the exact, erf-based GELU. Features differ visibly between the two, so the activation
 * is always part of the model configuration, never assumed.
 */
public enum Activation {
  /** x·σ(1.702·x) (OpenAI's {@code QuickGELU}). */
  QUICK_GELU("quick_gelu"),
  /** x·Φ(x), Φ the standard normal CDF ({@code torch.nn.GELU()}, approximate = "none"). */
  GELU("gelu");

  private static final Scalar QUICK = new Scalar(1.702);
  private final String key;

  Activation(String key) {
    this.key = key;
  }

  /** The name configurations use: {@code quick_gelu} or {@code gelu}. */
  public String key() {
    return key;
  }

  public Tensor apply(Tensor x) {
    return this == QUICK_GELU ? x.mul(torch.sigmoid(x.mul(QUICK))) : torch.gelu(x);
  }

  /** The activation named {@code name} (quick_gelu, gelu); anything else is an error naming {@code where}. */
  public static Activation parse(String name, String where) {
    String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    for (Activation a : values()) if (a.key.equals(n)) return a;
    throw new IllegalArgumentException(where + " is '" + name + "': supported activations are quick_gelu and gelu");
  }

  @Override
  public String toString() {
    return key;
  }
}
