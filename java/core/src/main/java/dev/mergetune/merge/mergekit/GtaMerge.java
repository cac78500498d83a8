package dev.mergetune.merge.mergekit;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Gta;
import dev.mergetune.kernels.Gta.Consensus;
import dev.mergetune.kernels.Gta.Sparsification;
import dev.mergetune.merge.TensorOp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;

/**
 * A mergekit GTA-family merge ({@link GtaMethod}) as a streaming {@link TensorOp}: per tensor, the parameters are
 * resolved from the settings (filters by tensor name), each model's keep mask and L1 rescale come from
 * {@link Gta#sparsify} (skipped where density >= 1, as mergekit does), and {@link Gta#apply} writes the tensor
 * in one pass over the inputs. The random masks (DARE, DELLA) are Philox masks keyed on (seed, model index, tensor
 * name, element), not torch's global generator: reproducible anywhere, never equal to a mergekit run's.
 */
public final class GtaMerge implements TensorOp {
  private final GtaSettings settings;
  private final Map<String, long[]> shapes;
  private final long seed;
  private ByteBuffer[] masks = new ByteBuffer[0];

  /** {@code shapes}: every merged tensor's shape (DELLA ranks along dimension 1). */
  public GtaMerge(GtaSettings settings, Map<String, long[]> shapes, long seed) {
    if (settings.method().isAngle() || settings.method().isExtension()) {
      throw new IllegalArgumentException(settings.method().mergekitName + " is not a GTA-family merge");
    }
    this.settings = settings;
    this.shapes = shapes;
    this.seed = seed;
  }

  @Override
  public boolean needsBase() {
    return settings.method().needsBase;
  }

  @Override
  public int outputs() {
    return 1;
  }

  @Override
  public String method() {
    return settings.method().mergekitName;
  }

  @Override
  public Map<String, String> parameters(int output) {
    Map<String, String> m = new LinkedHashMap<>();
    settings.global().forEach((k, v) -> m.put(k, describe(v)));
    for (int i = 0; i < settings.models(); i++) {
      final int model = i;
      settings.perModel().get(i).forEach((k, v) -> m.put("model." + model + "." + k, describe(v)));
    }
    if (settings.method().sparsification == Sparsification.RANDOM
        || settings.method().sparsification == Sparsification.DELLA) {
      m.put("seed", Long.toString(seed));
    }
    return m;
  }

  private static String describe(ParameterSetting s) {
    if (s instanceof ParameterSetting.Scalar sc) return String.valueOf(sc.value());
    StringBuilder b = new StringBuilder("[");
    for (ParameterSetting.Conditional c : ((ParameterSetting.Conditions) s).conditions()) {
      if (b.length() > 1) b.append(", ");
      b.append(c.filter() == null ? "*" : c.filter()).append(": ").append(c.value());
    }
    return b.append(']').toString();
  }

  @Override
  public void apply(String tensor, long n, long base, long[] models, long[] outs) {
    GtaMethod method = settings.method();
    if (models.length != settings.models()) {
      throw new IllegalStateException(models.length + " model tensors for " + settings.models() + " models");
    }
    int t = models.length;
    long[] shape = shapes.getOrDefault(tensor, new long[] {n});
    boolean rescale = settings.flag("rescale", tensor, method.defaultRescale);
    boolean normalize = settings.flag("normalize", tensor, method.defaultNormalize);
    float lambda = (float) settings.number("lambda", tensor, 1.0);
    float[] coefs = new float[t];
    float[] weights = new float[t];
    long[] bits = method.sparsification == null ? null : new long[t];
    for (int i = 0; i < t; i++) {
      weights[i] = (float) settings.tensorParameter("weight", i, tensor);
      float r = 1f;
      if (bits != null) {
        double density = settings.tensorParameter("density", i, tensor);
        if (density < 1) {
          ByteBuffer mask = mask(i, n);
          bits[i] = new BytePointer(mask).address();
          if (method.sparsification == Sparsification.DELLA && density <= 0) {
            for (int k = 0; k < mask.capacity(); k++) mask.put(k, (byte) 0);  // mergekit: zeros_like
          } else {
            double param = switch (method.sparsification) {
              case OUTLIERS -> settings.tensorParameter("gamma", i, tensor);
              case DELLA -> settings.tensorParameter("epsilon", i, tensor);
              default -> 0;
            };
            double[] sums = Gta.sparsify(tensor, shape, base, models[i], i, method.sparsification, density, param, seed,
                bits[i], rescale);
            // mergekit's rescaled_masked_tensor (L1): before / after unless either is below 1e-7
            if (rescale && sums[0] >= 1e-7 && sums[1] >= 1e-7) r = (float) (sums[0] / sums[1]);
          }
        }
      }
      coefs[i] = weights[i] * r;
    }
    float divisor = 0f;
    for (float w : weights) divisor += w;
    if (Math.abs(divisor) < 1e-8f) divisor = 1f;
    Consensus consensus = method.consensus == null ? Consensus.NONE : method.consensus;
    Gta.apply(DeviceKind.CPU, tensor, n, outs[0], needsBase() ? base : 0L, models, bits, coefs, weights, consensus,
        normalize, divisor, lambda);
  }

  private ByteBuffer mask(int model, long n) {
    if (masks.length <= model) masks = java.util.Arrays.copyOf(masks, model + 1);
    long bytes = ((n + 31) / 32) * 4;
    if (masks[model] == null || masks[model].capacity() < bytes) {
      masks[model] = ByteBuffer.allocateDirect((int) Math.max(bytes, 64)).order(ByteOrder.LITTLE_ENDIAN);
    }
    return masks[model];
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s of %d models", method(), settings.models());
  }
}
