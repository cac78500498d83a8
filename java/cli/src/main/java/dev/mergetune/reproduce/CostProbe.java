package dev.mergetune.reproduce;

import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The short timing probe of {@code --dry-run}: seconds per image through the image tower and per prompt through the
 * text tower (forward, no gradient, after one warm-up batch, best of three batches) on this machine with the model the
 * tables will run. A backward pass is counted as two forwards (the usual 2:1 ratio of a backward's FLOPs to a
 * forward's), not measured.
 *
 * <p>The GPU figure is this CPU figure scaled by a stated ratio, not a measurement: the probe's achieved FLOP/s (the
 * towers' multiply-adds counted from the configuration, {@link #imageFlops}) against the FP32 (non-tensor-core) peak
 * of an NVIDIA H100 SXM, 67 TFLOP/s on NVIDIA's H100 datasheet — LibTorch trains in FP32 here and does not use TF32
 * for matmuls unless asked — at an assumed 50% utilisation. Real GPU runs also pay data loading and small kernels, so
 * read it as a lower bound of the order of magnitude — and only for models large enough to be compute-bound
 * (ViT-B/16 and up): the demo's tiny CLIP is bound by per-call overheads on either machine.
 */
public record CostProbe(double imageSeconds, double textSeconds, double cpuFlopsPerSecond, String model, int batch) {
  /** NVIDIA H100 SXM, FP32 (non-tensor) peak, from NVIDIA's H100 datasheet. */
  public static final double H100_FP32_PEAK = 67e12;
  /** The assumed fraction of that peak a training step reaches. */
  public static final double H100_UTILISATION = 0.5;

  public static CostProbe measure(ClipModel clip, String what) {
    ClipConfig c = clip.config();
    int batch = batch(c);
    double image = best(() -> torch.randn(batch, 3, c.imageResolution(), c.imageResolution()),
        x -> clip.encodeImage(x)) / batch;
    double text = best(() -> tokens(c, batch), x -> clip.encodeText(x)) / batch;
    double flops = imageFlops(c) / image;
    return new CostProbe(image, text, flops, what, batch);
  }

  /** 4 images for a model of a GFLOP or more per image (ViT-B/16: 35), 32 for the small ones, not overhead-bound. */
  static int batch(ClipConfig c) {
    return imageFlops(c) >= 1e9 ? 4 : 32;
  }

  /** Seconds of a workload on this machine. */
  public double seconds(Workload w) {
    return w.imageForwards() * imageSeconds + 3.0 * w.imageTrainPasses() * imageSeconds
        + 3.0 * w.textTrainPrompts() * textSeconds + w.textForwards() * textSeconds;
  }

  /** The stated ratio: seconds on an H100 = seconds here × this. */
  public double h100Ratio() {
    return cpuFlopsPerSecond / (H100_FP32_PEAK * H100_UTILISATION);
  }

  public String describe() {
    return String.format(Locale.ROOT, "timing probe (%s, batch %d, best of 3): %.4f s per image (image tower),"
        + " %.5f s per prompt (text tower), forward; %.1f GFLOP/s achieved on the image tower here; H100 estimate ="
        + " this machine's estimate × %.2e (%.1f GFLOP/s here ÷ (67 TFLOP/s H100 SXM FP32 peak, NVIDIA datasheet,"
        + " × 50%% assumed utilisation)), a derived figure, not a measurement", model, batch, imageSeconds,
        textSeconds, cpuFlopsPerSecond / 1e9, h100Ratio(), cpuFlopsPerSecond / 1e9);
  }

  /**
   * Forward FLOPs of one image (2 per multiply-add): per layer and token 12·w² multiply-adds (QKV 3w², output w², MLP
   * 2·w·mlp) and 2·n²·w for the attention scores and their weighted sum, n = grid² + 1 tokens; plus the patch
   * embedding (n−1)·3·p²·w.
   */
  static double imageFlops(ClipConfig c) {
    double w = c.visionWidth();
    double n = (double) c.grid() * c.grid() + 1;
    double mlp = c.vision().mlpWidth();
    double perLayer = n * (4 * w * w + 2 * w * mlp) + 2 * n * n * w;
    double patches = (n - 1) * 3.0 * c.visionPatchSize() * c.visionPatchSize() * w;
    return 2 * (c.visionLayers() * perLayer + patches);
  }

  private static Tensor tokens(ClipConfig c, int batch) {
    int ctx = c.contextLength();
    long[] ids = new long[batch * ctx];
    for (int b = 0; b < batch; b++) {
      ids[b * ctx] = c.vocabSize() - 2;  // start
      int end = Math.min(ctx - 1, 9);
      for (int i = 1; i < end; i++) ids[b * ctx + i] = 1 + i;
      ids[b * ctx + end] = c.vocabSize() - 1;  // end (the argmax)
    }
    return Tensor.create(ids, batch, ctx);
  }

  private static double best(java.util.function.Supplier<Tensor> input, java.util.function.Function<Tensor, Tensor> f) {
    double best = Double.POSITIVE_INFINITY;
    try (InferenceMode g = new InferenceMode()) {
      for (int i = 0; i < 4; i++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor x = input.get();
          long t0 = System.nanoTime();
          f.apply(x).sum().item_double();
          double s = (System.nanoTime() - t0) / 1e9;
          if (i > 0) best = Math.min(best, s);  // the first is a warm-up
        }
      }
    }
    return best;
  }
}
