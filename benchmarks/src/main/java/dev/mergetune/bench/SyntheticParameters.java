package dev.mergetune.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * In-memory parameter sets with the CLIP ViT-B/16 layout ({@link SyntheticCheckpoints#vitB16Layout}, 149.6M float32
 * elements, 200 tensors): θ0 with uniform noise of standard deviation 0.02, and per-task deltas of standard deviation
 * 0.001, dense (full fine-tuning moves every weight) except {@code logit_scale}, which is never trained (delta 0).
 * Deterministic: every (set, tensor) pair has its own seed. Values are written straight into the native tensors in
 * 1 Mi-element chunks, so generating a set needs no Java array the size of a tensor.
 */
final class SyntheticParameters {
  private static final int CHUNK = 1 << 20;
  private static final double UNIFORM_TO_STD = 1.7320508;  // a uniform on [-1, 1] has standard deviation 1/√3

  private SyntheticParameters() {}

  static List<String> names() {
    List<String> names = new ArrayList<>();
    for (SyntheticCheckpoints.Spec s : SyntheticCheckpoints.vitB16Layout()) names.add(s.name());
    return names;
  }

  /** θ0: standard deviation 0.02. */
  static Map<String, Tensor> theta0() {
    return generate(-1, 0.02);
  }

  /** Task {@code task}'s delta δ = expert − θ0: standard deviation 0.001, logit_scale 0. */
  static Map<String, Tensor> delta(int task) {
    return generate(task, 0.001);
  }

  static long elements() {
    long total = 0;
    for (SyntheticCheckpoints.Spec s : SyntheticCheckpoints.vitB16Layout()) total += numel(s.shape());
    return total;
  }

  /** Zeros in the layout (a reusable decouple buffer). */
  static Map<String, Tensor> zeros() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (SyntheticCheckpoints.Spec s : SyntheticCheckpoints.vitB16Layout()) m.put(s.name(), torch.zeros(s.shape()));
    return m;
  }

  private static Map<String, Tensor> generate(int set, double std) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    List<SyntheticCheckpoints.Spec> layout = SyntheticCheckpoints.vitB16Layout();
    float[] chunk = new float[CHUNK];
    for (int t = 0; t < layout.size(); t++) {
      SyntheticCheckpoints.Spec spec = layout.get(t);
      Tensor x = torch.zeros(spec.shape());
      m.put(spec.name(), x);
      if (set >= 0 && spec.name().equals("logit_scale")) continue;
      SplittableRandom r = new SplittableRandom(1_000_003L * t + 104_729L * (set + 2));
      long n = x.numel();
      FloatPointer p = new FloatPointer(x.data_ptr_float()).capacity(n);
      for (long done = 0; done < n; ) {
        int take = (int) Math.min(n - done, CHUNK);
        for (int j = 0; j < take; j++) chunk[j] = (float) (std * UNIFORM_TO_STD * (r.nextDouble() * 2 - 1));
        p.position(done).put(chunk, 0, take);
        done += take;
      }
    }
    return m;
  }

  private static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }
}
